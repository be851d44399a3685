// The Proxmox VE API client: undici with a keep-alive pool and timeouts, ticket login (with
// renewal before expiry and one re-login on 401) or an API token, CSRF on writes, form
// encoding, error classification, and task waiting with progress (batched per node).
// The `proxmox-api` package gives typed endpoints, but it hides the reason phrase that
// carries Proxmox's error text and has no pool, timeout or retry control; so this client
// speaks HTTP itself with undici.
import { Agent, request, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { ProviderTransientError } from '../../controller/core/errors.ts';
import type { Credentials, Progress } from '../../controller/core/provider.ts';
import { classifyProxmox } from './errors.ts';
import { TaskWaiter } from './tasks.ts';

export interface ProxmoxClientOptions {
  endpoint: string;
  credentials: Credentials;
  tls?: { caBundle?: string; insecureSkipVerify?: boolean };
  logger?: Logger;
  timeoutMs?: number;
  /** Counts requests by method + path template, for tests and benchmarks. */
  onRequest?: (method: string, path: string) => void;
}

type Params = Record<string, string | number | boolean | undefined | string[]>;

export class ProxmoxClient {
  private readonly base: string;
  private readonly dispatcher: Dispatcher;
  private ticket: { cookie: string; csrf: string; at: number } | undefined;
  private login: Promise<void> | undefined;
  private readonly o: ProxmoxClientOptions;
  requests = 0;
  private readonly tasks: TaskWaiter;

  constructor(options: ProxmoxClientOptions) {
    this.o = options;
    this.tasks = new TaskWaiter({ get: (path, params) => this.get(path, params) });
    this.base = `${options.endpoint.replace(/\/+$/, '')}/api2/json`;
    this.dispatcher = new Agent({
      keepAliveTimeout: 30_000,
      connections: 16,
      headersTimeout: options.timeoutMs ?? 30_000,
      bodyTimeout: options.timeoutMs ?? 30_000,
      connect: { ...(options.tls?.caBundle ? { ca: options.tls.caBundle } : {}), rejectUnauthorized: !options.tls?.insecureSkipVerify },
    });
  }

  get<T = unknown>(path: string, params: Params = {}): Promise<T> {
    return this.call<T>('GET', path, params);
  }
  post<T = unknown>(path: string, params: Params = {}): Promise<T> {
    return this.call<T>('POST', path, params);
  }
  put<T = unknown>(path: string, params: Params = {}): Promise<T> {
    return this.call<T>('PUT', path, params);
  }
  delete<T = unknown>(path: string, params: Params = {}): Promise<T> {
    return this.call<T>('DELETE', path, params);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async ensureTicket(force = false): Promise<void> {
    const c = this.o.credentials;
    if (!('username' in c)) return;
    // Renew well before the 2-hour lifetime.
    if (!force && this.ticket && Date.now() - this.ticket.at < 90 * 60_000) return;
    if (!this.login) {
      this.login = (async () => {
        const password = !force && this.ticket ? decodeURIComponent(this.ticket.cookie) : c.password;
        const res = await this.raw('POST', '/access/ticket', { username: c.username, password }, {});
        if (res.status !== 200) {
          if (this.ticket && !force) {
            this.ticket = undefined;
            this.login = undefined;
            return this.ensureTicket(true);
          }
          throw classifyProxmox(res.status, res.reason);
        }
        const d = (res.json as { data: { ticket: string; CSRFPreventionToken: string } }).data;
        this.ticket = { cookie: encodeURIComponent(d.ticket), csrf: d.CSRFPreventionToken, at: Date.now() };
      })().finally(() => {
        this.login = undefined;
      });
    }
    await this.login;
  }

  private headers(method: string): Record<string, string> {
    const c = this.o.credentials;
    if ('token' in c) return { authorization: `PVEAPIToken=${c.token}` };
    if (!this.ticket) return {};
    return { cookie: `PVEAuthCookie=${this.ticket.cookie}`, ...(method !== 'GET' ? { csrfpreventiontoken: this.ticket.csrf } : {}) };
  }

  private async raw(method: string, path: string, params: Params, headers: Record<string, string>): Promise<{ status: number; reason: string; json: unknown }> {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined) continue;
      // Array parameters (the agent's `command`) repeat the key, as Proxmox expects.
      if (Array.isArray(v)) for (const item of v) form.append(k, item);
      else form.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    }
    const qs = method === 'GET' || method === 'DELETE' ? (form.size > 0 ? `?${form}` : '') : '';
    const body = method === 'POST' || method === 'PUT' ? form.toString() : undefined;
    this.requests++;
    this.o.onRequest?.(method, path);
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.base}${path}${qs}`, {
        method: method as Dispatcher.HttpMethod,
        dispatcher: this.dispatcher,
        headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        ...(body !== undefined ? { body } : {}),
      });
    } catch (e) {
      throw new ProviderTransientError(`cannot reach Proxmox at ${this.o.endpoint}: ${(e as Error).message}`, { cause: e });
    }
    const text = await res.body.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    // The reason phrase is where Proxmox puts its error text; newer servers repeat it in `message`.
    const reason = (res.statusText || (json as { message?: string } | null)?.message || '').trim();
    return { status: res.statusCode, reason, json };
  }

  private async call<T>(method: string, path: string, params: Params): Promise<T> {
    await this.ensureTicket();
    let res = await this.raw(method, path, params, this.headers(method));
    if (res.status === 401 && 'username' in this.o.credentials) {
      await this.ensureTicket(true);
      res = await this.raw(method, path, params, this.headers(method));
    }
    if (res.status !== 200) {
      const errors = (res.json as { errors?: Record<string, string> } | null)?.errors;
      const err = classifyProxmox(res.status, res.reason || `HTTP ${res.status}`, errors);
      this.o.logger?.debug({ method, path, status: res.status, code: err.code }, err.message);
      throw err;
    }
    return (res.json as { data: T }).data;
  }

  /**
   * Waits for a task to stop; resolves on OK or WARNINGS, throws the classified failure. Every
   * task in flight on a node is answered by one `GET /nodes/{node}/tasks` per tick (see tasks.ts).
   */
  waitForTask(upid: string, options: { onProgress?: (p: Progress) => void; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    return this.tasks.wait(upid, options);
  }
}
