// VirtualMachineSnapshotSchedules: on each due run of the cron schedule (the injected clock
// decides; after downtime at most the latest missed run is made), a snapshot of every selected
// VM named with the run's time and marked as the schedule's; then the schedule's own snapshots
// (only those carrying its marker) are pruned by the keep rules. A VM migrating or locked is
// skipped, saying why.
import type { VirtualMachineSnapshotSchedule } from '../../api/types.ts';
import { safeError } from '../../core/errors.ts';
import { sameOwnerRef } from '../../core/model.ts';
import { retain } from '../../core/retention.ts';
import { decideRun } from '../../core/schedule-clock.ts';
import { parseScheduledTime, scheduledSnapshotName } from '../../core/snapshot-name.ts';
import { isoTime as iso, setCondition } from '../../core/status.ts';
import type { StatusRecord } from '../../status/writer.ts';
import type { Intent, ReconcileKit, ReconcileResult } from './types.ts';
import { busyReason, describeKey, ownerOf, resolveVM, takeSnapshot, type ResolvedVM } from './snapshot-kit.ts';

type Status = NonNullable<VirtualMachineSnapshotSchedule['status']>;

/** The VirtualMachines a schedule names: by label selector or by name, in its namespace. */
export function selectedVMs(k: ReconcileKit, s: VirtualMachineSnapshotSchedule): string[] {
  const ns = s.metadata.namespace ?? 'default';
  if (s.spec.vms)
    return s.spec.vms.filter((n) => {
      const e = k.o.store.get(`VirtualMachine/${ns}/${n}`);
      // One not declared stays (it is reported); one on a Hypervisor served elsewhere is not ours.
      return e?.resource.kind !== 'VirtualMachine' || !!k.o.store.hypervisor(e.resource.spec.hypervisor);
    });
  const want = Object.entries(s.spec.selector?.matchLabels ?? {});
  // Only VMs on a Hypervisor this controller serves (a shard leaves the others' to them).
  return k.o.store
    .vms()
    .filter((v) => (v.metadata.namespace ?? 'default') === ns && !!k.o.store.hypervisor(v.spec.hypervisor) && want.every(([l, val]) => v.metadata.labels?.[l] === val))
    .map((v) => v.metadata.name)
    .sort();
}

export async function reconcileSchedule(
  k: ReconcileKit,
  key: string,
  sched: VirtualMachineSnapshotSchedule,
  source: StatusRecord['source'],
  previous: StatusRecord | undefined,
): Promise<ReconcileResult> {
  const gen = sched.metadata.generation ?? 1;
  const prev = previous?.status as Status | undefined;
  const ns = sched.metadata.namespace ?? 'default';
  const who = describeKey(key);
  const now = k.o.now();
  const owner = ownerOf(k, key);
  // A changed schedule starts afresh: a run awaited under the old expression is not due under the new one.
  const awaited = prev?.nextRunTime && prev.observedGeneration === gen ? Date.parse(prev.nextRunTime) : undefined;
  const decision = decideRun({ schedule: sched.spec.schedule, ...(sched.spec.timeZone ? { timeZone: sched.spec.timeZone } : {}), ...(awaited !== undefined ? { nextRunMs: awaited } : {}), now });
  const due = sched.spec.suspend ? undefined : decision.dueMs;
  const intents: Intent[] = [];
  const skipped: { vm: string; reason: string }[] = [];
  const made: string[] = [];
  const kept: NonNullable<Status['snapshots']> = [];
  let pruned = prev?.pruned ?? 0;
  const errors: string[] = [];
  // Between runs nothing is read of the hypervisors (one list per VM per run, not per pass); a
  // first pass, an edit, a failed run and a plan look at what is there.
  const look = due !== undefined || !prev?.snapshots || prev.observedGeneration !== gen || prev.conditions?.find((c) => c.type === 'Ready')?.status !== 'True' || k.o.dryRun;
  if (!look && prev?.snapshots) kept.push(...prev.snapshots);

  for (const name of look ? selectedVMs(k, sched) : []) {
    let res: Awaited<ReturnType<typeof resolveVM>>;
    try {
      res = await resolveVM(k, who, ns, name);
    } catch (e) {
      skipped.push({ vm: name, reason: safeError(e).message });
      continue;
    }
    if (!res.ok) {
      skipped.push({ vm: name, reason: 'refusal' in res ? res.refusal.message : res.wait });
      continue;
    }
    const r = res.r;
    if (due !== undefined) {
      const snapName = scheduledSnapshotName(sched.metadata.name, due);
      const busy = busyReason(r.observed);
      if (busy) skipped.push({ vm: name, reason: `${busy}: skipped the run of ${iso(due)}` });
      else if (k.o.dryRun) intents.push({ symbol: '+', summary: `snapshot VM ${r.observed.name} as ${snapName} (run of ${iso(due)})` });
      else {
        try {
          await takeSnapshot(r, { name: snapName, owner, memory: sched.spec.memory ?? false, quiesce: sched.spec.quiesce ?? false, description: `virtkeeper ${who} run ${iso(due)}` }, k, {});
          made.push(`${name}/${snapName}`);
        } catch (e) {
          const err = safeError(e);
          skipped.push({ vm: name, reason: `${err.code === 'VK_PROVIDER_LOCKED' ? 'locked' : 'failed'}: ${err.message}` });
          if (err.code !== 'VK_PROVIDER_LOCKED') errors.push(`${name}: ${err.message}`);
        }
      }
    }
    try {
      pruned += await prune(k, sched, r, owner, intents, kept);
    } catch (e) {
      errors.push(`${name}: pruning failed: ${safeError(e).message}`);
    }
  }
  if (k.o.dryRun) return { intents };

  const next = decision.nextMs !== undefined ? iso(decision.nextMs) : undefined;
  const message = errors.length
    ? errors.join('; ')
    : `${kept.length} snapshot(s) kept${made.length ? `, ${made.length} made this run` : ''}${skipped.length ? `, ${skipped.length} VM(s) skipped` : ''}${next ? `; next run ${next}` : ''}`;
  const status: Status = {
    observedGeneration: gen,
    ...(due !== undefined ? { lastRunTime: iso(due) } : prev?.lastRunTime ? { lastRunTime: prev.lastRunTime } : {}),
    ...(next ? { nextRunTime: next } : {}),
    missedRuns: (prev?.observedGeneration === gen ? (prev?.missedRuns ?? 0) : 0) + (due !== undefined ? decision.missed : 0),
    // What the last run skipped stays until the next run.
    ...(due !== undefined ? (skipped.length ? { skipped } : {}) : prev?.skipped ? { skipped: prev.skipped } : {}),
    snapshots: kept,
    pruned,
    conditions: setCondition(prev?.conditions, { type: 'Ready', status: errors.length ? 'False' : 'True', reason: errors.length ? 'RunFailed' : 'Scheduled', message }, gen, iso(now)),
  };
  if (due !== undefined && decision.missed > 0) k.o.logger.warn({ resource: key }, `${decision.missed} missed run(s) let go; made the latest (${iso(due)})`);
  await k.writeRecord({ key, resource: sched, status, source, lastApplied: sched });
  k.emit({ type: 'status', key, ready: errors.length ? 'False' : 'True', message });
  const wait = decision.nextMs !== undefined ? decision.nextMs - now : 60_000;
  return { ready: errors.length === 0, requeueAfter: Math.min(Math.max(wait, 1000), 60_000) };
}

/** Deletes the schedule's own snapshots of one VM that its keep rules let go; returns how many. */
async function prune(
  k: ReconcileKit,
  sched: VirtualMachineSnapshotSchedule,
  r: ResolvedVM,
  owner: ReturnType<typeof ownerOf>,
  intents: Intent[],
  kept: NonNullable<Status['snapshots']>,
): Promise<number> {
  const list = await r.conn.limit(() => r.snapshots.list(r.target));
  const mine = list.filter((s) => sameOwnerRef(s.owner, owner));
  const dated = mine.flatMap((s) => {
    const time = parseScheduledTime(s.name) ?? (s.createdAt ? Date.parse(s.createdAt) : Number.NaN);
    return Number.isNaN(time) ? [] : [{ id: s.id, time }];
  });
  const verdict = retain(dated, sched.spec.keep, sched.spec.timeZone ?? 'UTC');
  const byID = new Map(mine.map((s) => [s.id, s]));
  for (const id of verdict.keep) {
    const s = byID.get(id);
    if (s) kept.push({ vm: r.vm.metadata.name, name: s.name, providerID: s.id, ...(s.createdAt ? { createdAt: s.createdAt } : {}) });
  }
  if (verdict.prune.length === 0) return 0;
  if (k.o.dryRun) {
    for (const id of verdict.prune) intents.push({ symbol: '-', summary: `prune snapshot ${byID.get(id)?.name ?? id} of VM ${r.observed.name} (keep ${JSON.stringify(sched.spec.keep)})` });
    return 0;
  }
  // A VM under a lock is pruned on a later pass.
  if (busyReason(r.observed)) return 0;
  let n = 0;
  for (const id of verdict.prune) {
    await r.conn.limit(() => r.snapshots.delete(r.target, id));
    k.emit({
      type: 'action',
      key: `VirtualMachineSnapshotSchedule/${sched.metadata.namespace ?? 'default'}/${sched.metadata.name}`,
      phase: 'done',
      action: 'pruneSnapshot',
      summary: `prune ${byID.get(id)?.name ?? id} of ${r.observed.name}`,
    });
    n++;
  }
  return n;
}
