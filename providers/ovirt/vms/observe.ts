// Observation: one `GET /vms?follow=...` serves every VM of the engine (hosts, templates and
// vNIC profiles come from the session's cached lookups); the next-run configuration is read
// only for the VMs that have one.
import type { Observation } from '../../../controller/core/model.ts';
import { arr, num, obj } from '../client.ts';
import { toObservedNode, toObservedVM } from '../mapping.ts';
import type { OvirtSession } from '../session.ts';

export async function observeVms(s: OvirtSession): Promise<Observation> {
  const slow = await s.lookups();
  s.countPass();
  const vms = arr((await s.api.get('/vms', { follow: 'disk_attachments.disk,nics.reporteddevices' })).vm);
  s.seen(vms);
  const hostName = (id: string) => String(slow.hosts.find((h) => h.id === id)?.name ?? '') || undefined;
  const observed = vms.map((v) => toObservedVM(v, { hostName, profile: (id) => slow.profiles.get(id) }));
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
    nodes: slow.hosts.map((h) => toObservedNode(h, observed.filter((v) => v.node === h.name).length)),
    // Blank too: every engine has it, and `template: Blank` must find it like any other.
    templates: slow.templates.map((t) => ({ name: String(t.name), providerID: String(t.id) })),
    version: 'ovirt-engine-4',
  };
}
