// The inventory's HTTP server (fastify): the pages, the JSON API and the request intake, all
// served from the feed (the controller's own observation), never from a hypervisor call.
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AnyResource } from '../api/types.ts';
import { isVkError } from '../core/errors.ts';
import { UI_CSS, UI_JS } from './assets.ts';
import type { InventoryFeed } from './feed.ts';
import { type Html, layout, type LayoutOptions } from './html.ts';
import { acceptRequest, IntakeError, type IntakeContext, type IntakeRequest, type IntakeSink, MAX_UPLOAD_BYTES, prepareRequest } from './intake.ts';
import { findVM, matches, parseFilter, sortVMs } from './inventory.ts';
import { OPENAPI } from './openapi.ts';
import { eventRows, inventoryPage, nodesPage, parseListQuery } from './pages-inventory.ts';
import { manifestsText, requestPage, uploadForm } from './pages-intake.ts';
import { vmPage } from './pages-vm.ts';
import { checkExposure, type Guard, installGuard, isLoopback, parseListen } from './security.ts';

export interface UiServerOptions {
  /** HOST:PORT (PORT alone: 127.0.0.1); port 0 picks one. */
  listen: string;
  /** Required off loopback. */
  token?: string;
  feed: InventoryFeed;
  now: () => number;
  /** Request intake; absent: read-only. */
  intake?: { sink: IntakeSink; declared: () => readonly AnyResource[]; conventions: IntakeContext['conventions'] };
  /** The usage window the VM page charts (default one hour). */
  windowMs?: number;
}

export interface UiServer {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

interface FilePart {
  type: 'file';
  filename: string;
  toBuffer(): Promise<Buffer>;
}

const isFile = (x: unknown): x is FilePart => !!x && typeof x === 'object' && (x as { type?: unknown }).type === 'file';
const fieldValue = (x: unknown): string | undefined => (x && typeof x === 'object' && typeof (x as { value?: unknown }).value === 'string' ? (x as { value: string }).value : undefined);

export async function startUiServer(o: UiServerOptions): Promise<UiServer> {
  const { host, port } = parseListen(o.listen);
  checkExposure(host, o.token);
  const app = Fastify({ logger: false, bodyLimit: MAX_UPLOAD_BYTES + 64 * 1024 });
  await app.register(cookie);
  await app.register(formbody);
  await app.register(multipart, { attachFieldsToBody: true, limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 10 } });
  const guard: Guard = installGuard(app, { ...(o.token ? { token: o.token } : {}), loopback: isLoopback(host), now: o.now });
  const windowMs = o.windowMs ?? 3_600_000;
  const pending = new Map<string, IntakeRequest>();
  const keep = (r: IntakeRequest) => {
    pending.set(r.id, r);
    while (pending.size > 100) pending.delete(pending.keys().next().value as string);
  };

  const page = (req: FastifyRequest, reply: FastifyReply, lo: Omit<LayoutOptions, 'intake'>, body: Html) =>
    reply.type('text/html; charset=utf-8').send(layout({ ...lo, intake: !!o.intake, csrf: guard.csrfFor(req, reply), loggedIn: guard.loggedIn(req) }, body));

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    const tooLarge = err.code === 'FST_REQ_FILE_TOO_LARGE' || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413;
    const status = tooLarge ? 413 : err instanceof IntakeError ? (err.code === 'VK_UI_INTAKE_FORBIDDEN' ? 403 : 400) : (err.statusCode ?? 500);
    const code = tooLarge ? 'VK_UI_UPLOAD_TOO_LARGE' : isVkError(err) ? err.code : status < 500 ? 'VK_UI_BAD_REQUEST' : 'VK_UI_INTERNAL';
    const message = tooLarge
      ? `the upload is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MiB: split the request`
      : status < 500 || isVkError(err)
        ? err.message
        : 'internal error; see the controller log';
    if (req.url.startsWith('/api/')) return reply.code(status).send({ error: { code, message } });
    if (req.url.startsWith('/requests') && o.intake) return page(req, reply.code(status), { title: 'Requests', active: 'requests' }, uploadForm(guard.csrfFor(req, reply), message));
    return reply.code(status).type('text/plain').send(message);
  });

  app.get('/static/ui.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=300').send(UI_CSS));
  app.get('/static/ui.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(UI_JS));
  app.get('/healthz', async (_req, reply) => reply.type('text/plain').send('ok'));

  // ---- pages ----
  app.get('/', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const { body } = inventoryPage(o.feed.current(), parseListQuery(q, parseFilter(q)));
    return page(req, reply, { title: 'Inventory', active: 'inventory' }, body);
  });
  app.get('/nodes', async (req, reply) => page(req, reply, { title: 'Nodes', active: 'nodes' }, nodesPage(o.feed.current())));
  app.get('/events', async (req, reply) => page(req, reply, { title: 'Events', active: 'events' }, eventRows(o.feed.recentEvents({ limit: 300 }))));
  app.get<{ Params: { hypervisor: string; name: string } }>('/vms/:hypervisor/:name', async (req, reply) => {
    const vm = findVM(o.feed.current(), req.params.hypervisor, req.params.name);
    if (!vm) return reply.code(404).type('text/plain').send(`no VM ${req.params.name} on ${req.params.hypervisor} in the last observation`);
    const record = vm.owner ? o.feed.record(vm.owner.key) : undefined;
    const body = vmPage({
      vm,
      ...(record ? { record } : {}),
      events: vm.owner ? o.feed.recentEvents({ key: vm.owner.key, limit: 50 }) : [],
      samples: o.feed.history.samples(vm.hypervisor, vm.providerID),
      now: o.now(),
      windowMs,
    });
    return page(req, reply, { title: vm.name, active: 'inventory' }, body);
  });

  // ---- JSON API ----
  app.get('/api/v1/openapi.json', async () => OPENAPI);
  app.get('/api/v1/vms', async (req) => {
    const f = parseFilter(req.query as Record<string, unknown>);
    const items = sortVMs(
      o.feed.current().vms.filter((v) => matches(v, f)),
      'hypervisor',
      false,
    );
    return { items, total: items.length };
  });
  app.get<{ Params: { hypervisor: string; name: string } }>('/api/v1/vms/:hypervisor/:name', async (req, reply) => {
    const vm = findVM(o.feed.current(), req.params.hypervisor, req.params.name);
    if (!vm) return reply.code(404).send({ error: { code: 'VK_UI_NOT_FOUND', message: `no VM ${req.params.name} on ${req.params.hypervisor} in the last observation` } });
    const status = vm.owner ? o.feed.record(vm.owner.key)?.status : undefined;
    const samples = o.feed.history.samples(vm.hypervisor, vm.providerID).map((s) => ({ ...s, at: new Date(s.at).toISOString() }));
    return { vm, samples, ...(status ? { status } : {}) };
  });
  app.get('/api/v1/hypervisors', async () => ({
    items: o.feed.current().hypervisors.map(({ observedAt, ...h }) => ({ ...h, ...(observedAt !== undefined ? { observedAt: new Date(observedAt).toISOString() } : {}) })),
  }));
  app.get('/api/v1/events', async (req) => {
    const key = (req.query as { key?: unknown }).key;
    return { items: o.feed.recentEvents({ ...(typeof key === 'string' ? { key } : {}), limit: 500 }).map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
  });

  // ---- intake ----
  const upload = async (req: FastifyRequest) => {
    if (!o.intake) throw new IntakeError('request intake is off (--ui-read-only)');
    if (!req.isMultipart()) throw new IntakeError('send the request as multipart/form-data with the file in the field jsonfile (curl -F jsonfile=@request.json)');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const file = body.jsonfile;
    if (!isFile(file)) throw new IntakeError('no file in the field jsonfile: attach the request as jsonfile (curl -F jsonfile=@request.json)');
    const r = await prepareRequest({ filename: file.filename, data: await file.toBuffer() }, { declared: o.intake.declared(), inventory: o.feed.current(), conventions: o.intake.conventions });
    keep(r);
    return { r, accept: fieldValue(body.accept) === 'true' };
  };
  const intakeOff = (reply: FastifyReply) => reply.code(403).send({ error: { code: 'VK_UI_READ_ONLY', message: 'request intake is off (--ui-read-only)' } });

  app.post('/api/v1/requests', async (req, reply) => {
    if (!o.intake) return intakeOff(reply);
    const { r, accept } = await upload(req);
    const accepted = accept ? await acceptRequest(r, o.intake.sink) : undefined;
    if (accepted) pending.delete(r.id);
    return { id: r.id, ...(r.documentNumber ? { documentNumber: r.documentNumber } : {}), plan: r.plan, manifests: manifestsText(r), acceptable: r.acceptable, ...(accepted ? { accepted } : {}) };
  });
  if (o.intake) {
    const sink = o.intake.sink;
    app.get('/requests', async (req, reply) => page(req, reply, { title: 'Requests', active: 'requests' }, uploadForm(guard.csrfFor(req, reply))));
    app.post('/requests', async (req, reply) => {
      const { r } = await upload(req);
      return page(req, reply, { title: `Request ${r.documentNumber ?? r.id}`, active: 'requests' }, requestPage(r, guard.csrfFor(req, reply)));
    });
    app.post<{ Params: { id: string } }>('/requests/:id/accept', async (req, reply) => {
      const r = pending.get(req.params.id);
      if (!r) throw new IntakeError('this request is no longer held (accepted already, or the controller restarted): upload it again');
      const accepted = await acceptRequest(r, sink);
      pending.delete(r.id);
      return page(req, reply, { title: `Request ${r.documentNumber ?? r.id}`, active: 'requests' }, requestPage(r, guard.csrfFor(req, reply), accepted));
    });
  }

  await app.listen({ host, port });
  const addr = app.server.address();
  const boundPort = addr && typeof addr === 'object' ? addr.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return { url: `http://${shownHost}:${boundPort}/`, app, close: () => app.close() };
}
