// A small Kubernetes REST client over undici, configured from a KubeConfig (client
// certificate, token, CA): status patches, finalizer patches, Events and Leases need exact
// control of verbs, content types and conflicts.
import { KubeConfig } from '@kubernetes/client-node';
import type { RequestOptions } from 'node:https';
import { Agent, request, type Dispatcher } from 'undici';
import { KubeForbiddenError, kubeError } from './kube-errors.ts';

export { KubeError } from './kube-errors.ts';

export interface KubeRest {
  server: string;
  call<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
  close(): Promise<void>;
}

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromCluster();
  return kc;
}

export async function kubeRest(kc: KubeConfig): Promise<KubeRest> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeForbiddenError(0, 'the kubeconfig has no current cluster');
  const opts: RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const headers = { ...((opts.headers as Record<string, string> | undefined) ?? {}) };
  const dispatcher = new Agent({
    connect: {
      ...(opts.ca ? { ca: opts.ca as string } : {}),
      ...(opts.cert ? { cert: opts.cert as string } : {}),
      ...(opts.key ? { key: opts.key as string } : {}),
      rejectUnauthorized: !cluster.skipTLSVerify,
    },
    keepAliveTimeout: 30_000,
  });
  const server = cluster.server.replace(/\/+$/, '');
  return {
    server,
    async call<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(`${server}${path}`, {
          method: method as Dispatcher.HttpMethod,
          dispatcher,
          headers: { ...headers, accept: 'application/json', ...(body !== undefined ? { 'content-type': contentType } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
      } catch (e) {
        throw kubeError(0, `cannot reach the Kubernetes API at ${server}: ${(e as Error).message}`);
      }
      const text = await res.body.text();
      const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      if (res.statusCode >= 200 && res.statusCode < 300) return json as T;
      const message = `${method} ${path}: ${res.statusCode} ${String(json.message ?? text)}`;
      throw kubeError(res.statusCode, message);
    },
    close: () => dispatcher.close(),
  };
}
