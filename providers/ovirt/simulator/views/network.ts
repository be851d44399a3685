// Networks and vNIC profiles as the engine sends them.
import type { EngineState, SimNetwork } from '../model.ts';
import { API, type Follow, link, NONE, rels } from './common.ts';
import { datacenterView } from './infra.ts';

export function networkView(n: SimNetwork, s?: EngineState, follow: Follow = NONE): Record<string, unknown> {
  const base = `${API}/networks/${n.id}`;
  const dc = s?.datacenters.find((d) => d.id === n.data_center);
  return {
    id: n.id,
    href: base,
    name: n.name,
    description: n.description ?? (n.name === 'ovirtmgmt' ? 'Management Network' : ''),
    comment: '',
    mtu: n.mtu,
    stp: false,
    port_isolation: false,
    vdsm_name: n.name,
    ...(n.vlan ? { vlan: { id: n.vlan } } : {}),
    usages: { usage: n.name === 'ovirtmgmt' ? ['management', 'vm'] : ['vm'] },
    data_center: follow.has('data_center') && dc && s ? datacenterView(s, dc) : link('datacenters', n.data_center),
    link: rels(base, ['networklabels', 'permissions', 'vnicprofiles']),
    ...(follow.has('vnic_profiles') && s ? { vnic_profiles: { vnic_profile: s.vnicprofiles.filter((p) => p.network === n.id).map((p) => vnicProfileView(s, p)) } } : {}),
  };
}

export function vnicProfileView(s: EngineState, p: EngineState['vnicprofiles'][number], follow: Follow = NONE): Record<string, unknown> {
  const base = `${API}/vnicprofiles/${p.id}`;
  const net = s.networks.find((n) => n.id === p.network);
  return {
    id: p.id,
    href: base,
    name: p.name,
    description: '',
    port_mirroring: false,
    pass_through: { mode: 'disabled' },
    network: follow.has('network') && net ? networkView(net, s) : link('networks', p.network),
    network_filter: { id: 'd2370ab4-fee3-11e9-a310-8c1645ce738e', href: `${API}/networkfilters/d2370ab4-fee3-11e9-a310-8c1645ce738e` },
    link: rels(base, ['permissions']),
  };
}
