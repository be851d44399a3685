// Hypervisors: connected and observed once per resync; the status says what is there (nodes,
// their load, how many VMs). Removing one forgets it: what it hosts is left as it is.
import type { Hypervisor } from '../../api/types.ts';
import { safeError } from '../../core/errors.ts';
import { isoTime as iso, setCondition } from '../../core/status.ts';
import type { KindReconciler, ReconcileKit } from './types.ts';
import { statusOf } from '../records.ts';
import { keyOf } from '../../api/keys.ts';
import type { ManagedVM } from '../../core/maintenance.ts';
import type { ProviderConventions } from '../../core/provider.ts';
import { reconcileMaintenance } from './maintenance.ts';
import { desiredOf } from './vm.ts';

/** The VMs this controller reconciles on a Hypervisor (those a node maintenance drain may move). */
function managedOn(k: ReconcileKit, hypervisor: string, conventions: ProviderConventions): ManagedVM[] {
  return k.o.store.vms().flatMap((vm) => {
    const ns = vm.metadata.namespace ?? 'default';
    if (vm.spec.hypervisor !== hypervisor || !k.rights(hypervisor, ns).use) return [];
    try {
      return [{ key: keyOf({ kind: 'VirtualMachine', namespace: ns, name: vm.metadata.name }), desired: desiredOf(k, vm, conventions) }];
    } catch {
      return []; // one that does not normalise is refused by its own pass
    }
  });
}

export const hypervisorReconciler: KindReconciler<Hypervisor> = {
  kind: 'Hypervisor',
  removalDestroys: false,
  async reconcile(k, key, { resource: hv, source }, previous) {
    const gen = hv.metadata.generation ?? 1;
    const prev = statusOf('Hypervisor', previous);
    const now = iso(k.o.now());
    try {
      const conn = await k.connect(hv.metadata.name);
      const obs = await conn.observer.get();
      const status: NonNullable<Hypervisor['status']> = {
        conditions: setCondition(prev?.conditions, { type: 'Ready', status: 'True', reason: 'Connected', message: `${obs.nodes.length} node(s), ${obs.vms.length} VM(s)` }, gen, now),
        nodes: obs.nodes.map((n) => ({
          name: n.name,
          state: n.state,
          ...(n.cpus !== undefined ? { cpus: n.cpus } : {}),
          ...(n.cpuUsage !== undefined ? { cpu: n.cpuUsage } : {}),
          ...(n.memoryBytes !== undefined ? { memory: n.memoryBytes } : {}),
          ...(n.memoryUsedBytes !== undefined ? { memoryUsed: n.memoryUsedBytes } : {}),
          ...(n.load !== undefined ? { load: n.load } : {}),
          ...(n.vms !== undefined ? { vms: n.vms } : {}),
        })),
        observedVMs: obs.vms.filter((v) => !v.isTemplate).length,
        lastSyncTime: now,
        observedGeneration: gen,
        ...(obs.version ? { version: obs.version } : {}),
      };
      // While VMs migrate, the drain's progress goes into the status as it moves (in steps).
      const onDrainProgress = (maintenance: NonNullable<typeof status.maintenance>, condition: { status: 'True' | 'False'; reason: string; message: string }) =>
        k.writeRecord({
          key,
          resource: hv,
          status: { ...status, maintenance, conditions: setCondition(status.conditions, { type: 'Maintenance', ...condition }, gen, iso(k.o.now())) },
          source,
          lastApplied: hv,
        });
      const drain = await reconcileMaintenance({ ...k.o, emit: k.emit, onDrainProgress }, hv, conn, managedOn(k, hv.metadata.name, conn.conventions), prev?.maintenance);
      if (drain.status.length > 0) status.maintenance = drain.status;
      if (drain.status.length > 0 || prev?.conditions?.some((c) => c.type === 'Maintenance'))
        status.conditions = setCondition(status.conditions, { type: 'Maintenance', ...drain.condition }, gen, now);
      await k.writeRecord({ key, resource: hv, status, source, lastApplied: hv });
      k.emit({
        type: 'status',
        key,
        ready: 'True',
        message: [status.conditions?.find((c) => c.type === 'Ready')?.message, status.maintenance ? drain.condition.message : undefined].filter(Boolean).join('; '),
      });
      // A drain that cannot go on (no node can take a VM) needs a change: said, not waited on.
      const blocked = drain.condition.reason === 'Blocked' ? [{ code: 'VK_MAINTENANCE_BLOCKED', message: drain.condition.message }] : [];
      return {
        requeueAfter: drain.settled ? conn.resyncMs : 2000,
        ready: drain.settled && blocked.length === 0,
        ...(blocked.length ? { plan: { steps: [], refusals: blocked } } : {}),
        ...(drain.intents.length ? { intents: drain.intents.map((summary) => ({ symbol: '~' as const, summary })) } : {}),
      };
    } catch (e) {
      const err = safeError(e);
      const status = { ...(prev ?? {}), conditions: setCondition(prev?.conditions, { type: 'Ready', status: 'False', reason: err.code, message: err.message }, gen, now), observedGeneration: gen };
      await k.writeRecord({ key, resource: hv, status, source, lastApplied: hv });
      k.emit({ type: 'error', key, code: err.code, message: err.message, retrying: true });
      throw e;
    }
  },
};
