// Hypervisors: connected and observed once per resync; the status says what is there (nodes,
// their load, how many VMs). Removing one forgets it: what it hosts is left as it is.
import type { Hypervisor } from '../../api/types.ts';
import { safeError } from '../../core/errors.ts';
import { isoTime as iso, setCondition } from '../../core/status.ts';
import type { KindReconciler } from './types.ts';
import { statusOf } from '../records.ts';

export const hypervisorReconciler: KindReconciler<Hypervisor> = {
  kind: 'Hypervisor',
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
      await k.writeRecord({ key, resource: hv, status, source, lastApplied: hv });
      k.emit({ type: 'status', key, ready: 'True', message: status.conditions?.[0]?.message ?? '' });
      return { requeueAfter: conn.resyncMs, ready: true };
    } catch (e) {
      const err = safeError(e);
      const status = { ...(prev ?? {}), conditions: setCondition(prev?.conditions, { type: 'Ready', status: 'False', reason: err.code, message: err.message }, gen, now), observedGeneration: gen };
      await k.writeRecord({ key, resource: hv, status, source, lastApplied: hv });
      k.emit({ type: 'error', key, code: err.code, message: err.message, retrying: true });
      throw e;
    }
  },
};
