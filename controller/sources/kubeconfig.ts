// Where the Kubernetes API is and how to prove who we are: a kubeconfig's current context
// (client certificate, bearer token, CA; inline or as files beside it) or the in-cluster service
// account. Read here rather than through @kubernetes/client-node's KubeConfig, whose module
// loads the whole generated API (about 36 MB of heap, most of a running controller's); a
// kubeconfig that needs an exec plugin or an auth provider still goes through it, loaded then.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { KubeForbiddenError } from './kube-errors.ts';

export interface KubeAccess {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  /** Read again on every request when it comes from a file (projected tokens rotate). */
  token?: () => string;
  /** Headers an exec plugin or auth provider gave (through @kubernetes/client-node). */
  headers?: Record<string, string>;
  insecureSkipVerify: boolean;
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
  clusters?: { name: string; cluster?: { server?: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean } }[];
  users?: {
    name: string;
    user?: {
      'client-certificate'?: string;
      'client-certificate-data'?: string;
      'client-key'?: string;
      'client-key-data'?: string;
      token?: string;
      tokenFile?: string;
      exec?: unknown;
      'auth-provider'?: unknown;
    };
  }[];
}

const SA = '/var/run/secrets/kubernetes.io/serviceaccount';

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new KubeForbiddenError(0, `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function inCluster(): KubeAccess {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new KubeForbiddenError(0, 'not running in a cluster (KUBERNETES_SERVICE_HOST is not set): pass --kubeconfig');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readText(`${SA}/ca.crt`, 'the service account CA'),
    token: () => readText(`${SA}/token`, 'the service account token').trim(),
    insecureSkipVerify: false,
  };
}

/** The access a kubeconfig file (or, without one, the in-cluster service account) gives. */
export async function loadKubeAccess(path?: string): Promise<KubeAccess> {
  if (!path) return inCluster();
  const doc = (parse(readText(path, 'the kubeconfig')) ?? {}) as KubeconfigFile;
  const rel = (p: string) => (isAbsolute(p) ? p : join(dirname(path), p));
  const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  const ctx = doc.contexts?.find((c) => c.name === doc['current-context'])?.context ?? doc.contexts?.[0]?.context;
  const cluster = doc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === ctx?.user)?.user ?? {};
  if (!cluster?.server) throw new KubeForbiddenError(0, `the kubeconfig ${path} has no current cluster with a server`);
  if (user.exec || user['auth-provider']) return viaClientNode(path, cluster.server);
  const pick = (data: string | undefined, file: string | undefined, what: string) => (data ? b64(data) : file ? readText(rel(file), what) : undefined);
  const ca = pick(cluster['certificate-authority-data'], cluster['certificate-authority'], 'the cluster CA');
  const cert = pick(user['client-certificate-data'], user['client-certificate'], 'the client certificate');
  const key = pick(user['client-key-data'], user['client-key'], 'the client key');
  const { token, tokenFile } = user;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(token ? { token: () => token } : tokenFile ? { token: () => readText(rel(tokenFile), 'the token file').trim() } : {}),
    insecureSkipVerify: cluster['insecure-skip-tls-verify'] === true,
  };
}

/** Exec plugins and auth providers: what @kubernetes/client-node makes of them, once. */
async function viaClientNode(path: string, server: string): Promise<KubeAccess> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const opts: { headers?: Record<string, string>; ca?: unknown; cert?: unknown; key?: unknown } = {};
  await kc.applyToHTTPSOptions(opts);
  const text = (v: unknown) => (typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined);
  const [ca, cert, key] = [text(opts.ca), text(opts.cert), text(opts.key)];
  return {
    server: server.replace(/\/+$/, ''),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(opts.headers ? { headers: opts.headers } : {}),
    insecureSkipVerify: kc.getCurrentCluster()?.skipTLSVerify === true,
  };
}
