// Console access as a node grants it: `vncproxy` (a VNC port for one connection, a ticket
// signed for user + /vms/{vmid} + port, valid 40 s, and a VNC password), `vncwebsocket` that
// verifies that ticket, and `spiceproxy` (a remote-viewer config whose `host` is a proxy
// ticket that the SPICE proxy verifies on CONNECT, and a one-time password QEMU accepts for
// 30 s). The simulator's SPICE proxy listens on its API port instead of 3128.
import { createHash, createHmac, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ANY, BOOL, PveError, type Check, type Route } from './http.ts';
import type { SimState, SimVM } from './model.ts';
import { findVM } from './qemu-common.ts';
import type { Tasks } from './tasks.ts';

export interface ConsoleEnv {
  state: () => SimState;
  tasks: Tasks;
  now: () => number;
  /** The API's PEM certificate when serving HTTPS. */
  certificate: () => string | undefined;
  /** The port the simulator listens on: its SPICE proxy's (a node's listens on 3128). */
  port: () => number;
}

const hex8 = (n: number) => Math.floor(n).toString(16).toUpperCase().padStart(8, '0');
/** How long a short-lived ticket is accepted, in seconds after it was made (-20 < age < 40). */
const TICKET_MAX_AGE = 40;
/** `expire_password +30` after spiceproxy. */
const SPICE_PASSWORD_S = 30;
/** How long a vncproxy waits for its one connection. */
const VNC_ACCEPT_MS = 10_000;

const vncPort: Check = (v) => {
  if (!/^\d+$/.test(v)) return `type check ('integer') failed - got '${v}'`;
  if (Number(v) < 5900) return 'value must have a minimum value of 5900';
  return Number(v) > 5999 ? 'value must have a maximum value of 5999' : undefined;
};
const ticketParam: Check = (v) => (v.length > 512 ? 'value may only be 512 characters long' : undefined);

/** What the node issued, and checks what a client brings back. */
export class ConsoleTickets {
  private readonly key = randomBytes(32);
  /** VNC proxies waiting for (or holding) their connection, by port. */
  readonly vnc = new Map<number, { vmid: number; connected: boolean }>();
  /** The SPICE password QEMU holds per VM, and until when (ms). */
  readonly spice = new Map<number, { password: string; until: number }>();
  private readonly now: () => number;
  constructor(now: () => number) {
    this.now = now;
  }

  private sign(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64');
  }

  private fresh(hexTime: string): boolean {
    const age = this.now() / 1000 - Number.parseInt(hexTime, 16);
    return age > -20 && age < TICKET_MAX_AGE;
  }

  /** `PVEVNC:<time>::<signature over user:path:port>`, as assemble_vnc_ticket. */
  vncTicket(user: string, path: string, port: number): string {
    const plain = `PVEVNC:${hex8(this.now() / 1000)}`;
    return `${plain}::${this.sign(`${plain}:${user}:${path}:${port}`)}`;
  }

  verifyVnc(ticket: string, user: string, path: string, port: number): boolean {
    // The password prefix the ticket carries (`<8 chars>:PVEVNC:…`) is dropped first.
    const t = /^.{8}:(PVEVNC:.*)$/.exec(ticket)?.[1] ?? ticket;
    const m = /^(PVEVNC:([0-9A-F]{8}))::(\S+)$/.exec(t);
    if (!m) return false;
    const want = Buffer.from(this.sign(`${m[1]}:${user}:${path}:${port}`));
    const got = Buffer.from(m[3] ?? '');
    return want.length === got.length && timingSafeEqual(want, got) && this.fresh(m[2] ?? '');
  }

  /** The one-time password and the proxy ticket (`pvespiceproxy:<time>:<vmid>:<node>:<port>::<sha1>`). */
  spiceTicket(user: string, vmid: number, node: string, port: number): { password: string; proxyTicket: string } {
    const time = hex8(this.now() / 1000).toLowerCase();
    const password = createHash('sha1')
      .update(`PVESPICE:${time}:${user}:${vmid}:${node}:${randomBytes(16).toString('hex')}`)
      .digest('hex');
    const plain = `pvespiceproxy:${time}:${vmid}:${node.toLowerCase()}:${port}`;
    this.spice.set(vmid, { password, until: this.now() + SPICE_PASSWORD_S * 1000 });
    return { password, proxyTicket: `${plain}::${createHmac('sha1', this.key).update(plain).digest('hex')}` };
  }

  /** The SPICE proxy's check of a CONNECT target (`<proxy ticket>:<port>`), as verify_spice_connect_url. */
  verifySpiceConnect(target: string): { vmid: number; node: string; port: number } | undefined {
    const m = /^pvespiceproxy:([a-z0-9]{8}):(\d+):(\S+):(\d+)::([a-z0-9]{40}):(\d+)$/.exec(target);
    if (!m || !this.fresh(m[1] ?? '') || m[4] !== m[6]) return undefined;
    const plain = `pvespiceproxy:${m[1]}:${m[2]}:${m[3]}:${m[4]}`;
    if (createHmac('sha1', this.key).update(plain).digest('hex') !== m[5]) return undefined;
    return { vmid: Number(m[2]), node: m[3] ?? '', port: Number(m[4]) };
  }

  /** What QEMU's SPICE server answers to a password: the current one, before it expires. */
  spiceLogin(vmid: number, password: string): boolean {
    const p = this.spice.get(vmid);
    return !!p && p.password === password && this.now() < p.until;
  }

  /** Answers a CONNECT to the SPICE proxy: 200 for a valid ticket (then closed: there is no SPICE server behind it), 401 otherwise. */
  connect(req: IncomingMessage, socket: Duplex): void {
    const ok = this.verifySpiceConnect(req.url ?? '');
    socket.end(ok ? 'HTTP/1.0 200 OK\r\n\r\n' : 'HTTP/1.0 401 invalid ticket\r\n\r\n');
  }
}

const serialOf = (vm: SimVM) => /^(serial\d)/.exec(vm.config.vga ?? '')?.[1];
const hasSpice = (vm: SimVM) => /^qxl\d?(,|$)/.test(vm.config.vga ?? '');

/** A VNC password: 8 characters from '!' to '`', as generate_vnc_password. */
function vncPassword(): string {
  return [...randomBytes(8)].map((b) => String.fromCharCode(33 + (b % 64))).join('');
}

export function consoleRoutes(env: ConsoleEnv, tickets: ConsoleTickets): Route[] {
  const s = env.state;
  const subject = () => {
    const cert = env.certificate();
    // remote-viewer wants `,` between the parts of the subject.
    return cert ? new X509Certificate(cert).subject.split('\n').join(',') : 'OU=PVE Cluster Node,O=Proxmox Virtual Environment,CN=pve1.sim';
  };
  return [
    {
      method: 'POST',
      pattern: '/nodes/{node}/qemu/{vmid}/vncproxy',
      params: { websocket: BOOL, 'generate-password': BOOL },
      handler: ({ path, params, user }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        let port = 5900;
        while (tickets.vnc.has(port) && port < 5999) port++;
        if (tickets.vnc.has(port)) throw new PveError(500, 'unable to find free port (5900-5999)');
        const ticket = tickets.vncTicket(user, `/vms/${vm.vmid}`, port);
        // A password is made unless a serial terminal is served to a non-websocket client.
        const password = params['generate-password'] === '1' || !serialOf(vm) || params.websocket === '1' ? vncPassword() : undefined;
        tickets.vnc.set(port, { vmid: vm.vmid, connected: false });
        const upid = env.tasks.start({
          node: vm.node,
          type: 'vncproxy',
          id: String(vm.vmid),
          user,
          durationMs: VNC_ACCEPT_MS,
          work: () => {
            const used = tickets.vnc.get(port)?.connected;
            tickets.vnc.delete(port);
            if (!used) throw new PveError(500, 'connection timed out');
          },
        });
        return { user, ticket: password ? `${password}:${ticket}` : ticket, port, upid, cert: env.certificate() ?? '', ...(password ? { password } : {}) };
      },
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/qemu/{vmid}/vncwebsocket',
      required: ['vncticket', 'port'],
      params: { vncticket: ticketParam, port: vncPort },
      handler: ({ path, params, user }) => {
        const port = Number(params.port);
        if (!tickets.verifyVnc(params.vncticket ?? '', user, `/vms/${path.vmid}`, port)) throw new PveError(401, 'permission denied - invalid PVEVNC ticket');
        findVM(s(), path.vmid ?? '', path.node);
        const proxy = tickets.vnc.get(port);
        if (proxy) proxy.connected = true;
        return { port: String(port) };
      },
    },
    {
      method: 'POST',
      pattern: '/nodes/{node}/qemu/{vmid}/spiceproxy',
      params: { proxy: ANY },
      handler: ({ path, params, user }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        // spice_port asks QEMU (query-spice): a stopped VM has no monitor, a VM without a qxl display no port.
        if (vm.status !== 'running') throw new PveError(500, `VM ${vm.vmid} not running`);
        if (!hasSpice(vm)) throw new PveError(500, 'no spice port');
        const port = 61000 + (vm.vmid % 1000);
        const { password, proxyTicket } = tickets.spiceTicket(user, vm.vmid, vm.node, port);
        const proxy = `http://${params.proxy ?? '127.0.0.1'}:${env.port()}`;
        return {
          'secure-attention': 'Ctrl+Alt+Ins',
          'toggle-fullscreen': 'Shift+F11',
          'release-cursor': 'Ctrl+Alt+R',
          type: 'spice',
          title: `VM ${vm.vmid}${vm.config.name ? ` - ${vm.config.name}` : ''}`,
          host: proxyTicket,
          proxy,
          'tls-port': port,
          'host-subject': subject(),
          ca: (env.certificate() ?? '').replace(/\n/g, '\\n'),
          password,
          'delete-this-file': 1,
        };
      },
    },
  ];
}
