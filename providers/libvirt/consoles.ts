// Console access on libvirt: a fresh password with an expiry set on the running domain's VNC
// or SPICE device (virDomainUpdateDeviceFlags, live only: the persistent definition keeps its
// own unknown password, so the console is locked again on the next boot). The ticket comes
// back with a remote-viewer file and, where the display listens on another host's loopback, an
// ssh line that forwards its port. The password never goes to a log, a status or an event.
import { randomBytes } from 'node:crypto';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { Target } from '../../controller/core/actions.ts';
import { ProviderConflictError, VkError } from '../../controller/core/errors.ts';
import type { ActionContext, ConsoleClient, ConsoleTicket } from '../../controller/core/provider.ts';
import type { Hosts } from './hosts.ts';
import { AffectFlags } from './rpc/protocol.ts';
import { parseLibvirtURI, type LibvirtURI } from './rpc/uri.ts';

/** The domain has no display of the kind asked. */
export class NoConsoleError extends VkError {
  override readonly code = 'VK_NO_CONSOLE';
  override readonly kind = 'invalid';
}

type X = Record<string, unknown>;
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => name === 'graphics' || name === 'listen' });
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', suppressEmptyNode: true });
const LOOPBACK = /^(127\.|::1$|localhost$)/;

/** The live domain's graphics devices, as parsed elements. */
export function graphicsOf(domainXml: string): X[] {
  const d = ((parser.parse(domainXml) as X).domain ?? {}) as X;
  return (((d.devices ?? {}) as X).graphics ?? []) as X[];
}

/** The device as updateDevice takes it: the same device, with a password valid until `validTo`. */
export function graphicsXml(g: X, password: string, validTo: Date): string {
  const keep = Object.fromEntries(Object.entries(g).filter(([k]) => k !== '@passwd' && k !== '@passwdValidTo'));
  return builder.build({ graphics: { ...keep, '@passwd': password, '@passwdValidTo': validTo.toISOString().slice(0, 19) } }) as string;
}

const listenOf = (g: X): string => String(g['@listen'] ?? ((g.listen as X[] | undefined) ?? []).map((l) => l['@address']).find(Boolean) ?? '127.0.0.1');

/** `ssh -N -L …` for a display on a remote host's loopback (or any remote host, over qemu+ssh). */
export function tunnelLine(u: LibvirtURI, listen: string, ports: number[]): string {
  const to = LOOPBACK.test(listen) || listen === '0.0.0.0' || listen === '::' ? '127.0.0.1' : listen;
  return [
    'ssh -N',
    ...ports.map((p) => `-L ${p}:${to}:${p}`),
    ...(u.port && u.transport === 'ssh' && u.port !== 22 ? [`-p ${u.port}`] : []),
    ...(u.params.keyfile ? [`-i ${u.params.keyfile}`] : []),
    ...(u.params.known_hosts ? [`-o UserKnownHostsFile=${u.params.known_hosts}`] : []),
    `${u.user ? `${u.user}@` : ''}${u.host}`,
  ].join(' ');
}

export function viewerFile(t: Omit<ConsoleTicket, 'viewerFile' | 'expiresAt'>, title: string): string {
  return [
    '[virt-viewer]',
    `type=${t.protocol}`,
    `host=${t.host}`,
    `port=${t.port}`,
    ...(t.tlsPort ? [`tls-port=${t.tlsPort}`] : []),
    `password=${t.password}`,
    `title=${title}`,
    'delete-this-file=1',
    '',
  ].join('\n');
}

export class LibvirtConsoles implements ConsoleClient {
  private readonly hosts: Hosts;
  private readonly now: () => number;

  constructor(hosts: Hosts, now: () => number) {
    this.hosts = hosts;
    this.now = now;
  }

  async open(target: Target, o: { protocol?: 'spice' | 'vnc'; ttlSeconds: number } & ActionContext): Promise<ConsoleTicket> {
    const { c, d, host, running } = await this.hosts.locateOwned(target, 'no console ticket is made for it');
    if (!running) throw new ProviderConflictError(`VM ${target.name} is not running; start it, then ask for its console`);
    const all = graphicsOf(await c.xmlDesc(d));
    const g = all.find((x) => !o.protocol || x['@type'] === o.protocol) ?? (o.protocol ? undefined : all[0]);
    const protocol = g?.['@type'];
    if (!g || (protocol !== 'vnc' && protocol !== 'spice'))
      throw new NoConsoleError(
        `VM ${target.name} has no ${o.protocol ?? 'VNC or SPICE'} display; give its domain a <graphics type='${o.protocol ?? 'vnc'}'/> device (VMs virtkeeper creates have a VNC one)`,
      );
    const port = Number(g['@port'] ?? -1);
    const tlsPort = Number(g['@tlsPort'] ?? 0);
    if (port <= 0 && tlsPort <= 0) throw new NoConsoleError(`the ${protocol} display of VM ${target.name} has no port yet; try again in a moment`);
    // VNC authentication uses 8 characters of a password at most.
    const password = randomBytes(12)
      .toString('base64url')
      .slice(0, protocol === 'vnc' ? 8 : 16);
    const expires = new Date(this.now() + o.ttlSeconds * 1000);
    await c.updateDevice(d, graphicsXml(g, password, expires), AffectFlags.LIVE);
    const u = parseLibvirtURI(this.hosts.entry(host)?.uri ?? '');
    const listen = listenOf(g);
    // qemu+ssh says the host is reached through ssh, whatever its address.
    const local = u.transport === 'unix' || (u.transport !== 'ssh' && !!u.host && LOOPBACK.test(u.host));
    // A display on loopback of another host (or any display over qemu+ssh) is reached through ssh.
    const tunnelled = !local && (u.transport === 'ssh' || LOOPBACK.test(listen));
    const ports = [port, tlsPort].filter((p) => p > 0);
    const shown =
      local || tunnelled ? (local && !LOOPBACK.test(listen) && listen !== '0.0.0.0' && listen !== '::' ? listen : '127.0.0.1') : listen === '0.0.0.0' || listen === '::' ? (u.host ?? listen) : listen;
    const base = { protocol, host: shown, port, ...(tlsPort > 0 ? { tlsPort } : {}), password, ...(tunnelled ? { tunnel: tunnelLine(u, listen, ports) } : {}) } as const;
    return { ...base, expiresAt: expires.toISOString(), viewerFile: viewerFile(base, target.name) };
  }
}
