// Who may see the page and post to it. Loopback without a token: no login, but the Host header
// must be a loopback name (no DNS rebinding). Any other address: a token (bearer for the API,
// a login form setting an HttpOnly SameSite=Strict cookie for the page). Every POST carries a
// CSRF token bound to the session, or comes from no browser at all (a bearer token, or curl on
// loopback: browsers always send Origin or Sec-Fetch-Site on a POST).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VkError } from '../core/errors.ts';

export class UiTokenRequiredError extends VkError {
  override readonly code = 'VK_UI_TOKEN_REQUIRED';
  override readonly kind = 'invalid';
}

export class UiAddressError extends VkError {
  override readonly code = 'VK_UI_ADDRESS';
  override readonly kind = 'invalid';
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** `127.0.0.1:8090`, `:8090`, `8090`, `[::1]:8090` → host and port (the host defaults to loopback). */
export function parseListen(addr: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(addr.trim());
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new UiAddressError(`--ui ${JSON.stringify(addr)}: expected HOST:PORT or PORT, e.g. 127.0.0.1:8090`);
  return { host: (m[1] || '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}

/** The listener's rule: a non-loopback address without a token is refused before it opens. */
export function checkExposure(host: string, token: string | undefined): void {
  if (!isLoopback(host) && !token)
    throw new UiTokenRequiredError(`the inventory on ${host} would be open to the network: pass --ui-token-file FILE (a file holding a long random token), or listen on 127.0.0.1`);
}

const SESSION = 'vk_session';
const ANON = 'vk_anon';
const SESSION_MS = 12 * 3_600_000;

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

export interface Guard {
  /** The CSRF token of this request's session (creating an anonymous session when there is none). */
  csrfFor(req: FastifyRequest, reply: FastifyReply): string;
  loggedIn(req: FastifyRequest): boolean;
  tokenRequired: boolean;
}

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export function installGuard(app: FastifyInstance, o: { token?: string; loopback: boolean; now: () => number }): Guard {
  const key = randomBytes(32);
  const sessions = new Map<string, number>();
  const anonOf = new WeakMap<FastifyRequest, string>();
  const csrfOf = (sid: string) => createHmac('sha256', key).update(`csrf:${sid}`).digest('base64url');
  const sessionOf = (req: FastifyRequest): string | undefined => {
    const sid = req.cookies[SESSION];
    const until = sid ? sessions.get(sid) : undefined;
    return sid && until && until > o.now() ? sid : undefined;
  };
  const bearer = (req: FastifyRequest) => {
    const h = req.headers.authorization;
    return !!o.token && typeof h === 'string' && h.startsWith('Bearer ') && same(h.slice(7).trim(), o.token);
  };
  const cookieOpts = (req: FastifyRequest) => ({ path: '/', httpOnly: true, sameSite: 'strict' as const, secure: req.protocol === 'https' });
  const isPublic = (url: string) => url.startsWith('/static/') || url === '/login' || url.startsWith('/login?') || url === '/healthz';

  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    return payload;
  });

  app.addHook('onRequest', async (req, reply) => {
    if (o.loopback && !isLoopback((req.headers.host ?? '').replace(/:\d+$/, ''))) {
      return reply.code(421).type('text/plain').send('This inventory answers to loopback names only (127.0.0.1, localhost).');
    }
    const api = req.url.startsWith('/api/');
    if (o.token && !isPublic(req.url) && !bearer(req) && !sessionOf(req)) {
      if (api)
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ error: { code: 'VK_UI_UNAUTHORIZED', message: 'send Authorization: Bearer <token from --ui-token-file>' } });
      return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
    }
  });

  // CSRF runs after the body is parsed (the form field may be in a multipart body).
  app.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'POST') return;
    if (req.url === '/login') return; // the token itself is the proof; SameSite keeps the cookie ours
    const fromBrowser = req.headers.origin !== undefined || (req.headers['sec-fetch-site'] !== undefined && req.headers['sec-fetch-site'] !== 'none');
    if (bearer(req) || (!fromBrowser && !o.token && !req.cookies[SESSION] && !req.cookies[ANON])) return;
    const sid = sessionOf(req) ?? req.cookies[ANON];
    const body = req.body as Record<string, unknown> | undefined;
    // A form field, or a multipart field ({value}) from @fastify/multipart.
    const field = body?._csrf;
    const sent = req.headers['x-csrf-token'] ?? (typeof field === 'string' ? field : field && typeof field === 'object' && 'value' in field ? (field as { value: unknown }).value : undefined);
    if (!sid || typeof sent !== 'string' || !same(sent, csrfOf(sid))) {
      return reply.code(403).type('text/plain').send('CSRF check failed: reload the page and submit the form again.');
    }
  });

  app.get('/login', async (req, reply) => {
    const next = typeof (req.query as { next?: unknown }).next === 'string' ? (req.query as { next: string }).next : '/';
    return reply.type('text/html').send(loginHtml(next, false));
  });
  app.post('/login', async (req, reply) => {
    const body = (req.body ?? {}) as { token?: unknown; next?: unknown };
    // Only a path of this site: not `//host` nor `/\\host` (which browsers read as another host).
    const next = typeof body.next === 'string' && /^\/(?![/\\])/.test(body.next) ? body.next : '/';
    if (!o.token || typeof body.token !== 'string' || !same(body.token.trim(), o.token)) return reply.code(401).type('text/html').send(loginHtml(next, true));
    const sid = randomBytes(24).toString('base64url');
    sessions.set(sid, o.now() + SESSION_MS);
    return reply.setCookie(SESSION, sid, { ...cookieOpts(req), maxAge: SESSION_MS / 1000 }).redirect(next, 303);
  });
  app.post('/logout', async (req, reply) => {
    const sid = sessionOf(req);
    if (sid) sessions.delete(sid);
    return reply.clearCookie(SESSION, { path: '/' }).redirect('/login', 303);
  });

  return {
    tokenRequired: !!o.token,
    loggedIn: (req) => !!sessionOf(req),
    csrfFor: (req, reply) => {
      const sid = sessionOf(req);
      if (sid) return csrfOf(sid);
      // One anonymous session per request, however many forms the page holds.
      let anon = anonOf.get(req) ?? req.cookies[ANON];
      if (!anon || !/^[\w-]{20,}$/.test(anon)) {
        anon = randomBytes(24).toString('base64url');
        reply.setCookie(ANON, anon, cookieOpts(req));
      }
      anonOf.set(req, anon);
      return csrfOf(anon);
    },
  };
}

function loginHtml(next: string, failed: boolean): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in · virtkeeper</title><link rel="stylesheet" href="/static/ui.css"></head>
<body><main class="login"><h1>virtkeeper inventory</h1>${failed ? '<p class="error">That token is not the one in --ui-token-file.</p>' : ''}
<form method="post" action="/login"><input type="hidden" name="next" value="${esc(next)}"><label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label> <button>Log in</button></form></main></body></html>`;
}
