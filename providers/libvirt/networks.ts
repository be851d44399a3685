// VirtualNetworks on libvirt hosts: a `<network>` in bridge mode on an Open vSwitch bridge
// carrying the VLAN tag (libvirt takes a VLAN tag on a bridge-mode network only through
// Open vSwitch), defined, started and set to autostart on every listed host, with the
// ownership marker in its <metadata>. VMs attach with `<interface type='network'>`.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { RefusedError } from '../../controller/core/errors.ts';
import { formatOwner, parseOwner, sameOwner, type DesiredNetwork, type NetworkState } from '../../controller/core/provider.ts';
import type { LibvirtConnection } from './rpc/connection.ts';
import { orAbsent } from './rpc/protocol.ts';

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

/** Makes the network present, active and autostarted on one host; says what is wrong if it cannot. */
export async function ensureHostNetwork(c: LibvirtConnection, host: string, n: DesiredNetwork): Promise<NetworkState> {
  let net = await orAbsent(c.lookupNetwork(n.name));
  if (net) {
    const have = parseNetwork(await c.networkXml(net));
    if (have.vlan !== n.vlanId)
      return {
        present: false,
        providerIDs: [`${host}/${n.name}`],
        message: `network ${n.name} on ${host} carries VLAN ${have.vlan ?? 'none'}, not ${n.vlanId}; virtkeeper does not change a network ${have.owner ? 'it must redefine' : 'it did not create'}`,
      };
  } else net = await c.defineNetwork(networkXml(n));
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
    if (new RegExp(`<source network=['"]${n.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"]`).test(await c.xmlDesc(d, 2))) users.push(d.name);
  }
  if (users.length > 0) throw new RefusedError(`network ${n.name} on ${host} is still used by ${users.join(', ')}; it stays until no VM uses it`);
  if (await c.networkActive(net)) await c.stopNetwork(net);
  await c.undefineNetwork(net);
}
