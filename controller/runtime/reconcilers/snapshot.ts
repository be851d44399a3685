// VirtualMachineSnapshots: one snapshot of one VM virtkeeper owns, made once under a name and
// marker of its own (so a retried create finds it), watched until the hypervisor reports it
// ready, and deleted (or left, per deletionPolicy) when the resource goes, through the one
// removal path.
import { formatBytes } from '../../api/quantity.ts';
import type { Condition, VirtualMachineSnapshot } from '../../api/types.ts';
import { isFinalError, safeError } from '../../core/errors.ts';
import { sameOwnerRef } from '../../core/model.ts';
import { snapshotName } from '../../core/snapshot-name.ts';
import { isoTime as iso, setCondition } from '../../core/status.ts';
import type { ObservedSnapshot } from '../../core/provider.ts';
import type { StatusRecord } from '../../status/writer.ts';
import type { AppliedRecord, Intent, ReconcileKit, ReconcileResult } from './types.ts';
import { describeKey, ownerOf, resolveVM, takeSnapshot, targetOf, type Quiesce } from './snapshot-kit.ts';

type Status = NonNullable<VirtualMachineSnapshot['status']>;
type Cond = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/** `+ snapshot VM web as vk-x (memory, quiesced)`: what a pass would make. */
export function snapshotIntents(snap: VirtualMachineSnapshot, prev: Status | undefined): Intent[] {
  if (prev?.phase === 'Ready') return [];
  const extras = [snap.spec.memory ? 'with memory' : '', snap.spec.quiesce ? 'quiesced' : ''].filter(Boolean);
  return [{ symbol: '+', summary: `snapshot VM ${snap.spec.vm} as ${snapshotName(snap.metadata.name)}${extras.length ? ` (${extras.join(', ')})` : ''}` }];
}

function fromObserved(s: ObservedSnapshot, hypervisor: string, vmProviderID: string): Status {
  return {
    phase: s.state === 'ready' ? 'Ready' : s.state === 'failed' ? 'Failed' : 'InProgress',
    hypervisor,
    providerID: s.id,
    snapshotName: s.name,
    vmProviderID,
    memory: s.memory,
    ...(s.createdAt ? { createdAt: s.createdAt } : {}),
    ...(s.sizeBytes !== undefined ? { size: formatBytes(s.sizeBytes) } : {}),
  };
}

export async function reconcileSnapshot(k: ReconcileKit, key: string, snap: VirtualMachineSnapshot, source: StatusRecord['source'], previous: StatusRecord | undefined): Promise<ReconcileResult> {
  const gen = snap.metadata.generation ?? 1;
  const prev = previous?.status as Status | undefined;
  const ns = snap.metadata.namespace ?? 'default';
  const now = () => iso(k.o.now());
  const write = async (s: Status, conds: Cond[]) => {
    let conditions = prev?.conditions;
    for (const c of conds) conditions = setCondition(conditions, c, gen, now());
    await k.writeRecord({ key, resource: snap, status: { ...s, observedGeneration: gen, ...(conditions ? { conditions } : {}) }, source, lastApplied: snap });
    const ready = conds.find((c) => c.type === 'Ready');
    k.emit({ type: 'status', key, ...(s.phase ? { phase: s.phase } : {}), ready: ready?.status ?? 'Unknown', message: ready?.message ?? '' });
  };
  if (k.o.dryRun) return { intents: snapshotIntents(snap, prev) };

  const who = describeKey(key);
  const res = await resolveVM(k, who, ns, snap.spec.vm);
  if (!res.ok) {
    if ('refusal' in res) {
      k.emit({ type: 'refused', key, code: res.refusal.code, message: res.refusal.message });
      await write({ ...(prev ?? {}), phase: 'Failed' }, [{ type: 'Ready', status: 'False', reason: res.refusal.code, message: res.refusal.message }]);
      // Not final for good: the VM may be declared (or made) later, and nothing wakes this key then.
      return { plan: { steps: [], refusals: [res.refusal] }, ready: false, requeueAfter: 30_000 };
    }
    await write({ ...(prev ?? {}), phase: prev?.phase === 'Ready' ? 'Ready' : 'Pending' }, [{ type: 'Ready', status: 'False', reason: 'WaitingForVM', message: res.wait }]);
    return { ready: false, requeueAfter: 5000 };
  }
  const r = res.r;
  const name = prev?.snapshotName ?? snapshotName(snap.metadata.name);
  const owner = ownerOf(k, key);
  if (snap.spec.memory && !r.snapshots.memory) {
    const message = `${who}: the ${r.conn.hypervisor.spec.type} provider cannot save memory with a snapshot; set memory: false`;
    await write({ ...(prev ?? {}), phase: 'Failed' }, [{ type: 'Ready', status: 'False', reason: 'VK_UNSUPPORTED', message }]);
    return { plan: { steps: [], refusals: [{ code: 'VK_UNSUPPORTED', message, field: 'spec.memory' }] }, ready: false };
  }
  const list = await r.conn.limit(() => r.snapshots.list(r.target));
  // By id once made; by name before (ours first: where names are not unique another's may share it).
  const found = prev?.providerID ? list.find((s) => s.id === prev.providerID) : (list.find((s) => s.name === name && sameOwnerRef(s.owner, owner)) ?? list.find((s) => s.name === name));
  if (found && !sameOwnerRef(found.owner, owner)) {
    const refusal = {
      code: 'VK_REFUSED_NOT_OWNED',
      message: `${who}: VM ${r.observed.name} has a snapshot ${found.name} that this resource did not make; rename this resource or remove that snapshot by hand`,
    };
    k.emit({ type: 'refused', key, code: refusal.code, message: refusal.message });
    await write({ ...(prev ?? {}), phase: 'Failed' }, [{ type: 'Ready', status: 'False', reason: refusal.code, message: refusal.message }]);
    return { plan: { steps: [], refusals: [refusal] }, ready: false };
  }
  if (found) {
    const s = { ...(prev ?? {}), ...fromObserved(found, r.vm.spec.hypervisor, prev?.vmProviderID ?? r.observed.providerID) };
    const ready = s.phase === 'Ready';
    await write(s, [
      ready
        ? { type: 'Ready', status: 'True', reason: 'Ready', message: `snapshot ${found.name} of VM ${r.observed.name}${found.memory ? ' with memory' : ''}` }
        : { type: 'Ready', status: 'False', reason: s.phase ?? 'InProgress', message: `snapshot ${found.name} is ${found.state} on ${r.vm.spec.hypervisor}` },
    ]);
    return { ready, requeueAfter: ready ? r.conn.resyncMs : 2000 };
  }
  if (prev?.providerID) {
    // Made once and gone since (removed by hand, or the VM was made again): never made anew,
    // which would give an old name a new moment.
    const message = `snapshot ${name} (${prev.providerID}) is gone from VM ${r.observed.name}${prev.vmProviderID && prev.vmProviderID !== r.observed.providerID ? ' (the VM was made again)' : ''}; delete this resource, or make a new one`;
    await write({ ...prev, phase: 'Failed' }, [{ type: 'Ready', status: 'False', reason: 'Lost', message }]);
    return { ready: false, requeueAfter: r.conn.resyncMs };
  }

  const base: Status = { ...(prev ?? {}), phase: 'InProgress', hypervisor: r.vm.spec.hypervisor, snapshotName: name, vmProviderID: r.observed.providerID };
  await write(base, [{ type: 'Ready', status: 'False', reason: 'InProgress', message: `making snapshot ${name} of VM ${r.observed.name}` }]);
  k.emit({ type: 'action', key, phase: 'start', action: 'snapshot', summary: `snapshot ${name} of ${r.observed.name}` });
  let made: { snapshot: ObservedSnapshot; quiesce: Quiesce };
  try {
    made = await takeSnapshot(r, { name, owner, memory: snap.spec.memory ?? false, quiesce: snap.spec.quiesce ?? false, description: snap.spec.description ?? `virtkeeper ${who}` }, k, {
      onProgress: (p) => k.emit({ type: 'progress', key, action: 'snapshot', ...(p.percent !== undefined ? { percent: p.percent } : {}), ...(p.message ? { message: p.message } : {}) }),
    });
  } catch (e) {
    const err = safeError(e);
    const final = isFinalError(e);
    k.emit({ type: 'action', key, phase: 'failed', action: 'snapshot', summary: `snapshot ${name}`, message: err.message });
    await write({ ...base, phase: final ? 'Failed' : 'Pending' }, [{ type: 'Ready', status: 'False', reason: err.code, message: err.message }]);
    throw e;
  }
  k.emit({ type: 'action', key, phase: 'done', action: 'snapshot', summary: `snapshot ${name} of ${r.observed.name}` });
  const s = { ...base, ...fromObserved(made.snapshot, r.vm.spec.hypervisor, r.observed.providerID), ...(made.quiesce.frozen !== undefined ? { quiesced: made.quiesce.frozen } : {}) };
  const conds: Cond[] = [
    s.phase === 'Ready'
      ? { type: 'Ready', status: 'True', reason: 'Ready', message: `snapshot ${name} of VM ${r.observed.name}${made.snapshot.memory ? ' with memory' : ''}` }
      : { type: 'Ready', status: 'False', reason: 'InProgress', message: `snapshot ${name} is ${made.snapshot.state}` },
  ];
  if (snap.spec.quiesce)
    conds.push({ type: 'Quiesced', status: made.quiesce.frozen === true ? 'True' : made.quiesce.frozen === false ? 'False' : 'Unknown', reason: made.quiesce.reason, message: made.quiesce.message });
  if (snap.spec.memory && !made.snapshot.memory)
    conds.push({ type: 'MemorySaved', status: 'False', reason: 'VMNotRunning', message: `VM ${r.observed.name} was ${r.observed.power}: there was no memory to save` });
  await write(s, conds);
  return { ready: s.phase === 'Ready', requeueAfter: s.phase === 'Ready' ? r.conn.resyncMs : 2000 };
}

/** The removal path's step for a VirtualMachineSnapshot (the gate has admitted it): delete it on the hypervisor, or leave it. */
export async function removeSnapshot(k: ReconcileKit, key: string, record: AppliedRecord<VirtualMachineSnapshot>): Promise<ReconcileResult> {
  const snap = record.lastApplied;
  const st = record.status as Status;
  const orphan = (snap.spec.deletionPolicy ?? 'Delete') === 'Orphan';
  const name = st.snapshotName ?? snapshotName(snap.metadata.name);
  if (k.o.dryRun) return { intents: [{ symbol: '-', summary: orphan ? `forget snapshot ${name} (deletionPolicy: Orphan)` : `delete snapshot ${name} of VM ${snap.spec.vm}` }] };
  const ns = snap.metadata.namespace ?? 'default';
  const hypervisor = st.hypervisor;
  if (!orphan && st.providerID && hypervisor) {
    if (!k.o.store.hypervisor(hypervisor)) {
      const message = `Hypervisor ${hypervisor} is no longer defined; snapshot ${name} is left as it is until it is declared again`;
      return { ready: false, held: { code: 'VK_HYPERVISOR_GONE', message, final: true } };
    }
    const conn = await k.connect(hypervisor);
    const client = conn.client.snapshots;
    // The VM by its marker: it may be gone from the source already (its snapshots went with it).
    const vmOwner = { kind: 'VirtualMachine', namespace: ns, name: snap.spec.vm, ...(k.o.instance ? { instance: k.o.instance } : {}) };
    const vm = (await conn.observer.get()).vms.find((v) => !v.isTemplate && sameOwnerRef(v.owner, vmOwner) && v.providerID === (st.vmProviderID ?? v.providerID));
    if (vm && client) {
      k.emit({ type: 'action', key, phase: 'start', action: 'deleteSnapshot', summary: `delete snapshot ${name} of ${vm.name}` });
      await conn.limit(() => client.delete(targetOf(vm), st.providerID as string));
      k.emit({ type: 'action', key, phase: 'done', action: 'deleteSnapshot', summary: `delete snapshot ${name} of ${vm.name}` });
    }
  }
  await k.o.statuses.remove(key);
  k.emit({ type: 'status', key, phase: orphan ? 'Orphaned' : 'Deleted', ready: 'True', message: `${describeKey(key)} removed` });
  return { ready: true };
}
