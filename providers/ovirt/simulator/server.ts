// The oVirt engine simulator's HTTP server under /ovirt-engine/api: SSO, Bearer and Basic auth,
// JSON and XML, faults, latency, request counters and the /_sim admin endpoints. The routes of
// each collection are in routes/ (registered in routes/index.ts), the engine's behaviour in
// engine.ts, the representations in views/.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestCounter, seededRandom } from '../../simulator-kit.ts';
import { Engine } from './engine.ts';
import { closeDisplays, ViewerFile } from './engine/consoles.ts';
import { Fault } from './faults.ts';
import { linkTargets } from './links.ts';
import { seedEngine, type EngineState } from './model.ts';
import { jsonPieces, jsonText, parseBody, toXml, type Tree } from './representation.ts';
import { ROUTES } from './routes/index.ts';
import type { RouteResult } from './routes/route.ts';
import { searchOptions } from './routes/search-options.ts';
import { applySearch, engineErrorText, parseSearch, SearchSyntaxError, type ParsedSearch } from './search.ts';
import { SCHEMAS } from './search-fields.ts';
import { API, Follow, link, productInfo } from './views/common.ts';

/** Collections longer than this are streamed (chunked), as an engine does with its large lists. */
const STREAM_FROM = 200;
const collectionSize = (v: unknown): number => {
  const items = v && typeof v === 'object' && !Array.isArray(v) ? Object.values(v) : [];
  return items.length === 1 && Array.isArray(items[0]) ? items[0].length : 0;
};

export interface OvirtFaults {
  /** Share of API requests answered 503 (transient). */
  errorShare?: number;
  /** Share of writes refused 409 as if the VM were locked. */
  lockShare?: number;
}

export interface OvirtSimulatorOptions {
  name?: string;
  port?: number;
  hosts?: number;
  templates?: string[];
  username?: string;
  password?: string;
  tokenLifetimeMs?: number;
  latencyMs?: number;
  jitterMs?: number;
  faults?: OvirtFaults;
  seed?: number;
  imageCopyMs?: number;
  bootStepMs?: number;
  migrateMs?: number;
  diskResizeMs?: number;
}

export class OvirtSimulator {
  readonly engine: Engine;
  readonly username: string;
  readonly password: string;
  faults: OvirtFaults;
  private readonly tokens = new Map<string, number>();
  private readonly counters = new RequestCounter();
  private readonly random: () => number;
  private server: Server | undefined;
  private readonly o: OvirtSimulatorOptions;

  constructor(options: OvirtSimulatorOptions = {}) {
    this.o = options;
    this.engine = new Engine(seedEngine({ name: options.name ?? 'engine', hosts: options.hosts ?? 2, templates: options.templates ?? ['centos-9'] }), {
      imageCopyMs: options.imageCopyMs ?? 300,
      bootStepMs: options.bootStepMs ?? 100,
      migrateMs: options.migrateMs ?? 300,
      diskResizeMs: options.diskResizeMs ?? 100,
    });
    this.username = options.username ?? 'admin@internal';
    this.password = options.password ?? randomBytes(9).toString('base64url');
    this.faults = options.faults ?? {};
    this.random = seededRandom(options.seed ?? 7);
  }

  async listen(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    // `Expect: 201-created` is the engine's synchronous mode, not an HTTP continue request.
    this.server.on('checkExpectation', (req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server?.listen(this.o.port ?? 0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${API}`;
  }

  async close(): Promise<void> {
    this.engine.stop();
    await closeDisplays(this.engine);
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  stats(): Record<string, number> {
    return this.counters.stats();
  }

  resetStats(): void {
    this.counters.reset();
  }
  /** Expires every token now (tests of re-login). */
  expireTokens(): void {
    for (const k of this.tokens.keys()) this.tokens.set(k, 0);
  }

  private count(key: string): void {
    this.counters.count(key);
  }

  private send(req: IncomingMessage, res: ServerResponse, status: number, root: string, value: unknown): void {
    if (value instanceof ViewerFile) {
      res.writeHead(status, { 'content-type': value.contentType, 'content-length': Buffer.byteLength(value.text) }).end(value.text);
      return;
    }
    const xml = !(req.headers.accept ?? '').includes('json');
    if (status === 404 && value === undefined) {
      res.writeHead(404, { 'content-length': 0 }).end();
      return;
    }
    if (!xml && status === 200 && collectionSize(value) > STREAM_FROM) return void this.stream(res, value);
    const text = xml ? toXml(root, value) : jsonText(value);
    res.writeHead(status, { 'content-type': xml ? 'application/xml;charset=UTF-8' : 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  /** A large JSON collection, chunked, a batch of items a turn: other requests and the client go on meanwhile. */
  private async stream(res: ServerResponse, value: unknown): Promise<void> {
    res.writeHead(200, { 'content-type': 'application/json' });
    for (const piece of jsonPieces(value)) {
      if (!res.write(piece)) await new Promise((r) => res.once('drain', r));
      else await new Promise((r) => setImmediate(r));
      if (res.destroyed) return;
    }
    res.end();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://sim');
    try {
      if (url.pathname.startsWith('/_sim/')) return this.admin(req, res, url, text);
      if (url.pathname === '/ovirt-engine/sso/oauth/token') return this.sso(res, text);
      if (url.pathname === '/ovirt-engine/services/sso-logout') {
        // The token comes in the query or the form body; the answer is JSON, as the SDKs check.
        this.tokens.delete(url.searchParams.get('token') ?? new URLSearchParams(text).get('token') ?? '');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      const lat = (this.o.latencyMs ?? 0) + (this.o.jitterMs ? this.random() * this.o.jitterMs : 0);
      if (lat > 0) await new Promise((r) => setTimeout(r, lat));
      if (!url.pathname.startsWith(API)) return this.send(req, res, 404, 'fault', undefined);
      if (!this.authorized(req)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="RESTAPI"', 'content-type': 'text/html' }).end('<html><head><title>Error</title></head><body>Unauthorized</body></html>');
        return;
      }
      const method = req.method ?? 'GET';
      const path = url.pathname.slice(API.length).replace(/\/+$/, '');
      const pattern = path.replace(/\/[0-9a-f-]{36}(?=\/|$)/g, '/{id}');
      this.count(`${method} ${pattern || '/'}`);
      if (this.random() < (this.faults.errorShare ?? 0)) throw new Fault(503, 'Service Unavailable', 'The engine is busy');
      if (method !== 'GET' && /^\/vms\/\{id\}/.test(pattern) && this.random() < (this.faults.lockShare ?? 0))
        throw new Fault(409, 'Operation Failed', '[Cannot edit VM. Related operation is currently in progress. Please try again later.]');
      const body = parseBody(text, req.headers['content-type']);
      const [status, root, value] = await this.route(method, path, url.searchParams, body, req);
      return this.send(req, res, status, root, value);
    } catch (e) {
      if (e instanceof Fault) {
        if (e.status === 404) return this.send(req, res, 404, 'fault', undefined);
        return this.send(req, res, e.status, 'fault', { reason: e.reason, detail: e.message });
      }
      return this.send(req, res, 500, 'fault', { reason: 'Operation Failed', detail: (e as Error).message });
    }
  }

  /** What the engine logs (engine.log), the lines a client never sees: a search it could not parse. */
  readonly log: string[] = [];

  /**
   * The search of a list request, parsed; undefined when it does not parse. As the engine: such a
   * search answers 200 with nothing in it, and the reason goes to the engine's log only.
   */
  private parse(collection: string, q: URLSearchParams): ParsedSearch | undefined {
    const text = q.get('search') ?? '';
    const max = searchOptions(q).max;
    if (max !== undefined && max < 0) throw new Fault(400, 'Operation Failed', `Illegal max count value for query : ${max}`);
    try {
      return parseSearch(text, SCHEMAS[collection] ?? { object: collection, fields: {} });
    } catch (e) {
      if (!(e instanceof SearchSyntaxError)) throw e;
      const full = `${SCHEMAS[collection]?.object ?? collection}:${text}`;
      const shifted = new SearchSyntaxError(e.code, e.start + full.length - text.length, e.end + full.length - text.length);
      this.log.push(
        e.code === 'INVALID'
          ? `WARN ResourceManager::searchBusinessObjects - Invalid search text - '${full}'`
          : `INFO ResourceManager::searchBusinessObjects - erroneous search text - '${full}' error - '${engineErrorText(full, shifted)}'`,
      );
      if (this.log.length > 1000) this.log.splice(0, this.log.length - 1000);
      return undefined;
    }
  }

  private sso(res: ServerResponse, text: string): void {
    const p = new URLSearchParams(text);
    const reply = (status: number, body: object) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (!p.get('scope')) return void reply(400, { error_code: 'invalid_request', error: "The required parameter 'scope' is missing." });
    if (p.get('grant_type') !== 'password') return void reply(400, { error_code: 'unsupported_grant_type', error: 'The grant type is not supported.' });
    if (p.get('username') !== this.username || p.get('password') !== this.password) {
      return void reply(400, { error_code: 'access_denied', error: `Cannot authenticate user '${p.get('username')}': The username or password is incorrect..` });
    }
    const token = randomBytes(32).toString('base64url');
    const exp = Date.now() + (this.o.tokenLifetimeMs ?? 3600_000);
    this.tokens.set(token, exp);
    reply(200, { access_token: token, scope: p.get('scope') === 'ovirt-app-api' ? 'ovirt-app-api ovirt-ext=token-info:authz-search' : '', exp: String(exp), token_type: 'bearer' });
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    if (h.startsWith('Bearer ')) return (this.tokens.get(h.slice(7)) ?? 0) > Date.now();
    if (h.startsWith('Basic ')) {
      const [u, ...rest] = Buffer.from(h.slice(6), 'base64').toString('utf8').split(':');
      return u === this.username && rest.join(':') === this.password;
    }
    return false;
  }

  private async route(method: string, path: string, q: URLSearchParams, body: Tree, req: IncomingMessage): Promise<RouteResult> {
    const s = this.engine.state;
    const seg = path.split('/').filter(Boolean);
    if (!seg[0])
      return [
        200,
        'api',
        {
          product_info: productInfo,
          special_objects: { blank_template: link('templates', '00000000-0000-0000-0000-000000000000') },
          summary: { vms: { total: s.vms.length, active: s.vms.filter((v) => v.status === 'up').length }, hosts: { total: s.hosts.length, active: s.hosts.length } },
          time: Date.now(),
        },
      ];
    const links = linkTargets(this.engine, method, seg, (key) => ROUTES.modelled(key));
    if (links) return links;
    const follow = new Follow(
      (q.get('follow') ?? '')
        .split(',')
        .flatMap((f) => {
          const parts = f.trim().split('.');
          return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
        })
        .filter(Boolean),
    );
    const parse = (collection: string) => this.parse(collection, q);
    return ROUTES.dispatch({
      engine: this.engine,
      state: s,
      method,
      seg,
      oid: seg[1],
      sub: seg[2],
      sid: seg[3],
      q,
      body,
      req,
      follow,
      correlation: q.get('correlation_id') ?? undefined,
      parse,
      page: (collection, items, record) => {
        const parsed = parse(collection);
        return parsed ? applySearch(items, record, SCHEMAS[collection] ?? { object: collection, fields: {} }, parsed, searchOptions(q)) : [];
      },
    });
  }

  private admin(req: IncomingMessage, res: ServerResponse, url: URL, text: string): void {
    const json = (v: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /_sim/stats':
        return void json(this.stats());
      case 'POST /_sim/reset-stats':
        this.resetStats();
        return void json({});
      case 'GET /_sim/state':
        return void json(this.engine.state);
      case 'GET /_sim/log':
        return void json(this.log);
      case 'PUT /_sim/state':
        this.engine.state = JSON.parse(text) as EngineState;
        return void json({});
      case 'POST /_sim/faults':
        this.faults = JSON.parse(text || '{}') as OvirtFaults;
        return void json(this.faults);
      default:
        res.writeHead(404).end();
    }
  }
}
