// VirtualMachineSets: the members reconcile as VMs of their own (the store expands them); the
// set's status counts them and shows each member's phase. Removing a set forgets it (its
// members go as VMs, each through the removal gate).
import { describeId, parseKey } from '../../api/keys.ts';
import type { VirtualMachineSet } from '../../api/types.ts';
import { isoTime as iso, setCondition } from '../../core/status.ts';
import { namespaceRefusal } from '../../core/tenancy.ts';
import { expandSet } from '../../core/vmset.ts';
import type { KindReconciler } from './types.ts';
import { statusOf, readStatus } from '../records.ts';

export const vmSetReconciler: KindReconciler<VirtualMachineSet> = {
  kind: 'VirtualMachineSet',
  removalDestroys: false,
  async reconcile(k, key, { resource: set, source }, previous) {
    const gen = set.metadata.generation ?? 1;
    const ns = set.metadata.namespace ?? 'default';
    const prev = statusOf('VirtualMachineSet', previous);
    if (!k.rights(set.spec.template.hypervisor, ns).use) {
      // Its members are refused one by one too; the set says why in its own status.
      const r = namespaceRefusal(describeId(parseKey(key)), set.spec.template.hypervisor, ns);
      const status = {
        ...(prev ?? {}),
        observedGeneration: gen,
        conditions: setCondition(prev?.conditions, { type: 'Ready', status: 'False', reason: r.code, message: r.message }, gen, iso(k.o.now())),
      };
      if (!k.o.dryRun) await k.writeRecord({ key, resource: set, status, source, lastApplied: set });
      k.emit({ type: 'refused', key, code: r.code, message: r.message });
      return { plan: { steps: [], refusals: [r] }, ready: false };
    }
    const members = await Promise.all(
      expandSet(set).map(async (m) => {
        const st = await readStatus(k.o.statuses, 'VirtualMachine', `${m.metadata.namespace ?? 'default'}/${m.metadata.name}`);
        const ready = st?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        return { name: m.metadata.name, ...(st?.phase ? { phase: st.phase } : {}), ...(m.user ? { user: m.user } : {}), ready };
      }),
    );
    const readyCount = members.filter((m) => m.ready).length;
    const status: NonNullable<VirtualMachineSet['status']> = {
      desired: members.length,
      ready: readyCount,
      observedGeneration: gen,
      members: members.map(({ ready: _r, ...m }) => m),
      conditions: setCondition(
        prev?.conditions,
        readyCount === members.length
          ? { type: 'Ready', status: 'True', reason: 'AllReady', message: `${readyCount}/${members.length} ready` }
          : { type: 'Ready', status: 'False', reason: 'MembersNotReady', message: `${readyCount}/${members.length} ready` },
        gen,
        iso(k.o.now()),
      ),
    };
    if (!k.o.dryRun) await k.writeRecord({ key, resource: set, status, source, lastApplied: set });
    return { ready: readyCount === members.length, requeueAfter: 10_000 };
  },
};
