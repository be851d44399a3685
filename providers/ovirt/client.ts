// The oVirt engine client: undici, SSO login (one re-login on 401, as tokens expire without
// refresh), `Version: 4`, JSON with string-typed numbers, error classification.
import type { Logger } from 'pino';
import { Agent, request, type Dispatcher } from 'undici';
import { ProviderAuthError, ProviderConflictError, ProviderInvalidError, ProviderLockedError, ProviderNotFoundError, ProviderTransientError, type VkError } from '../../controller/core/errors.ts';
import type { Credentials } from '../../controller/core/provider.ts';
import { CollectionSplitter } from './json-stream.ts';
import type { Json } from './json.ts';

export type { Json } from './json.ts';

export interface OvirtClientOptions {
  /** `https://engine/ovirt-engine/api` */
  endpoint: string;
  credentials: Credentials;
  tls?: { caBundle?: string; insecureSkipVerify?: boolean };
  logger?: Logger;
  timeoutMs?: number;
}

export function classifyOvirt(status: number, reason: string, detail: string): VkError {
  const m = `${reason}${detail ? ` ${detail}` : ''}`.trim() || `HTTP ${status}`;
  if (status === 401 || status === 403) return new ProviderAuthError(`the engine refused the request (${status})`);
  if (status === 404) return new ProviderNotFoundError(m);
  if (status === 409) return /name is already in use|Name already used/i.test(m) ? new ProviderConflictError(m) : new ProviderLockedError(m);
  if (status === 400) return new ProviderInvalidError(m);
  return new ProviderTransientError(`${status} ${m}`);
}

/** A search for one name as engines parse it: quoted, so spaces and keywords in it stay part of the name. */
export const nameSearch = (name: string): string => `name="${name}"`;

export const num = (v: unknown): number => (v === undefined || v === null || v === '' ? 0 : Number(v));
export const bool = (v: unknown): boolean => v === true || v === 'true';
export const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
export const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : v && typeof v === 'object' ? [v as Json] : []);

export class OvirtClient {
  private readonly base: string;
  private readonly root: string;
  private readonly dispatcher: Dispatcher;
  private token: string | undefined;
  private login: Promise<void> | undefined;
  private readonly o: OvirtClientOptions;
  requests = 0;

  constructor(options: OvirtClientOptions) {
    this.o = options;
    this.base = options.endpoint.replace(/\/+$/, '');
    this.root = this.base.replace(/\/api$/, '');
    this.dispatcher = new Agent({
      keepAliveTimeout: 30_000,
      connections: 16,
      headersTimeout: options.timeoutMs ?? 60_000,
      bodyTimeout: options.timeoutMs ?? 60_000,
      connect: { ...(options.tls?.caBundle ? { ca: options.tls.caBundle } : {}), rejectUnauthorized: !options.tls?.insecureSkipVerify },
    });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async sso(): Promise<void> {
    const c = this.o.credentials;
    if (!('username' in c)) return;
    if (!this.login) {
      this.login = (async () => {
        let res: Dispatcher.ResponseData;
        try {
          res = await request(`${this.root}/sso/oauth/token`, {
            method: 'POST',
            dispatcher: this.dispatcher,
            headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'password', scope: 'ovirt-app-api', username: c.username, password: c.password }).toString(),
          });
        } catch (e) {
          throw new ProviderTransientError(`cannot reach the engine at ${this.base}: ${(e as Error).message}`);
        }
        const body = (await res.body.json().catch(() => ({}))) as Json;
        if (res.statusCode !== 200 || typeof body.access_token !== 'string') {
          // The engine's text names the user, never the password; keep only the error code.
          throw new ProviderAuthError(`SSO login refused: ${String(body.error_code ?? body.error ?? res.statusCode)}`);
        }
        this.token = body.access_token;
      })().finally(() => {
        this.login = undefined;
      });
    }
    await this.login;
  }

  /** Sends one request, logging in again once on a 401 (tokens expire without refresh). */
  private async send(method: string, path: string, options: { query?: Record<string, string>; body?: Json }): Promise<Dispatcher.ResponseData> {
    if (!this.token && 'username' in this.o.credentials) await this.sso();
    const qs = options.query && Object.keys(options.query).length > 0 ? `?${new URLSearchParams(options.query)}` : '';
    const send = async () => {
      this.requests++;
      try {
        return await request(`${this.base}${path}${qs}`, {
          method: method as Dispatcher.HttpMethod,
          dispatcher: this.dispatcher,
          headers: {
            accept: 'application/json',
            version: '4',
            ...('token' in this.o.credentials ? { authorization: `Bearer ${this.o.credentials.token}` } : this.token ? { authorization: `Bearer ${this.token}` } : {}),
            ...(options.body ? { 'content-type': 'application/json' } : {}),
          },
          ...(options.body ? { body: JSON.stringify(options.body) } : {}),
        });
      } catch (e) {
        throw new ProviderTransientError(`cannot reach the engine at ${this.base}: ${(e as Error).message}`);
      }
    };
    let res = await send();
    if (res.statusCode === 401 && 'username' in this.o.credentials) {
      await res.body.dump();
      this.token = undefined;
      await this.sso();
      res = await send();
    }
    return res;
  }

  private refused(method: string, path: string, status: number, data: Json): VkError {
    const err = classifyOvirt(status, String(data.reason ?? ''), String(data.detail ?? ''));
    this.o.logger?.debug({ method, path, status, code: err.code }, err.message);
    return err;
  }

  async call<T = Json>(method: string, path: string, options: { query?: Record<string, string>; body?: Json } = {}): Promise<{ status: number; data: T }> {
    const res = await this.send(method, path, options);
    const text = await res.body.text();
    const data = (text ? JSON.parse(text) : {}) as Json;
    if (res.statusCode >= 300) throw this.refused(method, path, res.statusCode, data);
    return { status: res.statusCode, data: data as T };
  }

  /**
   * A collection read as it arrives, each item handed to `each` alone, without the links and
   * action lists no reader uses (json-stream.ts): a fleet's list is never one text and one tree.
   */
  async list(path: string, query: Record<string, string>, each: (item: Json) => void): Promise<void> {
    const res = await this.send('GET', path, { query });
    if (res.statusCode >= 300) {
      const text = await res.body.text();
      throw this.refused('GET', path, res.statusCode, (text ? JSON.parse(text) : {}) as Json);
    }
    const splitter = new CollectionSplitter(each);
    try {
      for await (const chunk of res.body) splitter.push(chunk as Buffer);
    } catch (e) {
      throw new ProviderTransientError(`the engine at ${this.base} stopped answering GET ${path} midway: ${(e as Error).message}`);
    }
    if (!splitter.complete) throw new ProviderTransientError(`the engine at ${this.base} answered GET ${path} with a cut-off or non-collection body; it is read again at the next pass`);
  }

  async get<T = Json>(path: string, query: Record<string, string> = {}): Promise<T> {
    return (await this.call<T>('GET', path, { query })).data;
  }
}
