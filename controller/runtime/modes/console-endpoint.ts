// The Kubernetes-mode console endpoint: `POST CONSOLE_PATH/namespaces/{ns}/virtualmachines/{name}/console`
// with the caller's bearer token answers a remote-viewer file for a VM this controller owns, so
// the Hypervisor credentials never leave the controller. Authenticated and authorised by the API
// server (console-access.ts) before the VM is even looked up, so a 404 tells nothing to someone
// who may not open consoles there. The ticket goes into the answer only: the audit log line,
// errors and status never carry it.
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { isIP, type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { parseKey } from '../../api/keys.ts';
import { RefusedError, safeError, VkError } from '../../core/errors.ts';
import type { ConsoleTicket } from '../../core/provider.ts';
import type { KubeRest } from '../../sources/kube-rest.ts';
import type { DesiredStore } from '../../sources/store.ts';
import type { StatusStore } from '../../status/writer.ts';
import type { HypervisorPool } from '../hypervisors.ts';
import { authenticate, authorize, bearerToken } from './console-access.ts';
import { ConsoleBadRequestError, ConsoleError, ConsoleListenError, ConsoleNotFoundError, ConsoleNotReadyError, statusOfKind } from './console-errors.ts';

export const CONSOLE_PATH = '/apis/subresources.virtkeeper.io/v1alpha1';
const ROUTE = /^\/apis\/subresources\.virtkeeper\.io\/v1alpha1\/namespaces\/([a-z0-9][-a-z0-9]*)\/virtualmachines\/([a-z0-9][-a-z0-9.]*)\/console$/;
const MAX_BODY = 4096;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** What the endpoint answers: the ticket's facts and its file; the password is in the file only. */
export type ConsoleReply = Omit<ConsoleTicket, 'password'>;

export interface ConsoleRequest {
  protocol?: 'spice' | 'vnc';
  ttlSeconds?: number;
}

export interface ConsoleListen {
  /** host:port (`[::1]:8443` for IPv6); port 0 picks one. */
  listen: string;
  /** PEM texts; without them the endpoint is plain HTTP, allowed on loopback only. */
  tls?: { cert: string; key: string };
}

export interface ConsoleEndpointOptions extends ConsoleListen {
  /** The controller's own API access: TokenReviews and SubjectAccessReviews go through it. */
  rest: KubeRest;
  store: DesiredStore;
  statuses: StatusStore;
  pool: HypervisorPool;
  instance: string;
  logger: Logger;
  /** False until the caches are synced: a VM missing from them may exist. */
  ready: () => boolean;
}

export interface RunningConsoleEndpoint {
  /** Where it listens, as a URL (`https://host:port` or `http://127.0.0.1:port`). */
  url: string;
  close(): Promise<void>;
}

/** host and port of a listen address; plain HTTP only on loopback (tokens and tickets cross it). */
export function parseListen(listen: string, tls: boolean): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || port > 65535 || (m[1] && isIP(m[1]) !== 6)) throw new ConsoleListenError(`--console-listen ${listen} is not host:port (e.g. 127.0.0.1:8443, 0.0.0.0:8443, [::1]:8443)`);
  if (!tls && !LOOPBACK.test(host))
    throw new ConsoleListenError(
      `--console-listen ${listen} without TLS: bearer tokens and console tickets would cross the network in clear; give --console-tls-cert and --console-tls-key, or listen on 127.0.0.1`,
    );
  return { host, port };
}

function parseBody(text: string): ConsoleRequest {
  if (!text.trim()) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ConsoleBadRequestError('the request body is not JSON; send {} or {"protocol": "spice"|"vnc", "ttlSeconds": N}');
  }
  const b = (body ?? {}) as { protocol?: unknown; ttlSeconds?: unknown };
  if (b.protocol !== undefined && b.protocol !== 'spice' && b.protocol !== 'vnc') throw new ConsoleBadRequestError(`protocol must be spice or vnc, not ${String(b.protocol)}`);
  if (b.ttlSeconds !== undefined && !(typeof b.ttlSeconds === 'number' && Number.isInteger(b.ttlSeconds) && b.ttlSeconds >= 1 && b.ttlSeconds <= 3600))
    throw new ConsoleBadRequestError('ttlSeconds must be a whole number of seconds from 1 to 3600');
  return { ...(b.protocol ? { protocol: b.protocol } : {}), ...(typeof b.ttlSeconds === 'number' ? { ttlSeconds: b.ttlSeconds } : {}) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > MAX_BODY) throw new ConsoleBadRequestError(`the request body is over ${MAX_BODY} bytes`);
  }
  return text;
}

/** One console request, from the reviewed caller to the provider's ticket. */
async function openConsole(o: ConsoleEndpointOptions, req: IncomingMessage, namespace: string, name: string): Promise<ConsoleReply> {
  const user = await authenticate(o.rest, bearerToken(req.headers.authorization));
  await authorize(o.rest, user, { namespace, name });
  const asked = parseBody(await readBody(req));
  if (!o.ready()) throw new ConsoleNotReadyError('the controller is still reading the cluster; retry in a few seconds');
  const key = `VirtualMachine/${namespace}/${name}`;
  const vm = o.store.resource('VirtualMachine', key);
  if (!vm)
    throw new ConsoleNotFoundError(
      `this controller knows no VirtualMachine ${namespace}/${name} (check the name and -n; a controller with --hypervisor-selector serves only its own Hypervisors' VMs)`,
    );
  const hv = o.store.hypervisor(vm.spec.hypervisor);
  if (!hv) throw new ConsoleNotFoundError(`VirtualMachine ${namespace}/${name} names Hypervisor ${vm.spec.hypervisor}, which this controller does not serve`);
  if (hv.spec.allowedNamespaces && !hv.spec.allowedNamespaces.includes(namespace))
    throw new ConsoleNotFoundError(
      `VirtualMachine ${namespace}/${name} may not use Hypervisor ${hv.metadata.name} (namespace not in its spec.allowedNamespaces), so this controller owns no VM for it`,
    );
  const status = (await o.statuses.read(key))?.status ?? {};
  const providerID = typeof status.providerID === 'string' ? status.providerID : undefined;
  if (!providerID)
    throw new ConsoleNotFoundError(`VirtualMachine ${namespace}/${name} has no VM on Hypervisor ${hv.metadata.name} yet; wait until \`kubectl get vkvm ${name} -n ${namespace}\` shows it Running`);
  const conn = await o.pool.get(hv);
  if (!conn.client.consoles) throw new ConsoleNotFoundError(`the ${hv.spec.type} provider cannot open consoles; use the hypervisor's own console for ${name}`);
  const id = parseKey(key);
  let ticket: ConsoleTicket;
  try {
    // The provider re-reads the VM and gives no ticket unless its marker names this resource and instance.
    ticket = await conn.client.consoles.open(
      {
        providerID,
        name,
        ...(typeof status.node === 'string' ? { node: status.node } : {}),
        owner: { kind: 'VirtualMachine', namespace: id.namespace ?? namespace, name: id.name, instance: o.instance },
      },
      { ttlSeconds: asked.ttlSeconds ?? 60, ...(asked.protocol ? { protocol: asked.protocol } : {}) },
    );
  } catch (e) {
    if (e instanceof RefusedError)
      throw new ConsoleNotFoundError(`the VM ${providerID} on Hypervisor ${hv.metadata.name} is not owned by this controller for VirtualMachine ${namespace}/${name}: ${e.message}`);
    throw e;
  }
  // The audit line: who opened which console until when; never the ticket.
  o.logger.info({ user: user.username, vm: key, hypervisor: hv.metadata.name, protocol: ticket.protocol, expiresAt: ticket.expiresAt }, 'console ticket issued');
  const { password: _secret, ...reply } = ticket;
  return reply;
}

function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(`${JSON.stringify(body)}\n`);
}

export async function startConsoleEndpoint(o: ConsoleEndpointOptions): Promise<RunningConsoleEndpoint> {
  const { host, port } = parseListen(o.listen, !!o.tls);
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const route = ROUTE.exec((req.url ?? '').split('?')[0] ?? '');
    if (!route) return answer(res, 404, { code: 'VK_CONSOLE_NO_ROUTE', message: `POST ${CONSOLE_PATH}/namespaces/NS/virtualmachines/NAME/console is the only path here` });
    if (req.method !== 'POST') return answer(res, 405, { code: 'VK_CONSOLE_METHOD', message: 'use POST' }, { allow: 'POST' });
    const [, namespace = '', name = ''] = route;
    openConsole(o, req, namespace, name).then(
      (reply) => answer(res, 200, reply),
      (e: unknown) => {
        const status = e instanceof ConsoleError ? e.status : e instanceof VkError ? statusOfKind(e.kind) : 500;
        const shown = safeError(e);
        if (status >= 500) o.logger.warn({ vm: `${namespace}/${name}`, code: shown.code, err: shown.message }, 'console request failed');
        answer(res, status, shown, status === 401 ? { 'www-authenticate': 'Bearer' } : {});
      },
    );
  };
  const server: Server = o.tls ? createHttps({ cert: o.tls.cert, key: o.tls.key }, handle) : createHttp(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new ConsoleListenError(`cannot listen on ${o.listen} for the console endpoint: ${e.message}`)));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${o.tls ? 'https' : 'http'}://${shownHost}:${bound}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
