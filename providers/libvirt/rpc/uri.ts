// libvirt connection URIs: `qemu:///system`, `qemu+unix:///system?socket=…`,
// `qemu+tcp://host:port/system`, `qemu+tls://host/system`, `qemu+ssh://user@host/system`.
// Every part that reaches another program (ssh's argv, the remote shell over ssh) is checked
// here, once: a URI that could smuggle an option or a command is refused, naming the field.
import { ProviderInvalidError } from '../../../controller/core/errors.ts';

export interface LibvirtURI {
  driver: string;
  transport: 'unix' | 'tcp' | 'tls' | 'ssh';
  host?: string;
  port?: number;
  user?: string;
  path: string;
  socket: string;
  /** The URI the remote daemon opens (`qemu:///system`). */
  remoteName: string;
  params: Record<string, string>;
}

/** How far the Hypervisor lets a connection relax its checks (spec.tls). */
export interface TransportPolicy {
  /** spec.tls.insecureSkipVerify: TLS certificates go unchecked, and a URI may say `no_verify=1`. */
  insecureSkipVerify?: boolean;
  /** spec.tls.caBundle: the CA (PEM) a TLS host's certificate must chain to, in place of pkipath's cacert.pem. */
  caBundle?: string;
}

export class LibvirtURIError extends ProviderInvalidError {}

const DEFAULT_PORT = { tcp: 16509, tls: 16514, ssh: 22 } as const;
/** A host name or address: never an option (`-oProxyCommand=…`), never a shell word. */
const HOST = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/;
const USER = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/;
/** An absolute path of plain characters: what goes to the remote shell or to ssh. */
const SAFE_PATH = /^\/[A-Za-z0-9_.+/-]*$/;
const PATH_PARAMS = ['socket', 'keyfile', 'known_hosts', 'pkipath'] as const;

export function parseLibvirtURI(uri: string): LibvirtURI {
  const m = /^(qemu|test|lxc|xen|libxl|ch|vz|bhyve|vbox)(?:\+(unix|tcp|tls|ssh))?:\/\/(?:([^@/]*)@)?([^/:?]*)(?::(\d+))?(\/[^?]*)?(?:\?(.*))?$/.exec(uri);
  if (!m) throw new LibvirtURIError(`not a libvirt URI: ${uri} (expected e.g. qemu:///system or qemu+tcp://host/system)`);
  const [, driver = 'qemu', t, user, host, port, path = '/system', query] = m;
  const transport = (t ?? (host ? 'tls' : 'unix')) as LibvirtURI['transport'];
  const params = Object.fromEntries(new URLSearchParams(query ?? ''));
  if (host && !HOST.test(host)) throw new LibvirtURIError(`libvirt URI ${uri}: the host "${host}" is not a host name or address (letters, digits, '.', '-', '_', not starting with '-')`);
  if (user !== undefined && !USER.test(user)) throw new LibvirtURIError(`libvirt URI ${uri}: the user "${user}" is not a user name (letters, digits, '.', '-', '_', not starting with '-')`);
  if (!SAFE_PATH.test(path)) throw new LibvirtURIError(`libvirt URI ${uri}: the path "${path}" must be an absolute path of letters, digits and . _ + - / (e.g. /system)`);
  for (const field of PATH_PARAMS) {
    const v = params[field];
    if (v !== undefined && !SAFE_PATH.test(v)) throw new LibvirtURIError(`libvirt URI ${uri}: ${field}= must be an absolute path of letters, digits and . _ + - / (got "${v}")`);
  }
  const socket = params.socket ?? (path === '/session' ? `${process.env.XDG_RUNTIME_DIR ?? '/run/user/0'}/libvirt/libvirt-sock` : '/var/run/libvirt/libvirt-sock');
  return {
    driver,
    transport,
    path,
    socket,
    params,
    remoteName: `${driver}://${path}`,
    ...(host ? { host } : {}),
    ...(user ? { user } : {}),
    ...(port ? { port: Number(port) } : transport !== 'unix' ? { port: DEFAULT_PORT[transport] } : {}),
  };
}

/** `no_verify=1` drops host-key and certificate checks: only when the Hypervisor says so itself. */
export function checkVerify(u: LibvirtURI, policy: TransportPolicy): void {
  if (u.params.no_verify !== undefined && u.params.no_verify !== '0' && !policy.insecureSkipVerify) {
    throw new LibvirtURIError(
      `libvirt URI for ${u.host ?? u.socket} has no_verify=${u.params.no_verify}, which turns off host-key and certificate checks; remove it, or set spec.tls.insecureSkipVerify: true on the Hypervisor to allow it`,
    );
  }
}

/** Whether host-key and certificate checks are off for this connection (both the URI and the Hypervisor said so, or the Hypervisor for TLS). */
export const skipsVerify = (u: LibvirtURI, policy: TransportPolicy): boolean => !!policy.insecureSkipVerify && (u.transport === 'tls' || u.params.no_verify === '1');

/**
 * ssh's argv for a tunnel to the remote daemon: options, `--`, the host, then the remote
 * command. ssh hands the command to the remote shell as one line, so what goes into it (the
 * socket, the remote name) has been held to plain path characters by parseLibvirtURI and is
 * quoted besides.
 */
export function sshArgs(u: LibvirtURI, policy: TransportPolicy = {}): string[] {
  if (!u.host) throw new LibvirtURIError('a qemu+ssh URI needs a host');
  checkVerify(u, policy);
  const quote = (s: string) => `'${s}'`;
  return [
    '-T',
    '-o',
    'BatchMode=yes',
    ...(u.port && u.port !== 22 ? ['-p', String(u.port)] : []),
    ...(u.params.keyfile ? ['-i', u.params.keyfile] : []),
    ...(u.params.known_hosts ? ['-o', `UserKnownHostsFile=${u.params.known_hosts}`] : []),
    ...(skipsVerify(u, policy) ? ['-o', 'StrictHostKeyChecking=no'] : ['-o', 'StrictHostKeyChecking=yes']),
    ...(u.user ? ['-l', u.user] : []),
    '--',
    u.host,
    `nc -U ${quote(u.socket)} 2>/dev/null || virt-ssh-helper ${quote(u.remoteName)}`,
  ];
}
