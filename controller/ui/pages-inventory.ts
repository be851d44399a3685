// The inventory page (filters in the URL, sortable columns, pages of VMs), the nodes page (load
// bars and the VMs on each node) and the events page.
import { countPerHypervisor, type Inventory, type InventoryVM, matches, sortVMs, SORT_KEYS, type SortKey, type VMFilter } from './inventory.ts';
import type { TimedEvent } from './feed.ts';
import { formatBytes, html, type Html, percent, queryString, raw } from './html.ts';

export const PAGE_SIZE = 100;

export interface ListQuery {
  filter: VMFilter;
  sort: SortKey;
  desc: boolean;
  page: number;
}

export function parseListQuery(q: Readonly<Record<string, unknown>>, filter: VMFilter): ListQuery {
  const sort = SORT_KEYS.includes(q.sort as SortKey) ? (q.sort as SortKey) : 'hypervisor';
  const page = Math.max(1, Math.floor(Number(q.page) || 1));
  return { filter, sort, desc: q.desc === '1', page };
}

export const vmHref = (v: { hypervisor: string; name: string }) => `/vms/${encodeURIComponent(v.hypervisor)}/${encodeURIComponent(v.name)}`;

const options = (name: string, values: readonly string[], selected: string | undefined, label: string): Html =>
  html`<label>${label} <select name="${name}" data-autosubmit><option value="">all</option>${values.map(
    (v) => html`<option value="${v}"${v === selected ? raw(' selected') : ''}>${v}</option>`,
  )}</select></label>`;

const distinct = (xs: (string | undefined)[]) => [...new Set(xs.filter((x): x is string => !!x))].sort();

function filterForm(inv: Inventory, q: ListQuery): Html {
  const f = q.filter;
  return html`<form method="get" action="/" class="filters" id="filters">
${options('hypervisor', distinct(inv.hypervisors.map((h) => h.name)), f.hypervisor, 'Hypervisor')}
${options('type', distinct(inv.hypervisors.map((h) => h.type)), f.type, 'Type')}
${options('node', distinct(inv.vms.filter((v) => !f.hypervisor || v.hypervisor === f.hypervisor).map((v) => v.node)), f.node, 'Node')}
${options('state', distinct(inv.vms.map((v) => v.state)), f.state, 'State')}
${options('managed', ['true', 'false'], f.managed, 'Managed')}
${options('namespace', distinct(inv.vms.map((v) => (v.owner ? (v.owner.namespace ?? 'default') : undefined))), f.namespace, 'Owner namespace')}
<label>Search <input type="search" name="q" value="${f.q ?? ''}" placeholder="name, IP or owner"></label>
<input type="hidden" name="sort" value="${q.sort}">${q.desc ? html`<input type="hidden" name="desc" value="1">` : ''}
<button type="submit">Filter</button> <a href="/">clear</a></form>`;
}

/** `in / out` per second, or a dash when the hypervisor gave no counters. */
const rate = (a: number | undefined, b: number | undefined): string => (a === undefined && b === undefined ? '–' : `${formatBytes(a ?? 0)}/s ⇅ ${formatBytes(b ?? 0)}/s`);

const planClass = (p: string) => `plan-${p.replace(/ /g, '-')}`;

function row(v: InventoryVM): Html {
  const place = [v.datacenter, v.cluster].filter(Boolean).join(' / ');
  return html`<tr><td>${v.hypervisor}</td><td>${v.type}</td><td>${place || '–'}</td><td>${v.node ?? '–'}</td><td><a href="${vmHref(v)}">${v.name}</a></td><td class="state-${v.state}">${v.state}</td>
<td class="num">${v.vcpus}</td><td class="num">${formatBytes(v.memoryBytes)}</td><td class="num">${formatBytes(v.diskBytes)}</td><td>${v.ips.join(', ')}</td>
<td>${v.owner ? `${v.owner.namespace ?? 'default'}/${v.owner.name}` : html`<span class="muted">unmanaged</span>`}</td><td class="${planClass(v.plan)}">${v.plan}</td>
<td class="num">${percent(v.usage?.cpuRatio)}</td><td class="num">${formatBytes(v.usage?.memoryUsedBytes)}</td><td class="num">${rate(v.throughput?.diskReadBps, v.throughput?.diskWriteBps)}</td><td class="num">${rate(
    v.throughput?.networkReceiveBps,
    v.throughput?.networkTransmitBps,
  )}</td></tr>`;
}

export function inventoryPage(inv: Inventory, q: ListQuery): { body: Html; shown: InventoryVM[]; total: number } {
  const kept = inv.vms.filter((v) => matches(v, q.filter));
  const sorted = sortVMs(kept, q.sort, q.desc);
  const pages = Math.max(1, Math.ceil(sorted.length / PAGE_SIZE));
  const page = Math.min(q.page, pages);
  const shown = sorted.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  const base = { ...q.filter, sort: q.sort, desc: q.desc ? 1 : undefined };
  const head = (key: SortKey | undefined, label: string) => {
    if (!key) return html`<th>${label}</th>`;
    const desc = q.sort === key && !q.desc;
    const arrow = q.sort === key ? (q.desc ? ' ▼' : ' ▲') : '';
    return html`<th><a href="${`/${queryString({ ...base, sort: key, desc: desc ? 1 : undefined })}`}">${label}${arrow}</a></th>`;
  };
  const counts = countPerHypervisor(kept);
  const countList = html`<ul class="counts">${inv.hypervisors.map(
    (h) =>
      html`<li><a href="${`/${queryString({ ...q.filter, hypervisor: h.name })}`}">${h.name}</a> <span class="type">${h.type}</span> <b data-hypervisor-count="${h.name}">${counts.get(h.name) ?? 0}</b>/${h.vmCount}${
        h.observedAt === undefined ? html` <span class="muted">not observed yet</span>` : ''
      }${h.unreachable.length ? html` <span class="warn">unreachable: ${h.unreachable.join(', ')}</span>` : ''}</li>`,
  )}</ul>`;
  const pager =
    pages > 1
      ? html`<nav class="pager">${page > 1 ? html`<a href="${`/${queryString({ ...base, page: page - 1 })}`}">← previous</a>` : ''} page ${page} of ${pages} ${
          page < pages ? html`<a href="${`/${queryString({ ...base, page: page + 1 })}`}">next →</a>` : ''
        }</nav>`
      : '';
  const body = html`<h1>Inventory</h1>${filterForm(inv, q)}${countList}
<p class="summary"><span id="vm-count">${kept.length}</span> of ${inv.vms.length} VMs${kept.length > PAGE_SIZE ? `, ${PAGE_SIZE} a page` : ''}</p>${pager}
<table class="vms" id="vms"><thead><tr>${head('hypervisor', 'Hypervisor')}${head(undefined, 'Type')}${head(undefined, 'DC / cluster')}${head('node', 'Node')}${head('name', 'Name')}${head('state', 'State')}${head('vcpus', 'vCPUs')}${head(
    'memory',
    'Memory',
  )}${head('disk', 'Disks')}${head(undefined, 'IPs')}${head('owner', 'Owner')}${head('plan', 'Plan')}${head('cpu', 'CPU')}${head(undefined, 'Mem used')}${head(undefined, 'Disk r ⇅ w')}${head(undefined, 'Net rx ⇅ tx')}</tr></thead>
<tbody>${shown.map(row)}</tbody></table>${pager}`;
  return { body, shown, total: kept.length };
}

/** A horizontal bar as SVG (its width is an attribute: the CSP allows no inline style). */
export function bar(ratio: number | undefined, label: string): Html {
  const r = Math.max(0, Math.min(1, ratio ?? 0));
  const cls = r > 0.9 ? 'hot' : r > 0.7 ? 'warm' : 'ok';
  return html`<span class="bar"><svg viewBox="0 0 100 10" width="160" height="12" role="img" aria-label="${label}"><rect class="track" width="100" height="10"/><rect class="fill ${cls}" width="${(r * 100).toFixed(1)}" height="10"/></svg> ${label}</span>`;
}

export function nodesPage(inv: Inventory): Html {
  return html`<h1>Nodes</h1>${inv.hypervisors.map((h) => {
    const vms = inv.vms.filter((v) => v.hypervisor === h.name);
    return html`<section class="hypervisor" data-hypervisor="${h.name}"><h2>${h.name} <span class="type">${h.type}</span>${h.datacenter ? ` · ${h.datacenter}` : ''}${h.cluster ? ` · ${h.cluster}` : ''}</h2>
${h.nodes.length === 0 ? html`<p class="muted">no nodes observed yet</p>` : ''}
<table class="nodes"><thead><tr><th>Node</th><th>State</th><th>CPU</th><th>Memory</th><th>VMs</th></tr></thead><tbody>${h.nodes.map((n) => {
      const mine = vms.filter((v) => v.node === n.name);
      const mem = n.memoryBytes ? (n.memoryUsedBytes ?? 0) / n.memoryBytes : undefined;
      return html`<tr data-node="${n.name}"><td>${n.name}</td><td>${n.state}</td><td>${bar(n.cpuUsage, `${percent(n.cpuUsage)} of ${n.cpus ?? '?'} CPUs`)}</td>
<td>${bar(mem, `${formatBytes(n.memoryUsedBytes)} of ${formatBytes(n.memoryBytes)}`)}</td><td>${mine.length}: ${mine.map((v, i) => html`${i ? ', ' : ''}<a href="${vmHref(v)}">${v.name}</a>`)}</td></tr>`;
    })}</tbody></table></section>`;
  })}`;
}

export function eventRows(events: readonly TimedEvent[]): Html {
  if (events.length === 0) return html`<p class="muted">no events yet</p>`;
  return html`<table class="events"><thead><tr><th>Time</th><th>Resource</th><th>Type</th><th>What</th></tr></thead><tbody>${events.map((e) => {
    const what =
      e.type === 'action'
        ? `${e.action} ${e.phase}: ${e.summary}${e.message ? ` (${e.message})` : ''}`
        : e.type === 'progress'
          ? `${e.action} ${e.percent ?? ''}% ${e.message ?? ''}`
          : e.type === 'status'
            ? `${e.phase ?? ''} ${e.ready ?? ''} ${e.message ?? ''}`
            : `${e.code}: ${e.message}`;
    return html`<tr class="event-${e.type}"><td>${new Date(e.at).toISOString()}</td><td>${e.key}</td><td>${e.type}</td><td>${what}</td></tr>`;
  })}</tbody></table>`;
}
