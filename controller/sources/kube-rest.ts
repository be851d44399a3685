// A small Kubernetes REST client over undici (client certificate, token, CA from kubeconfig.ts):
// status patches, finalizer patches, Events and Leases need exact control of verbs, content
// types and conflicts; `watch` streams a watch's events, one JSON object a line.
import { Agent, request, type Dispatcher } from 'undici';
import { kubeError } from './kube-errors.ts';
import { loadKubeAccess, type KubeAccess } from './kubeconfig.ts';

export { KubeError } from './kube-errors.ts';
export { loadKubeAccess } from './kubeconfig.ts';

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface KubeRest {
  server: string;
  call<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
  /** Streams a watch (`path` carries `watch=1` and the query); resolves when the server ends it. */
  watch<T>(path: string, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Kept for the callers that named it so: the access of a kubeconfig (or in-cluster). */
export const loadKubeConfig = loadKubeAccess;

export async function kubeRest(access: KubeAccess | Promise<KubeAccess>): Promise<KubeRest> {
  const a = await access;
  const dispatcher = new Agent({
    connect: { ...(a.ca ? { ca: a.ca } : {}), ...(a.cert ? { cert: a.cert } : {}), ...(a.key ? { key: a.key } : {}), rejectUnauthorized: !a.insecureSkipVerify },
    keepAliveTimeout: 30_000,
    // A watch is quiet for minutes; the server ends it (timeoutSeconds), not the client.
    bodyTimeout: 0,
  });
  const server = a.server;
  const headers = (): Record<string, string> => ({ ...(a.headers ?? {}), ...(a.token ? { authorization: `Bearer ${a.token()}` } : {}), accept: 'application/json' });
  const send = async (method: string, path: string, body: unknown, contentType: string, signal?: AbortSignal): Promise<Dispatcher.ResponseData> => {
    try {
      return await request(`${server}${path}`, {
        method: method as Dispatcher.HttpMethod,
        dispatcher,
        headers: { ...headers(), ...(body !== undefined ? { 'content-type': contentType } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw kubeError(0, `cannot reach the Kubernetes API at ${server}: ${(e as Error).message}`);
    }
  };
  const fail = async (method: string, path: string, res: Dispatcher.ResponseData, text?: string): Promise<never> => {
    const t = text ?? (await res.body.text());
    let message = t;
    try {
      message = String((JSON.parse(t) as { message?: unknown }).message ?? t);
    } catch {
      // not JSON: the text as it came
    }
    throw kubeError(res.statusCode, `${method} ${path.split('?')[0]}: ${res.statusCode} ${message}`);
  };
  return {
    server,
    async call<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
      const res = await send(method, path, body, contentType);
      const text = await res.body.text();
      if (res.statusCode < 200 || res.statusCode >= 300) return fail(method, path, res, text);
      return (text ? JSON.parse(text) : {}) as T;
    },
    async watch<T>(path: string, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
      const res = await send('GET', path, undefined, 'application/json', signal);
      if (res.statusCode < 200 || res.statusCode >= 300) return fail('GET', path, res);
      let rest = '';
      try {
        for await (const chunk of res.body) {
          rest += chunk.toString();
          let nl = rest.indexOf('\n');
          while (nl >= 0) {
            const line = rest.slice(0, nl).trim();
            rest = rest.slice(nl + 1);
            if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
            nl = rest.indexOf('\n');
          }
        }
      } catch (e) {
        if (signal.aborted) return;
        throw kubeError(0, `the watch ${path.split('?')[0]} broke: ${(e as Error).message}`);
      }
    },
    close: () => dispatcher.close(),
  };
}
