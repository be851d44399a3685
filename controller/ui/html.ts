// Server-side HTML: every interpolated value is escaped unless it is already Html. No inline
// script or style anywhere (the CSP forbids both): the page's script and style are files.
export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

type Part = Html | string | number | undefined | null | false | readonly Part[];

const render = (p: Part): string => {
  if (p === undefined || p === null || p === false) return '';
  if (p instanceof Html) return p.text;
  if (Array.isArray(p)) return p.map(render).join('');
  return escapeHtml(String(p));
};

/** A tagged template: `html\`<td>${name}</td>\`` escapes name. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

export const raw = (s: string): Html => new Html(s);

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export const percent = (r: number | undefined): string => (r === undefined ? '–' : `${(r * 100).toFixed(1)} %`);

/** A query string from the non-empty entries. */
export function queryString(q: Readonly<Record<string, string | number | undefined>>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export interface LayoutOptions {
  title: string;
  active?: 'inventory' | 'nodes' | 'requests' | 'events';
  /** Shown when intake is on. */
  intake: boolean;
  /** When someone logged in with the token (a logout button then). */
  csrf?: string;
  loggedIn?: boolean;
}

export function layout(o: LayoutOptions, body: Html): string {
  const link = (href: string, id: LayoutOptions['active'], label: string) => html`<a href="${href}"${id === o.active ? raw(' class="active"') : ''}>${label}</a>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · virtkeeper</title><link rel="stylesheet" href="/static/ui.css"><script src="/static/ui.js" defer></script></head>
<body><header><strong>virtkeeper</strong> <nav>${link('/', 'inventory', 'Inventory')} ${link('/nodes', 'nodes', 'Nodes')} ${link('/events', 'events', 'Events')} ${o.intake ? link('/requests', 'requests', 'Requests') : ''}</nav>
${o.loggedIn && o.csrf ? html`<form method="post" action="/logout" class="logout"><input type="hidden" name="_csrf" value="${o.csrf}"><button>Log out</button></form>` : ''}</header>
<main>${body}</main></body></html>`.text;
}
