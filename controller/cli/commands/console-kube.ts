// `virtkeeper console VM --kubeconfig K`: the ticket comes from the controller's console
// endpoint (runtime/modes/console-endpoint.ts), which holds the Hypervisor credentials; this side
// has only the user's bearer token from the kubeconfig. The endpoint's URL comes from --controller
// or from ConfigMap virtkeeper-console in the controller's namespace (console-publish.ts).
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { VkError } from '../../core/errors.ts';
import { CONSOLE_PATH, type ConsoleReply } from '../../runtime/modes/console-endpoint.ts';
import { CONSOLE_CONFIGMAP } from '../../runtime/modes/console-publish.ts';
import { KubeForbiddenError, KubeNotFoundError } from '../../sources/kube-errors.ts';
import { kubeRest } from '../../sources/kube-rest.ts';
import { type KubeAccess, loadKubeAccess } from '../../sources/kubeconfig.ts';

export interface KubeConsoleOptions {
  kubeconfig: string;
  namespace: string;
  /** The endpoint's URL; found in the ConfigMap when absent. */
  controller?: string;
  /** PEM file the endpoint's certificate is checked against (default: the kubeconfig's cluster CA, then the system's). */
  controllerCa?: string;
  controllerNamespace: string;
  protocol?: 'spice' | 'vnc';
  ttlSeconds: number;
}

/** What the CLI prints for a request that got no ticket: the endpoint's code, or one of these. */
export class ConsoleClientError extends VkError {
  override readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** The kubeconfig user's bearer token (inline, a token file, or what an exec plugin gives). */
export function bearerOf(access: KubeAccess, kubeconfig: string): string {
  const token = access.token?.() ?? /^Bearer\s+(\S+)$/i.exec(access.headers?.Authorization ?? access.headers?.authorization ?? '')?.[1];
  if (token) return token;
  const what = access.cert ? 'has only a client certificate' : 'has no bearer token';
  throw new ConsoleClientError(
    'VK_CONSOLE_NO_TOKEN',
    `the current user of ${kubeconfig} ${what}; the console endpoint authenticates bearer tokens only (it cannot see a client certificate the API server checked). Use a kubeconfig with a token, e.g. \`kubectl create token NAME -n NAMESPACE\` put in users[].user.token`,
  );
}

async function publishedUrl(access: KubeAccess, namespace: string): Promise<string> {
  const rest = await kubeRest(access);
  try {
    const cm = await rest.call<{ data?: { url?: string } }>('GET', `/api/v1/namespaces/${namespace}/configmaps/${CONSOLE_CONFIGMAP}`);
    const url = cm.data?.url;
    if (!url) throw new KubeNotFoundError(404, 'no url');
    return url;
  } catch (e) {
    if (e instanceof KubeNotFoundError)
      throw new ConsoleClientError(
        'VK_CONSOLE_NO_ENDPOINT',
        `no controller publishes a console endpoint in namespace ${namespace} (ConfigMap ${CONSOLE_CONFIGMAP}): start it with \`run --console-listen HOST:PORT\`, pass --controller URL, or --controller-namespace`,
      );
    if (e instanceof KubeForbiddenError)
      throw new ConsoleClientError(
        'VK_CONSOLE_NO_ENDPOINT',
        `this token may not read ConfigMap ${CONSOLE_CONFIGMAP} in namespace ${namespace}: apply manifests/console-user.yaml (Role virtkeeper-console-discovery), or pass --controller URL`,
      );
    throw e;
  } finally {
    await rest.close();
  }
}

/** The token goes only to an https URL, or to plain HTTP on this machine's loopback (as the endpoint allows). */
export function checkEndpoint(base: string): void {
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new ConsoleClientError('VK_USAGE', `the console endpoint ${base} is not a URL like https://virtkeeper-console.virtkeeper-system.svc:8443`);
  }
  const loopback = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/.test(u.hostname);
  if (u.protocol === 'https:' || (u.protocol === 'http:' && loopback)) return;
  throw new ConsoleClientError(
    'VK_CONSOLE_INSECURE',
    `the console endpoint ${base} is not https: your bearer token would cross the network in clear, so it is not sent; give the controller --console-tls-cert/--console-tls-key and an https --console-url`,
  );
}

/** Asks the controller for a console of VM `name`: the file and the ticket's facts, or a ConsoleClientError. */
export async function requestKubeConsole(name: string, o: KubeConsoleOptions): Promise<ConsoleReply> {
  const access = await loadKubeAccess(o.kubeconfig);
  const token = bearerOf(access, o.kubeconfig);
  const base = (o.controller ?? (await publishedUrl(access, o.controllerNamespace))).replace(/\/+$/, '');
  checkEndpoint(base);
  const ca = o.controllerCa ? await readFile(o.controllerCa, 'utf8') : access.ca;
  // Always verified: the kubeconfig's insecure-skip-tls-verify is about the API server, and this server gets the token.
  const dispatcher = new Agent({ connect: { ...(ca ? { ca } : {}), rejectUnauthorized: true } });
  const url = `${base}${CONSOLE_PATH}/namespaces/${encodeURIComponent(o.namespace)}/virtualmachines/${encodeURIComponent(name)}/console`;
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ ttlSeconds: o.ttlSeconds, ...(o.protocol ? { protocol: o.protocol } : {}) }),
    }).catch((e: Error) => {
      throw new ConsoleClientError('VK_CONSOLE_UNREACHABLE', `cannot reach the console endpoint ${base}: ${e.message}; check --controller (or ConfigMap ${CONSOLE_CONFIGMAP}) and --controller-ca`);
    });
    const text = await res.body.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ConsoleClientError('VK_CONSOLE_PROTOCOL', `${base} answered ${res.statusCode} with something that is not the console endpoint's JSON; is --controller the console endpoint?`);
    }
    if (res.statusCode === 200) return body as ConsoleReply;
    const err = body as { code?: unknown; message?: unknown };
    throw new ConsoleClientError(typeof err.code === 'string' ? err.code : 'VK_CONSOLE_FAILED', typeof err.message === 'string' ? err.message : `the console endpoint answered ${res.statusCode}`);
  } finally {
    await dispatcher.close();
  }
}
