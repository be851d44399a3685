// VirtualNetworks on libvirt hosts: a `<network>` in bridge mode on an Open vSwitch bridge
// carrying the VLAN tag (libvirt takes a VLAN tag on a bridge-mode network only through
// Open vSwitch), defined, started and set to autostart on every listed host, with the
// ownership marker in its <metadata>. VMs attach with `<interface type='network'>`.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { RefusedError } from '../../controller/core/errors.ts';
import { formatOwner, parseOwner, sameOwner, type DesiredNetwork, type KindObservation, type NetworkClient, type NetworkState } from '../../controller/core/provider.ts';
import { parseDomain } from './domain-xml.ts';
import type { Hosts } from './hosts.ts';
import type { LibvirtConnection } from './rpc/connection.ts';
import { orAbsent, XmlFlags } from './rpc/protocol.ts';

const NS = 'https://virtkeeper.io/xmlns/owner/1';
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => name === 'tag' });
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@' });

/** The Open vSwitch bridge a network uses unless the binding names one. */
export const DEFAULT_OVS_BRIDGE = 'ovsbr0';

export function networkXml(n: DesiredNetwork): string {
  return builder.build({
    network: {
      name: n.name,
      metadata: { 'vk:owner': { '@xmlns:vk': NS, '#text': formatOwner(n.owner) } },
      forward: { '@mode': 'bridge' },
      bridge: { '@name': n.bridge ?? DEFAULT_OVS_BRIDGE },
      virtualport: { '@type': 'openvswitch' },
      vlan: { tag: [{ '@id': String(n.vlanId) }] },
    },
  }) as string;
}

export interface ParsedNetwork {
  owner?: ReturnType<typeof parseOwner>;
  vlan?: number;
  bridge?: string;
}

export function parseNetwork(xml: string): ParsedNetwork {
  const net = (parser.parse(xml) as { network?: Record<string, unknown> }).network ?? {};
  const meta = (net.metadata ?? {}) as Record<string, unknown>;
  const ownerText = Object.values(meta)
    .map((v) => (typeof v === 'string' ? v : String((v as Record<string, unknown>)['#text'] ?? '')))
    .join(' ');
  const owner = parseOwner(ownerText);
  const tag = ((net.vlan as { tag?: Record<string, string>[] } | undefined)?.tag ?? [])[0];
  const bridge = (net.bridge as Record<string, string> | undefined)?.['@name'];
  return { ...(owner ? { owner } : {}), ...(tag ? { vlan: Number(tag['@id']) } : {}), ...(bridge ? { bridge } : {}) };
}

/** What ensure would do on one host: nothing changed here. */
export async function surveyHostNetwork(c: LibvirtConnection, host: string, n: DesiredNetwork): Promise<{ exists: boolean; intents: string[]; problem?: string }> {
  const net = await orAbsent(c.lookupNetwork(n.name));
  if (!net) return { exists: false, intents: [`define network ${n.name} (VLAN ${n.vlanId} on ${n.bridge ?? DEFAULT_OVS_BRIDGE}) on ${host}, start it, autostart it`] };
  const have = parseNetwork(await c.networkXml(net));
  if (have.vlan !== n.vlanId)
    return {
      exists: true,
      intents: [],
      problem: `network ${n.name} on ${host} carries VLAN ${have.vlan ?? 'none'}, not ${n.vlanId}; virtkeeper does not change a network ${have.owner ? 'it must redefine' : 'it did not create'}`,
    };
  const intents: string[] = [];
  if (!(await c.networkActive(net))) intents.push(`start network ${n.name} on ${host}`);
  if (!(await c.networkAutostart(net))) intents.push(`autostart network ${n.name} on ${host}`);
  return { exists: true, intents };
}

/** Makes the network present, active and autostarted on one host; says what is wrong if it cannot. */
export async function ensureHostNetwork(c: LibvirtConnection, host: string, n: DesiredNetwork): Promise<NetworkState> {
  const survey = await surveyHostNetwork(c, host, n);
  if (survey.problem) return { present: false, providerIDs: [`${host}/${n.name}`], message: survey.problem };
  const net = (await orAbsent(c.lookupNetwork(n.name))) ?? (await c.defineNetwork(networkXml(n)));
  if (!(await c.networkActive(net))) await c.startNetwork(net);
  if (!(await c.networkAutostart(net))) await c.setNetworkAutostart(net, true);
  return { present: true, providerIDs: [`${host}/${n.name}`] };
}

/** Removes the network from one host if virtkeeper made it and no domain there uses it. */
export async function deleteHostNetwork(c: LibvirtConnection, host: string, n: DesiredNetwork): Promise<void> {
  const net = await orAbsent(c.lookupNetwork(n.name));
  if (!net || !sameOwner(parseNetwork(await c.networkXml(net)).owner, n.owner)) return;
  const users: string[] = [];
  for (const d of await c.listAllDomains()) {
    const xml = await orAbsent(c.xmlDesc(d, XmlFlags.INACTIVE));
    if (xml && parseDomain(xml).nics.some((x) => x.network === n.name)) users.push(d.name);
  }
  if (users.length > 0) throw new RefusedError(`network ${n.name} on ${host} is still used by ${users.join(', ')}; it stays until no VM uses it`);
  if (await c.networkActive(net)) await c.stopNetwork(net);
  await c.undefineNetwork(net);
}

/** A VLAN's libvirt network on every host the binding lists (all hosts by default). */
export class LibvirtNetworks implements NetworkClient {
  private readonly hosts: Hosts;

  constructor(hosts: Hosts) {
    this.hosts = hosts;
  }

  private targets(n: DesiredNetwork): string[] {
    return n.nodes?.length ? n.nodes : this.hosts.list.map((h) => h.name);
  }

  async observe(n: DesiredNetwork): Promise<KindObservation<NetworkState>> {
    const intents: string[] = [];
    const problems: string[] = [];
    const ids: string[] = [];
    let everywhere = true;
    for (const host of this.targets(n)) {
      if (!this.hosts.entry(host)) {
        problems.push(`host ${host} is not a host of this Hypervisor`);
        continue;
      }
      const s = await surveyHostNetwork(await this.hosts.conn(host), host, n);
      if (s.exists) ids.push(`${host}/${n.name}`);
      else everywhere = false;
      intents.push(...s.intents);
      if (s.problem) problems.push(s.problem);
    }
    const present = everywhere && problems.length === 0 && intents.length === 0;
    return {
      exists: ids.length > 0,
      upToDate: present,
      ...(ids.length ? { state: { present, providerIDs: ids } } : {}),
      intents,
      ...(problems.length ? { problem: problems.join('; ') } : {}),
    };
  }

  async ensure(n: DesiredNetwork): Promise<NetworkState> {
    const results: NetworkState[] = [];
    for (const host of this.targets(n)) {
      if (!this.hosts.entry(host)) {
        results.push({ present: false, providerIDs: [], message: `host ${host} is not a host of this Hypervisor` });
        continue;
      }
      results.push(await ensureHostNetwork(await this.hosts.conn(host), host, n));
    }
    const missing = results.filter((r) => !r.present);
    return { present: missing.length === 0, providerIDs: results.flatMap((r) => r.providerIDs), ...(missing.length ? { message: missing.map((r) => r.message).join('; ') } : {}) };
  }

  async delete(n: DesiredNetwork): Promise<void> {
    for (const host of this.targets(n)) if (this.hosts.entry(host)) await deleteHostNetwork(await this.hosts.conn(host), host, n);
  }
}
