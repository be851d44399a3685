// The simulator's HTTP server: auth, the /api2/json envelope, parameter checks, latency,
// faults and request counters, plus /_sim admin endpoints (stats, faults, state dump/load).
import { RequestCounter, seededRandom } from '../../simulator-kit.ts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Auth } from './auth.ts';
import { clusterRoutes } from './cluster.ts';
import { checkParams, compile, PveError, type Params, type Route } from './http.ts';
import { seedState, type SimState } from './model.ts';
import { storageRoutes } from './storage.ts';
import { qemuRoutes } from './qemu.ts';
import { Tasks } from './tasks.ts';
import { snapshotRoutes } from './snapshots.ts';
import { ConsoleTickets, consoleRoutes } from './console.ts';

export interface Faults {
  /** Share (0..1) of requests answered `500 Internal Server Error`. */
  error500Share?: number;
  /** Share of writes to a guest refused with the config-lock timeout. */
  lockTimeoutShare?: number;
  /** Share of requests whose connection is dropped without an answer. */
  dropShare?: number;
  /**
   * Requests of a route (`POST /nodes/{node}/qemu/{vmid}/config`, as in stats) answered `500`
   * the next N times, nothing done: a controller that dies at that point, made repeatable.
   */
  fail?: Record<string, number>;
}

export interface ProxmoxSimulatorOptions {
  port?: number;
  nodes?: number;
  templates?: string[];
  latencyMs?: number;
  jitterMs?: number;
  faults?: Faults;
  seed?: number;
  /** Task durations by type (qmclone, qmcreate, qmstart, qmconfig, qmigrate, resize, qmdestroy…) and `default`. */
  taskDurations?: Record<string, number>;
  agentDelayMs?: number;
  username?: string;
  password?: string;
  ticketLifetimeMs?: number;
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 (as pveproxy does on 8006). */
  tls?: boolean;
  /** The clock of snapshot times, console ticket lifetimes and usage counters (ms; default Date.now). */
  clock?: () => number;
}

/** A throwaway self-signed certificate for 127.0.0.1/localhost, made with openssl. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vk-sim-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string, type: string | undefined): Params {
  if (!text) return {};
  if (type?.includes('application/json')) {
    const v = JSON.parse(text) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'boolean' ? (x ? '1' : '0') : String(x)]));
  }
  // A repeated key is an array parameter (the agent's `command`): kept NUL-separated.
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(text)) out[k] = k in out ? `${out[k]}\0${v}` : v;
  return out;
}

export class ProxmoxSimulator {
  state: SimState;
  readonly auth: Auth;
  readonly tasks: Tasks;
  readonly consoles: ConsoleTickets;
  faults: Faults;
  private readonly routes: { route: Route; re: RegExp; keys: string[] }[];
  private readonly counters = new RequestCounter();
  private readonly random: () => number;
  private server: Server | undefined;
  private readonly o: ProxmoxSimulatorOptions;
  /** The PEM certificate when serving HTTPS, for clients that verify. */
  certificate: string | undefined;

  constructor(options: ProxmoxSimulatorOptions = {}) {
    this.o = options;
    this.state = seedState({ nodes: options.nodes ?? 3, templates: options.templates ?? ['ubuntu-24.04'] });
    this.auth = new Auth({
      ...(options.username && options.password ? { users: [{ userid: options.username, password: options.password }] } : {}),
      ...(options.ticketLifetimeMs ? { ticketLifetimeMs: options.ticketLifetimeMs } : {}),
    });
    this.tasks = new Tasks(() => this.state);
    this.faults = options.faults ?? {};
    this.random = seededRandom(options.seed ?? 42);
    const durations: Record<string, number> = {
      default: 100,
      qmclone: 400,
      qmcreate: 300,
      qmstart: 200,
      qmstop: 100,
      qmshutdown: 200,
      qmreboot: 200,
      qmigrate: 500,
      qmdestroy: 100,
      qmconfig: 50,
      resize: 100,
      ...options.taskDurations,
    };
    const now = options.clock ?? Date.now;
    const all = [
      ...clusterRoutes(
        () => this.state,
        this.tasks,
        () => this.certificate,
        now,
      ),
      ...qemuRoutes({ state: () => this.state, tasks: this.tasks, durations, agentDelayMs: options.agentDelayMs ?? 500 }),
      ...storageRoutes(
        () => this.state,
        this.tasks,
        (t) => durations[t] ?? durations.default ?? 200,
      ),
    ];
    this.consoles = new ConsoleTickets(now);
    all.push(
      ...snapshotRoutes({ state: () => this.state, tasks: this.tasks, durations, now }),
      ...consoleRoutes({ state: () => this.state, tasks: this.tasks, now, certificate: () => this.certificate, port: () => (this.server?.address() as AddressInfo | null)?.port ?? 0 }, this.consoles),
    );
    this.routes = all.map((route) => ({ route, ...compile(route) }));
  }

  async listen(): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    if (this.o.tls) {
      const { key, cert } = selfSignedCertificate();
      this.certificate = cert;
      this.server = createHttpsServer({ key, cert }, handler);
    } else this.server = createServer(handler);
    // The SPICE proxy: remote-viewer sends CONNECT <proxy ticket>:<tls-port>.
    this.server.on('connect', (req: IncomingMessage, socket: import('node:stream').Duplex) => this.consoles.connect(req, socket));
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server?.listen(this.o.port ?? 0, '127.0.0.1', () => resolve()));
    return `${this.o.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.tasks.stop();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  stats(): Record<string, number> {
    return this.counters.stats();
  }

  resetStats(): void {
    this.counters.reset();
  }

  private count(key: string): void {
    this.counters.count(key);
  }

  private send(res: ServerResponse, status: number, reason: string, payload: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(payload);
    // The message travels in the reason phrase, as pveproxy sends it (single line, no control chars).
    res.writeHead(status, reason.replace(/[\r\n]+/g, ' ').slice(0, 512), { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://sim');
      if (url.pathname.startsWith('/_sim/')) return this.admin(req, res, url);
      const lat = (this.o.latencyMs ?? 0) + (this.o.jitterMs ? this.random() * this.o.jitterMs : 0);
      if (lat > 0) await new Promise((r) => setTimeout(r, lat));
      const prefix = '/api2/json';
      if (!url.pathname.startsWith(prefix)) return this.send(res, 404, 'Not Found', { data: null });
      const path = url.pathname.slice(prefix.length).replace(/\/+$/, '') || '/';
      const method = (req.method ?? 'GET').toUpperCase();
      const params: Params = { ...Object.fromEntries(url.searchParams), ...parseBody(await body(req), req.headers['content-type']) };

      if (path === '/access/ticket' && method === 'POST') {
        this.count('POST /access/ticket');
        const user = this.auth.login(params.username ?? '', params.password ?? '');
        if (!user) return this.send(res, 401, 'authentication failure', { data: null, message: 'authentication failure\n' });
        const { ticket, csrf } = this.auth.issue(user);
        return this.send(res, 200, 'OK', { data: { username: user, ticket, CSRFPreventionToken: csrf, clustername: this.state.clusterName, cap: { vms: { 'VM.Allocate': 1 } } } });
      }
      const user = this.authenticate(req, method);
      if (typeof user !== 'string') return this.send(res, 401, user.reason, { data: null, message: `${user.reason}\n` });

      // A request for a node that is down fails where pveproxy forwards it.
      const down = /^\/nodes\/([^/]+)\//.exec(path)?.[1];
      if (down && this.state.nodes.some((n) => n.name === down && n.offline)) return this.send(res, 595, 'Connection refused', { data: null });
      const match = this.routes.map((r) => ({ r, m: r.route.method === method ? r.re.exec(path) : null })).find((x) => x.m);
      if (!match?.m) {
        this.count(`${method} (unknown)`);
        const exists = this.routes.some((r) => r.re.test(path));
        return this.send(res, 501, exists ? `Method '${method} ${path}' not implemented` : `Method '${method} ${path}' not implemented`, { data: null });
      }
      const route = match.r.route;
      this.count(`${method} ${route.pattern}`);
      const pathParams = Object.fromEntries(match.r.keys.map((k, i) => [k, decodeURIComponent(match.m?.[i + 1] ?? '')]));
      const failing = this.faults.fail?.[`${method} ${route.pattern}`] ?? 0;
      if (failing > 0 && this.faults.fail) {
        this.faults.fail[`${method} ${route.pattern}`] = failing - 1;
        return this.send(res, 500, 'Internal Server Error (injected)', { data: null, message: 'Internal Server Error (injected)\n' });
      }
      if (this.random() < (this.faults.dropShare ?? 0)) {
        req.socket.destroy();
        return;
      }
      if (this.random() < (this.faults.error500Share ?? 0)) return this.send(res, 500, 'Internal Server Error', { data: null, message: 'Internal Server Error\n' });
      if (method !== 'GET' && pathParams.vmid && this.random() < (this.faults.lockTimeoutShare ?? 0)) {
        const m = `can't lock file '/var/lock/qemu-server/lock-${pathParams.vmid}.conf' - got timeout`;
        return this.send(res, 500, m, { data: null, message: `${m}\n` });
      }
      checkParams(route, params);
      const data = await route.handler({ method, path: pathParams, params, user });
      return this.send(res, 200, 'OK', { data: data ?? null });
    } catch (e) {
      if (e instanceof PveError) return this.send(res, e.status, e.message, { data: null, message: `${e.message}\n`, ...(e.errors ? { errors: e.errors } : {}) });
      return this.send(res, 500, 'Internal Server Error', { data: null, message: `${(e as Error).message}\n` });
    }
  }

  private authenticate(req: IncomingMessage, method: string): string | { reason: string } {
    const authz = req.headers.authorization;
    if (authz?.startsWith('PVEAPIToken')) return this.auth.verifyToken(authz) ?? { reason: 'invalid token value!' };
    const cookie = /(?:^|;\s*)PVEAuthCookie=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (!cookie) return { reason: 'No ticket' };
    const user = this.auth.verifyTicket(decodeURIComponent(cookie));
    if (!user) return { reason: 'invalid PVE ticket' };
    if (method !== 'GET' && !this.auth.verifyCsrf(user, req.headers.csrfpreventiontoken as string | undefined)) return { reason: 'Permission denied - invalid csrf token' };
    return user;
  }

  private async admin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const text = await body(req);
    switch (`${method} ${url.pathname}`) {
      case 'GET /_sim/stats':
        return this.send(res, 200, 'OK', this.stats());
      case 'POST /_sim/reset-stats':
        this.resetStats();
        return this.send(res, 200, 'OK', {});
      case 'GET /_sim/state':
        return this.send(res, 200, 'OK', this.state);
      case 'PUT /_sim/state':
        this.state = JSON.parse(text) as SimState;
        return this.send(res, 200, 'OK', {});
      case 'POST /_sim/faults':
        this.faults = JSON.parse(text || '{}') as Faults;
        return this.send(res, 200, 'OK', this.faults);
      default:
        return this.send(res, 404, 'Not Found', {});
    }
  }
}
