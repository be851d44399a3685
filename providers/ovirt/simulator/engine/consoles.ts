// Graphics consoles (vms/{id}/graphicsconsoles): SPICE and VNC, a ticket per VM with its
// expiry (graphicsconsoles/{id}/ticket), and the remote-viewer file the engine writes with a
// fresh ticket (remoteviewerconnectionfile, or GET with Accept: application/x-virt-viewer).
// Each running VM's display is a real TCP port on 127.0.0.1; as a stand-in for the SPICE/VNC
// handshake it reads one line, the password, and answers `OK` or `DENIED`, so a test can check
// that the ticket in a file is the one the display accepts, and for as long as it should.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { conflict, type Engine, notFound } from '../engine.ts';
import type { SimVM } from '../model.ts';
import { num, obj, type Tree } from '../representation.ts';
import { API } from '../views/common.ts';

/** A body sent as it is (the .vv file), not rendered as JSON or XML. */
export class ViewerFile {
  readonly text: string;
  readonly contentType = 'application/x-virt-viewer; charset=UTF-8';
  constructor(text: string) {
    this.text = text;
  }
}

const PROTOCOLS = ['spice', 'vnc'] as const;
type Protocol = (typeof PROTOCOLS)[number];
/** The engine names a console by the hex of its protocol (`766e63` is vnc). */
const consoleId = (p: Protocol) => Buffer.from(p).toString('hex');
const DEFAULT_TTL = 120;

/** The display ports, one per VM that was asked for a console, per engine. */
class Displays {
  private readonly servers = new Map<string, { server: Server; port: number }>();
  private readonly vmOf: (id: string) => SimVM | undefined;
  constructor(vmOf: (id: string) => SimVM | undefined) {
    this.vmOf = vmOf;
  }

  async port(vm: SimVM): Promise<number> {
    const have = this.servers.get(vm.id);
    if (have) return have.port;
    const server = createServer((sock) => {
      let line = '';
      sock.setEncoding('utf8');
      sock.on('data', (chunk: string) => {
        line += chunk;
        if (!line.includes('\n')) return;
        const v = this.vmOf(vm.id);
        const ok = !!v && accepts(v, line.split('\n')[0] ?? '');
        sock.end(ok ? `OK ${v?.name ?? ''}\n` : 'DENIED\n');
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    this.servers.set(vm.id, { server, port });
    return port;
  }

  known(vm: SimVM): number | undefined {
    return this.servers.get(vm.id)?.port;
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => new Promise<void>((r) => s.server.close(() => r()))));
    this.servers.clear();
  }
}

const displays = new WeakMap<Engine, Displays>();
function displaysOf(e: Engine): Displays {
  let d = displays.get(e);
  if (!d) {
    d = new Displays((x) => e.state.vms.find((v) => v.id === x));
    displays.set(e, d);
  }
  return d;
}

/** Closes the display ports of an engine (the simulator's close). */
export function closeDisplays(e: Engine): Promise<void> {
  return displays.get(e)?.close() ?? Promise.resolve();
}

export function consoleViews(e: Engine, vm: SimVM, current: boolean) {
  const port = displaysOf(e).known(vm);
  return PROTOCOLS.map((p) => ({
    id: consoleId(p),
    href: `${API}/vms/${vm.id}/graphicsconsoles/${consoleId(p)}`,
    protocol: p,
    ...(current && vm.status === 'up' ? { address: '127.0.0.1', ...(port ? { port } : {}) } : {}),
    vm: { id: vm.id, href: `${API}/vms/${vm.id}` },
  }));
}

function protocolOf(gid: string): Protocol {
  const p = PROTOCOLS.find((x) => consoleId(x) === gid);
  if (!p) throw notFound();
  return p;
}

function setTicket(vm: SimVM, value: string | undefined, ttl: number): { value: string; expiry: number } {
  const v = value || randomBytes(9).toString('base64url');
  vm.ticket = { value: v, expires: Date.now() + ttl * 1000 };
  return { value: v, expiry: ttl };
}

/** `graphicsconsoles/{id}/ticket`: the value asked for (or a new one) with the expiry asked (or 120 s). */
export function consoleTicket(vm: SimVM, gid: string, body: Tree): { value: string; expiry: number } {
  protocolOf(gid);
  if (vm.status !== 'up') throw conflict('[Cannot set console ticket. VM is not running.]');
  const t = obj(body.ticket);
  return setTicket(vm, typeof t.value === 'string' ? t.value : undefined, num(t.expiry) ?? DEFAULT_TTL);
}

/** The remote-viewer file, with a fresh ticket of the engine's default lifetime. */
export async function viewerFile(e: Engine, vm: SimVM, gid: string): Promise<string> {
  const protocol = protocolOf(gid);
  if (vm.status !== 'up') throw conflict('[Cannot get console file. VM is not running.]');
  const port = await displaysOf(e).port(vm);
  const { value } = setTicket(vm, undefined, DEFAULT_TTL);
  const host = e.state.hosts.find((h) => h.id === vm.host);
  return [
    '[virt-viewer]',
    `type=${protocol}`,
    'host=127.0.0.1',
    `port=${port}`,
    `password=${value}`,
    `# Password is valid for ${DEFAULT_TTL} seconds.`,
    'delete-this-file=1',
    'fullscreen=0',
    `title=${vm.name}:%d`,
    'toggle-fullscreen=shift+f11',
    'release-cursor=shift+f12',
    'secure-attention=ctrl+alt+end',
    ...(protocol === 'spice' ? ['enable-smartcard=0', 'enable-usb-autoshare=1', 'usb-filter=-1,-1,-1,-1,0', `host-subject=O=sim.test,CN=${host?.name ?? 'host'}.sim.test`] : []),
    '',
    '[ovirt]',
    `vm-guid=${vm.id}`,
    'admin=1',
    '',
  ].join('\n');
}

/** The routes under vms/{id}/graphicsconsoles; `virtViewer`: the GET asked for the file itself. */
export async function consoleRoute(e: Engine, method: string, vm: SimVM, gid: string | undefined, action: string | undefined, body: Tree, q: URLSearchParams): Promise<[number, string, unknown]> {
  if (!gid && method === 'GET') return [200, 'graphics_consoles', { graphics_console: consoleViews(e, vm, q.get('current') === 'true') }];
  if (gid && !action && method === 'GET') {
    const c = consoleViews(e, vm, q.get('current') === 'true').find((x) => x.id === gid);
    if (!c) throw notFound();
    return [200, 'graphics_console', c];
  }
  if (gid && action === 'ticket' && method === 'POST') return [200, 'action', { status: 'complete', ticket: consoleTicket(vm, gid, body) }];
  if (gid && action === 'remoteviewerconnectionfile' && method === 'POST') return [200, 'action', { status: 'complete', remote_viewer_connection_file: await viewerFile(e, vm, gid) }];
  throw notFound();
}

/** Whether the display of this VM takes this password now (what a viewer's connection checks). */
export function accepts(vm: SimVM, password: string): boolean {
  return vm.status === 'up' && !!vm.ticket && vm.ticket.value === password && vm.ticket.expires > Date.now();
}
