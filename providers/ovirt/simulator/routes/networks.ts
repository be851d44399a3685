// Logical networks (add with a VLAN, remove, list) and their vNIC profiles.
import { badRequest, Fault } from '../faults.ts';
import { id } from '../model.ts';
import { num, obj } from '../representation.ts';
import { namedRecord } from '../search-fields.ts';
import { networkView, vnicProfileView } from '../views/network.ts';
import { coll, complete, one, type RouteContext, type RouteResult, type RouteTable } from './route.ts';

function networks(c: RouteContext): RouteResult {
  const { state: s, oid, body, follow } = c;
  if (c.method === 'POST') {
    const dcRef = obj(body.data_center);
    const dc = s.datacenters.find((d) => d.id === dcRef.id || d.name === dcRef.name);
    if (!body.name || !dc) throw badRequest('[Network [name, dataCenter.id|name] required for add]');
    if (s.networks.some((n) => n.name === body.name && n.data_center === dc.id)) throw new Fault(409, 'Operation Failed', '[Cannot add Network. The network name is already in use.]');
    const vlan = num(obj(body.vlan).id);
    const net = {
      id: id(),
      name: String(body.name),
      data_center: dc.id,
      mtu: num(body.mtu) ?? 1500,
      clusters: [],
      ...(vlan ? { vlan } : {}),
      ...(body.description ? { description: String(body.description) } : {}),
    };
    s.networks.push(net);
    s.vnicprofiles.push({ id: id(), name: net.name, network: net.id });
    return [201, 'network', networkView(net, s)];
  }
  if (oid && c.method === 'DELETE') {
    s.networks = s.networks.filter((n) => n.id !== oid);
    s.vnicprofiles = s.vnicprofiles.filter((p) => p.network !== oid);
    return complete();
  }
  return oid
    ? [
        200,
        'network',
        networkView(
          one(s.networks, (n) => n.id === oid),
          s,
          follow,
        ),
      ]
    : coll(
        'network',
        c.page('networks', s.networks, (n) => namedRecord(s, 'networks', n)).map((n) => networkView(n, s, follow)),
      );
}

export const networkRoutes: RouteTable = {
  networks,
  // Writes under a network are the network's (as before the routes were split).
  'networks/vnicprofiles': (c) =>
    c.method === 'POST' || c.method === 'DELETE'
      ? undefined
      : coll(
          'vnic_profile',
          c.state.vnicprofiles.filter((p) => p.network === c.oid).map((p) => vnicProfileView(c.state, p, c.follow)),
        ),
  vnicprofiles: (c) =>
    c.oid
      ? [
          200,
          'vnic_profile',
          vnicProfileView(
            c.state,
            one(c.state.vnicprofiles, (p) => p.id === c.oid),
            c.follow,
          ),
        ]
      : coll(
          'vnic_profile',
          c.state.vnicprofiles.map((p) => vnicProfileView(c.state, p, c.follow)),
        ),
};
