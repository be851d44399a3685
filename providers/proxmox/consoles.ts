// Console tickets on Proxmox. A VM with a qxl display gets SPICE through `spiceproxy` (the
// node's remote-viewer config: the proxy ticket as `host`, a one-time password QEMU accepts for
// 30 s); any other gets VNC through `vncproxy` in websocket mode (a port on the API node's
// loopback for one connection within 10 s, reached through an ssh tunnel). The ticket is a secret: it
// goes into the returned file and nowhere else (no log, no error text).
import type { Target } from '../../controller/core/actions.ts';
import { ProviderInvalidError } from '../../controller/core/errors.ts';
import type { ActionContext, ConsoleClient, ConsoleTicket } from '../../controller/core/provider.ts';
import type { ProxmoxClient } from './client.ts';
import { ownedGuest } from './owned.ts';

/** How long the node keeps what it issued: the SPICE password (expire_password +30), a VNC proxy's wait for its connection. */
const SPICE_PASSWORD_S = 30;
const VNC_ACCEPT_S = 10;
/** An endpoint on this machine needs no tunnel to its loopback. */
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

interface VncProxy {
  port: number | string;
  ticket: string;
  password?: string;
  user: string;
  upid: string;
}

type SpiceConfig = Record<string, string | number> & { host: string; 'tls-port': number | string; password: string; proxy?: string };

/** A remote-viewer file: one `[virt-viewer]` group, a `key=value` line each (values are single lines). */
export function viewerFile(fields: Record<string, string | number | undefined>): string {
  const lines = Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${String(v).replace(/\r?\n/g, '\\n')}`);
  return `[virt-viewer]\n${lines.join('\n')}\n`;
}

export class ProxmoxConsoles implements ConsoleClient {
  private readonly api: ProxmoxClient;
  private readonly endpoint: URL;
  private readonly now: () => number;

  constructor(options: { api: ProxmoxClient; endpoint: string; now?: () => number }) {
    this.api = options.api;
    this.endpoint = new URL(options.endpoint);
    this.now = options.now ?? Date.now;
  }

  async open(target: Target, options: { protocol?: 'spice' | 'vnc'; ttlSeconds: number } & ActionContext): Promise<ConsoleTicket> {
    const g = await ownedGuest(this.api, target, 'open a console on');
    if (g.status !== 'running') throw new ProviderInvalidError(`VM ${target.name} is ${g.status}, so it has no console to open; start it first (runStrategy: Always, or \`virtkeeper apply\`)`);
    const vga = g.config.vga ?? '';
    const spice = /^qxl\d?(,|$)/.test(vga);
    const protocol = options.protocol ?? (spice ? 'spice' : 'vnc');
    if (protocol === 'spice' && !spice) throw new ProviderInvalidError(`VM ${target.name} has no SPICE display (vga: ${vga || 'std'}); use --protocol vnc, or give it a qxl display`);
    const title = `VM ${g.vmid} - ${target.name}`;
    if (protocol === 'spice') {
      // The proxy is the host this client reaches the API by, as the web UI asks for it.
      const c = await this.api.post<SpiceConfig>(`${g.path}/spiceproxy`, { proxy: this.endpoint.hostname });
      const ttl = Math.min(options.ttlSeconds, SPICE_PASSWORD_S);
      return {
        protocol: 'spice',
        host: c.host,
        port: Number(c['tls-port']),
        tlsPort: Number(c['tls-port']),
        password: c.password,
        expiresAt: new Date(this.now() + ttl * 1000).toISOString(),
        viewerFile: viewerFile({ ...c, title }),
      };
    }
    const r = await this.api.post<VncProxy>(`${g.path}/vncproxy`, { websocket: 1, 'generate-password': 1 });
    const port = Number(r.port);
    // vncproxy runs on the node that answers the API (it reaches the VM's node over ssh itself):
    // the port is on the endpoint's loopback.
    const host = this.endpoint.hostname;
    // The ticket is `<VNC password>:PVEVNC:…`: VNC authentication uses its first 8 characters,
    // which are the password, and the node's vncwebsocket accepts it whole as the ticket.
    return {
      protocol: 'vnc',
      host: '127.0.0.1',
      port,
      password: r.ticket,
      expiresAt: new Date(this.now() + Math.min(options.ttlSeconds, VNC_ACCEPT_S) * 1000).toISOString(),
      viewerFile: viewerFile({ type: 'vnc', title, host: '127.0.0.1', port, password: r.ticket, 'delete-this-file': 1 }),
      ...(LOOPBACK.test(host) ? {} : { tunnel: `ssh -N -L ${port}:localhost:${port} root@${host}` }),
    };
  }
}
