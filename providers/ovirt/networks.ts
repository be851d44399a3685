// VLAN networks on an oVirt engine: a logical network with the VLAN in the data center, marked
// in its description, attached to the clusters that need it, with its vNIC profile. `observe`
// reads what `ensure` reads and reports what it would do.
import { RefusedError } from '../../controller/core/errors.ts';
import { formatOwner, parseOwner, sameOwner, type DesiredNetwork, type KindObservation, type NetworkClient, type NetworkState } from '../../controller/core/provider.ts';
import { arr, num, obj, type Json } from './client.ts';
import type { OvirtSession } from './session.ts';

interface Survey {
  dcName: string;
  dc?: Json;
  net?: Json;
  /** Why the network cannot be made so (no such data center, the name taken with another VLAN). */
  problem?: string;
  /** The wanted clusters in order: the engine's cluster (absent: no such cluster) and whether the network is attached there. */
  clusters: { name: string; required: boolean; cluster?: Json; attached: boolean }[];
}

async function survey(s: OvirtSession, n: DesiredNetwork): Promise<Survey> {
  const dcName = n.datacenter ?? s.o.defaults?.datacenter ?? 'Default';
  const dc = arr((await s.api.get('/datacenters')).data_center).find((d) => d.name === dcName);
  if (!dc) return { dcName, problem: `data center ${dcName} does not exist on this engine`, clusters: [] };
  const net = arr((await s.api.get('/networks')).network).find((x) => x.name === n.name && String(obj(x.data_center).id) === String(dc.id));
  if (net && num(obj(net.vlan).id) !== n.vlanId)
    return {
      dcName,
      dc,
      net,
      problem: `network ${n.name} exists with VLAN ${num(obj(net.vlan).id) || 'none'}, not ${n.vlanId}; virtkeeper does not change a network it did not create`,
      clusters: [],
    };
  const all = arr((await s.api.get('/clusters')).cluster);
  const clusters: Survey['clusters'] = [];
  for (const want of n.clusters ?? [{ name: s.o.defaults?.cluster ?? 'Default' }]) {
    const cluster = all.find((c) => c.name === want.name);
    const attached = !!(net && cluster) && arr((await s.api.get(`/clusters/${String(cluster.id)}/networks`)).network).some((x) => String(x.id) === String(net.id));
    clusters.push({ name: want.name, required: want.required ?? false, ...(cluster ? { cluster } : {}), attached });
    if (!cluster) break;
  }
  return { dcName, dc, ...(net ? { net } : {}), clusters };
}

const missingCluster = (name: string) => `cluster ${name} does not exist on this engine`;

async function observe(s: OvirtSession, n: DesiredNetwork): Promise<KindObservation<NetworkState>> {
  const v = await survey(s, n);
  const ids = v.net ? [String(v.net.id)] : [];
  const intents = [
    ...(v.problem || v.net ? [] : [`create network ${n.name} with VLAN ${n.vlanId} in data center ${v.dcName}`]),
    ...v.clusters.filter((c) => c.cluster && !c.attached).map((c) => `attach network ${n.name} to cluster ${c.name}`),
  ];
  const problem = v.problem ?? v.clusters.filter((c) => !c.cluster).map((c) => missingCluster(c.name))[0];
  const state: NetworkState = { present: !problem && intents.length === 0, providerIDs: ids, ...(problem ? { message: problem } : {}) };
  return { exists: !!v.net, upToDate: !problem && intents.length === 0, state, intents, ...(problem ? { problem } : {}) };
}

async function ensure(s: OvirtSession, n: DesiredNetwork): Promise<NetworkState> {
  const v = await survey(s, n);
  if (v.problem || !v.dc) return { present: false, providerIDs: v.net ? [String(v.net.id)] : [], message: v.problem ?? `data center ${v.dcName} does not exist on this engine` };
  const net =
    v.net ??
    (
      await s.api.call<Json>('POST', '/networks', {
        body: { name: n.name, data_center: { id: v.dc.id }, vlan: { id: n.vlanId }, ...(n.mtu ? { mtu: n.mtu } : {}), description: formatOwner(n.owner), usages: { usage: ['vm'] } },
      })
    ).data;
  for (const c of v.clusters) {
    if (!c.cluster) return { present: false, providerIDs: [String(net.id)], message: missingCluster(c.name) };
    if (!c.attached) await s.api.call('POST', `/clusters/${String(c.cluster.id)}/networks`, { body: { id: net.id, required: c.required } });
  }
  s.forgetLookups(); // the new vNIC profile must be seen by the next VM
  return { present: true, providerIDs: [String(net.id)] };
}

/** Removes a network this controller made (its marker), never one a VM still uses. */
async function remove(s: OvirtSession, n: DesiredNetwork): Promise<void> {
  const net = arr((await s.api.get('/networks')).network).find((x) => x.name === n.name);
  if (!net || !sameOwner(parseOwner(String(net.description ?? '')), n.owner)) return;
  const slow = await s.profiles(true);
  const profiles = new Set([...slow.profiles.entries()].filter(([, p]) => p.network === n.name).map(([id]) => id));
  const users = arr((await s.api.get('/vms', { follow: 'nics' })).vm).filter((vm) => arr(obj(vm.nics).nic).some((x) => profiles.has(String(obj(x.vnic_profile).id))));
  if (users.length > 0) throw new RefusedError(`network ${n.name} is still used by ${users.map((vm) => String(vm.name)).join(', ')}; it stays until no VM uses it`);
  await s.api.call('DELETE', `/networks/${String(net.id)}`);
}

export function ovirtNetworks(s: OvirtSession): NetworkClient {
  return {
    observe: (n) => observe(s, n),
    ensure: (n) => ensure(s, n),
    delete: (n) => remove(s, n),
  };
}
