// Observation: one follow search (`GET /vms?follow=disk_attachments.disk,nics.reporteddevices,
// nics.vnic_profile.network`) serves every VM of the engine with its disks, NICs, addresses and
// networks; hosts and templates come from the session's cached inventory, read beside it. The
// next-run configuration is read only for the VMs that have one. Statistics are never followed
// here: usage, when wanted, is a search of its own beside it (usage.ts).
import type { Observation } from '../../../controller/core/model.ts';
import { arr, num, obj, type Json } from '../client.ts';
import { toObservedNode, toObservedVM } from '../mapping.ts';
import type { OvirtSession } from '../session.ts';

export const OBSERVE_FOLLOW = 'disk_attachments.disk,nics.reporteddevices,nics.vnic_profile.network';

/** A NIC whose profile came without its network inline (an engine that did not follow it). */
const bareProfile = (vm: Json) => arr(obj(vm.nics).nic).some((n) => obj(n.vnic_profile).id && !obj(obj(n.vnic_profile).network).name);

/**
 * One list call in flight per engine: an observe that starts while one is under way, with no
 * write since it was sent, shares its answer.
 */
export function observeVms(s: OvirtSession): Promise<Observation> {
  const f = s.inFlight;
  if (f && f.since === s.writeCount) return f.observation;
  const since = s.writeCount;
  const observation = observe(s, since).finally(() => {
    if (s.inFlight?.observation === observation) s.inFlight = undefined;
  });
  s.inFlight = { since, observation };
  return observation;
}

async function observe(s: OvirtSession, since: number): Promise<Observation> {
  const vms: Json[] = [];
  const [inv, , usage] = await Promise.all([s.inventory(), s.api.list('/vms', { follow: OBSERVE_FOLLOW }, (v) => vms.push(v)), s.usage?.current()]);
  s.countPass();
  s.seen(vms, since);
  const profiles = vms.some(bareProfile) ? (await s.profiles()).profiles : undefined;
  const hostName = (id: string) => String(inv.hosts.find((h) => h.id === id)?.name ?? '') || undefined;
  const observed = vms.map((v) => {
    const o = toObservedVM(v, { hostName, profile: (id) => profiles?.get(id) });
    const u = usage?.get(o.providerID);
    return u ? { ...o, usage: u } : o;
  });
  await Promise.all(
    observed
      .filter((v) => v.pendingRestart)
      .map(async (v) => {
        const next = await s.api.get(`/vms/${v.providerID}`, { next_run: 'true' }).catch(() => undefined);
        if (!next) return;
        const topo = obj(obj(next.cpu).topology);
        v.pending = { cpu: { sockets: num(topo.sockets) || 1, cores: num(topo.cores) || 1, threads: num(topo.threads) || 1 }, memoryBytes: num(next.memory) };
        const max = num(obj(next.memory_policy).max);
        if (max) v.pending.maxMemoryBytes = max;
      }),
  );
  return {
    vms: observed,
    nodes: inv.hosts.map((h) => toObservedNode(h, observed.filter((v) => v.node === h.name).length)),
    // Blank too: every engine has it, and `template: Blank` must find it like any other.
    templates: inv.templates.map((t) => ({ name: String(t.name), providerID: String(t.id) })),
    version: 'ovirt-engine-4',
  };
}
