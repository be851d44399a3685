// VirtualMachineRestores: revert a VM virtkeeper owns to one of its snapshots, once. The steps
// (stop where the hypervisor needs it, revert, start as the runStrategy says) are recorded in
// status as they are done, so an interrupted restore resumes after the last one and a finished
// one is never applied again.
import type { Condition, VirtualMachineRestore, VirtualMachineSnapshot } from '../../api/types.ts';
import { isFinalError, safeError } from '../../core/errors.ts';
import type { Refusal } from '../../core/plan.ts';
import type { ObservedSnapshot } from '../../core/provider.ts';
import { remainingSteps, restoreSteps, type RestoreStep } from '../../core/restore.ts';
import { isoTime as iso, setCondition } from '../../core/status.ts';
import type { StatusRecord } from '../../status/writer.ts';
import type { AppliedRecord, Intent, ReconcileKit, ReconcileResult } from './types.ts';
import { describeKey, resolveVM, targetOf, type ResolvedVM } from './snapshot-kit.ts';
import { holdVM } from './vm-holds.ts';

type Status = NonNullable<VirtualMachineRestore['status']>;
type Cond = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

const STEP_TEXT: Record<RestoreStep, (vm: string, snap: string) => Intent> = {
  stop: (vm) => ({ symbol: '~', summary: `stop VM ${vm} (the hypervisor reverts stopped VMs only)` }),
  revert: (vm, snap) => ({ symbol: '~', summary: `revert VM ${vm} to snapshot ${snap}` }),
  start: (vm) => ({ symbol: '~', summary: `start VM ${vm} again (runStrategy)` }),
};

/** The snapshot a restore names: a VirtualMachineSnapshot of that VM, or a snapshot a schedule made of it. */
async function snapshotOf(k: ReconcileKit, restore: VirtualMachineRestore, r: ResolvedVM): Promise<{ snapshot: ObservedSnapshot } | { wait: string } | { refusal: Refusal }> {
  const ns = restore.metadata.namespace ?? 'default';
  const who = `VirtualMachineRestore ${ns}/${restore.metadata.name}`;
  const list = await r.conn.limit(() => r.snapshots.list(r.target));
  const entry = k.o.store.get(`VirtualMachineSnapshot/${ns}/${restore.spec.snapshot}`);
  if (entry?.resource.kind === 'VirtualMachineSnapshot') {
    const snap = entry.resource as VirtualMachineSnapshot;
    if (snap.spec.vm !== restore.spec.vm) {
      return {
        refusal: {
          code: 'VK_REFUSED_OTHER_VM',
          field: 'spec.snapshot',
          message: `${who}: VirtualMachineSnapshot ${restore.spec.snapshot} is of VM ${snap.spec.vm}, not ${restore.spec.vm}; nothing was changed`,
        },
      };
    }
    const st = (await k.o.statuses.read(entry.key))?.status as VirtualMachineSnapshot['status'] | undefined;
    if (st?.phase !== 'Ready' || !st.providerID) return { wait: `VirtualMachineSnapshot ${restore.spec.snapshot} is not Ready${st?.phase ? ` (${st.phase})` : ''}` };
    const found = list.find((s) => s.id === st.providerID);
    if (!found) {
      return {
        refusal: {
          code: 'VK_REFUSED_OTHER_VM',
          field: 'spec.snapshot',
          message: `${who}: snapshot ${st.snapshotName ?? st.providerID} is not one of VM ${r.observed.name}'s (the VM was made again, or the snapshot is gone); nothing was changed`,
        },
      };
    }
    return { snapshot: found };
  }
  // A snapshot a schedule (or another resource) of this namespace made: found by its name and marker.
  const made = list.find((s) => s.name === restore.spec.snapshot && s.owner?.namespace === ns);
  if (made) return { snapshot: made };
  // One of that name made by hand (no marker): listed, but a restore reverts only to virtkeeper's own.
  const byHand = list.find((s) => !s.owner && (s.name === restore.spec.snapshot || s.id === restore.spec.snapshot));
  if (byHand) {
    return {
      refusal: {
        code: 'VK_REFUSED_FOREIGN_SNAPSHOT',
        field: 'spec.snapshot',
        message: `${who}: snapshot ${byHand.name} of VM ${r.observed.name} was not made by virtkeeper (it carries no marker), and a restore reverts only to snapshots virtkeeper made; revert to it on the hypervisor itself, or name a VirtualMachineSnapshot of this VM. Nothing was changed`,
      },
    };
  }
  return {
    refusal: { code: 'VK_REFUSED_NO_SNAPSHOT', field: 'spec.snapshot', message: `${who}: VM ${r.observed.name} has no snapshot ${restore.spec.snapshot} made by virtkeeper in namespace ${ns}` },
  };
}

export async function reconcileRestore(k: ReconcileKit, key: string, restore: VirtualMachineRestore, source: StatusRecord['source'], previous: StatusRecord | undefined): Promise<ReconcileResult> {
  const gen = restore.metadata.generation ?? 1;
  const prev = previous?.status as Status | undefined;
  // Done once: a finished restore is a record, never applied again.
  if (prev?.phase === 'Succeeded') {
    if (prev.absentSince && !k.o.dryRun) {
      const { absentSince: _back, ...kept } = prev;
      await k.writeRecord({ key, resource: restore, status: kept, source, lastApplied: restore });
    }
    return { ready: true };
  }
  const ns = restore.metadata.namespace ?? 'default';
  const who = describeKey(key);
  let status: Status = { ...(prev ?? {}) };
  const write = async (s: Status, c: Cond) => {
    status = { ...s, observedGeneration: gen, conditions: setCondition(status.conditions, c, gen, iso(k.o.now())) };
    if (!k.o.dryRun) await k.writeRecord({ key, resource: restore, status, source, lastApplied: restore });
    k.emit({ type: 'status', key, ...(s.phase ? { phase: s.phase } : {}), ready: c.status, message: c.message ?? '' });
  };
  const refuse = async (refusal: Refusal): Promise<ReconcileResult> => {
    k.emit({ type: 'refused', key, code: refusal.code, message: refusal.message });
    await write({ ...status, phase: 'Failed' }, { type: 'Ready', status: 'False', reason: refusal.code, message: refusal.message });
    // Refusals are looked at again later: the VM or snapshot may be declared, or the policy changed.
    return { plan: { steps: [], refusals: [refusal] }, ready: false, requeueAfter: 30_000 };
  };

  const res = await resolveVM(k, who, ns, restore.spec.vm);
  if (!res.ok) {
    if ('refusal' in res) return refuse(res.refusal);
    await write({ ...status, phase: 'Pending' }, { type: 'Ready', status: 'False', reason: 'WaitingForVM', message: res.wait });
    return { ready: false, requeueAfter: 5000 };
  }
  const r = res.r;
  const snap = await snapshotOf(k, restore, r);
  if ('refusal' in snap) return refuse(snap.refusal);
  if ('wait' in snap) {
    await write({ ...status, phase: 'Pending' }, { type: 'Ready', status: 'False', reason: 'WaitingForSnapshot', message: snap.wait });
    return { ready: false, requeueAfter: 3000 };
  }
  const resuming = prev?.phase === 'InProgress' && prev.steps && prev.snapshotID === snap.snapshot.id;
  let steps: RestoreStep[];
  if (resuming) steps = prev.steps as RestoreStep[];
  else {
    const p = restoreSteps({
      vm: r.observed.name,
      snapshot: snap.snapshot.name,
      power: r.observed.power,
      runStrategy: r.desired.runStrategy,
      updatePolicy: r.desired.updatePolicy,
      revertNeedsStop: r.snapshots.revertNeedsStop,
    });
    if (p.refusal) return refuse(p.refusal);
    steps = p.steps;
  }
  const todo = remainingSteps(steps, resuming ? (prev.done ?? []) : []);
  if (k.o.dryRun) return { intents: todo.map((s) => STEP_TEXT[s](r.observed.name, snap.snapshot.name)) };

  const done = resuming ? [...(prev.done ?? [])] : [];
  await write(
    { ...status, phase: 'InProgress', snapshotID: snap.snapshot.id, steps, done, startedAt: (resuming && prev.startedAt) || iso(k.o.now()) },
    { type: 'Ready', status: 'False', reason: 'InProgress', message: `restoring VM ${r.observed.name} to snapshot ${snap.snapshot.name}: ${todo.join(', ')}` },
  );
  const conn = r.conn;
  const release = holdVM(`VirtualMachine/${ns}/${restore.spec.vm}`, key);
  try {
    for (const step of todo) {
      const summary = STEP_TEXT[step](r.observed.name, snap.snapshot.name).summary;
      k.emit({ type: 'action', key, phase: 'start', action: `restore:${step}`, summary });
      conn.observer.invalidate([r.target.providerID]);
      const vm = (await conn.observer.get({ maxAgeMs: 0 })).vms.find((v) => v.providerID === r.target.providerID);
      const target = vm ? targetOf(vm) : r.target;
      // Stopped again before the revert where it runs again (a restore resumed after a crash).
      const stop = step === 'stop' || (step === 'revert' && r.snapshots.revertNeedsStop && steps.includes('stop'));
      if (stop && vm && vm.power !== 'stopped') await conn.limit(() => conn.client.vms.execute({ type: 'stop', target }));
      if (step === 'revert') await conn.limit(() => r.snapshots.revert(target, snap.snapshot.id));
      // A snapshot with memory may come back running: started only if it did not (read just now).
      if (step === 'start' && vm?.power !== 'running') await conn.limit(() => conn.client.vms.execute({ type: 'start', target }));
      conn.observer.invalidate([target.providerID]);
      done.push(step);
      await write({ ...status, done: [...done] }, { type: 'Ready', status: 'False', reason: 'InProgress', message: `restoring VM ${r.observed.name}: ${done.join(', ')} done` });
      k.emit({ type: 'action', key, phase: 'done', action: `restore:${step}`, summary });
    }
  } catch (e) {
    const err = safeError(e);
    const final = isFinalError(e);
    await write(
      { ...status, phase: final ? 'Failed' : 'InProgress' },
      { type: 'Ready', status: 'False', reason: err.code, message: `restore stopped after ${done.join(', ') || 'no step'}: ${err.message}` },
    );
    throw e;
  } finally {
    release();
  }
  await write(
    { ...status, phase: 'Succeeded', completedAt: iso(k.o.now()) },
    { type: 'Ready', status: 'True', reason: 'Restored', message: `VM ${r.observed.name} reverted to snapshot ${snap.snapshot.name} (${steps.join(', ')})` },
  );
  return { ready: true };
}

/** How long the record of a finished restore outlives its manifest (directory mode), and on how many passes it must be seen gone. */
export const RESTORE_RECORD_GRACE_MS = 10 * 60_000;

/**
 * A restore no longer declared. One that finished keeps its record until its manifest has been
 * gone for a while on two passes: a file missing for a moment (a checkout mid-switch) must not
 * make the restore new again, or it would revert the VM a second time when the file is back.
 */
export async function removeRestore(k: ReconcileKit, key: string, record: AppliedRecord<VirtualMachineRestore>): Promise<ReconcileResult> {
  const st = record.status as Status;
  if (k.o.dryRun) return {};
  const now = k.o.now();
  const since = st.absentSince ? Date.parse(st.absentSince) : undefined;
  if (st.phase !== 'Succeeded' || (since !== undefined && now - since >= RESTORE_RECORD_GRACE_MS)) {
    await k.o.statuses.remove(key);
    return { ready: true };
  }
  if (since === undefined) await k.o.statuses.write({ ...record, status: { ...st, absentSince: iso(now) }, updatedAt: iso(now) });
  return { ready: true, requeueAfter: Math.max(1000, (since ?? now) + RESTORE_RECORD_GRACE_MS - now) };
}
