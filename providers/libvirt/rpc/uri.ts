// libvirt connection URIs: `qemu:///system`, `qemu+unix:///system?socket=…`,
// `qemu+tcp://host:port/system`, `qemu+tls://host/system`, `qemu+ssh://user@host/system`.
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

export class LibvirtURIError extends Error {}

const DEFAULT_PORT = { tcp: 16509, tls: 16514, ssh: 22 } as const;

export function parseLibvirtURI(uri: string): LibvirtURI {
  const m = /^(qemu|test|lxc|xen|libxl|ch|vz|bhyve|vbox)(?:\+(unix|tcp|tls|ssh))?:\/\/(?:([^@/]*)@)?([^/:?]*)(?::(\d+))?(\/[^?]*)?(?:\?(.*))?$/.exec(uri);
  if (!m) throw new LibvirtURIError(`not a libvirt URI: ${uri} (expected e.g. qemu:///system or qemu+tcp://host/system)`);
  const [, driver = 'qemu', t, user, host, port, path = '/system', query] = m;
  const transport = (t ?? (host ? 'tls' : 'unix')) as LibvirtURI['transport'];
  const params = Object.fromEntries(new URLSearchParams(query ?? ''));
  const socket = params.socket ?? (path === '/session' ? `${process.env.XDG_RUNTIME_DIR ?? '/run/user/0'}/libvirt/libvirt-sock` : '/var/run/libvirt/libvirt-sock');
  return {
    driver, transport, path, socket, params, remoteName: `${driver}://${path}`,
    ...(host ? { host } : {}), ...(user ? { user } : {}),
    ...(port ? { port: Number(port) } : transport !== 'unix' ? { port: DEFAULT_PORT[transport] } : {}),
  };
}
