// Node maintenance, the runtime side: one wave of drain moves per Hypervisor pass (at most
// migration.maxConcurrent at a time), the engine's host maintenance once a node is empty, the
// progress written into each moving VM's status, and the drains' status for the Hypervisor.
// Progress is written in steps (every PROGRESS_STEP points, or when the stage changes), not on
// every report: a status write per VM per second would be the drain's main cost.
import type { Logger } from 'pino';
import type { Hypervisor, MaintenanceEntry, MaintenanceStatus, VirtualMachineStatus } from '../../api/types.ts';
import type { Progress } from '../../core/provider.ts';
import { maintenanceCondition, migratingOff, planDrain, type DrainMove, type DrainResult, type ManagedVM } from '../../core/maintenance.ts';
import type { Observation } from '../../core/model.ts';
import { safeError } from '../../core/errors.ts';
import { isoTime, setCondition } from '../../core/status.ts';
import type { StatusStore } from '../../status/writer.ts';
import type { EventSink } from '../events.ts';
import type { Connected } from '../hypervisors.ts';

export interface MaintenanceKit {
  statuses: StatusStore;
  emit: EventSink;
  logger: Logger;
  now: () => number;
  dryRun?: boolean;
  /** Told where the drains stand while a wave runs, each time a VM's progress moved a step (the Hypervisor's status is written from it). */
  onDrainProgress?: (status: MaintenanceStatus[], condition: ReturnType<typeof maintenanceCondition>) => Promise<void>;
}

export interface MaintenanceOutcome {
  status: MaintenanceStatus[];
  condition: ReturnType<typeof maintenanceCondition>;
  /** Nothing more to do until something changes: the Hypervisor pass may report Ready. */
  settled: boolean;
  /** What this pass would do (plan): one line per move and host step. */
  intents: string[];
}

const DEFAULT_CONCURRENT = 2;
/** Percentage points a migration moves before its progress is written again. */
export const PROGRESS_STEP = 10;
/** The Hypervisor's drain is written at most this often while a wave runs (each VM's step would write it again and again). */
export const DRAIN_WRITE_MS = 2000;

/** Runs one drain wave for a Hypervisor and reports where every drain stands after it. */
export async function reconcileMaintenance(
  kit: MaintenanceKit,
  hv: Hypervisor,
  conn: Connected,
  managed: readonly ManagedVM[],
  previous: readonly MaintenanceStatus[] | undefined,
): Promise<MaintenanceOutcome> {
  const entries = hv.spec.maintenance ?? [];
  if (entries.length === 0 && !previous?.some((p) => p.host && p.host !== 'waiting')) return done([]);
  const base = {
    entries,
    managed,
    liveMigration: conn.client.capabilities.liveMigration,
    maxConcurrent: hv.spec.migration?.maxConcurrent ?? DEFAULT_CONCURRENT,
    hostMaintenance: conn.client.nodes !== undefined,
    now: kit.now(),
  };
  const observation = await conn.observer.get();
  // Migrations already under way (this process did not start them): how far, with one read.
  const progress = await inFlight(conn, observation, entries);
  const first = planDrain({ ...base, observation, ...(previous ? { previous } : {}), progress });
  if (kit.dryRun) return { ...done(first.status, first), intents: intentsOf(first) };
  if (first.moves.length === 0 && first.host.length === 0) return done(first.status, first);

  // While the wave runs: the same plan again (pure: same input, same moves) with the moves'
  // progress, so the Hypervisor says "2 migrating (40 %, 75 %)" as they go.
  let drainWrites: Promise<void> = Promise.resolve();
  let drainWritten: number | undefined;
  const onStep = (vm: string, percent: number) => {
    progress.set(vm, percent);
    const report = kit.onDrainProgress;
    // What a skipped step would have said, a later one (or the pass's own write at the end) says.
    if (!report || (drainWritten !== undefined && kit.now() - drainWritten < DRAIN_WRITE_MS)) return;
    drainWritten = kit.now();
    const now = planDrain({ ...base, observation, ...(previous ? { previous } : {}), progress: new Map(progress) }).status;
    drainWrites = drainWrites
      .then(() => report(now, maintenanceCondition(now)))
      .catch((e: unknown) => kit.logger.warn({ hypervisor: hv.metadata.name, err: safeError(e).message }, 'could not write drain progress'));
  };
  const failures = new Map<string, string>();
  const failedMoves: { node: string; vm: string; message: string }[] = [];
  await Promise.all(
    first.moves.map((m) =>
      move(kit, conn, m, onStep).catch((e: unknown) => {
        failedMoves.push({ node: m.node, vm: m.action.target.name, message: safeError(e).message });
      }),
    ),
  );
  await drainWrites;
  for (const step of first.host) {
    try {
      kit.logger.info({ hypervisor: hv.metadata.name, node: step.node }, `${step.on ? 'putting' : 'taking'} host ${step.node} ${step.on ? 'into' : 'out of'} the engine's maintenance`);
      await conn.limit(() => conn.client.nodes?.setMaintenance(step.node, step.on) ?? Promise.resolve());
    } catch (e) {
      failures.set(step.node, `host maintenance: ${safeError(e).message}`);
    }
  }
  conn.observer.invalidate(first.moves.map((m) => m.action.target.providerID));
  // Where things stand now; the next wave (queued VMs) is the next pass's. A failed move is
  // recorded so that it is not tried again at once.
  const at = isoTime(kit.now());
  const previousNow = first.status.map((st) => {
    const mine = failedMoves.filter((f) => f.node === st.node).map(({ vm, message }) => ({ vm, message, at }));
    return mine.length ? { ...st, failures: [...(st.failures ?? []).filter((f) => !mine.some((x) => x.vm === f.vm)), ...mine] } : st;
  });
  const after = planDrain({ ...base, maxConcurrent: 0, observation: await conn.observer.get({ maxAgeMs: 0 }), previous: previousNow });
  const status = after.status.map((s) => (failures.has(s.node) ? { ...s, message: `${s.message}; failed: ${failures.get(s.node)}` } : s));
  return done(status, { ...after, settled: after.settled && after.host.length === 0 });
}

/** How far the migrations already under way off the cordoned nodes are (by VM name), from the provider's batched read. */
async function inFlight(conn: Connected, obs: Observation, entries: readonly MaintenanceEntry[]): Promise<Map<string, number>> {
  const moving = migratingOff(obs, entries).filter((v) => v.owner);
  const read = conn.client.vms.migrations?.bind(conn.client.vms);
  if (!read || moving.length === 0) return new Map();
  const got = await read(moving.map((v) => ({ providerID: v.providerID, name: v.name, ...(v.node ? { node: v.node } : {}), ...(v.owner ? { owner: v.owner } : {}) }))).catch(() => new Map());
  return new Map(
    moving.flatMap((v) => {
      const p = got.get(v.providerID)?.percent;
      return p === undefined ? [] : [[v.name, p] as const];
    }),
  );
}

function done(status: MaintenanceStatus[], r?: DrainResult): MaintenanceOutcome {
  return { status, condition: maintenanceCondition(status), settled: r ? r.settled : true, intents: [] };
}

function intentsOf(r: DrainResult): string[] {
  return [...r.moves.map((m) => m.summary), ...r.host.map((h) => `${h.on ? 'put' : 'take'} host ${h.node} ${h.on ? 'into' : 'out of'} the engine's maintenance`)];
}

/** Migrates one VM off a cordoned node, with its progress in the VM's own status. */
async function move(kit: MaintenanceKit, conn: Connected, m: DrainMove, onStep: (vm: string, percent: number) => void): Promise<void> {
  const from = m.node;
  const to = m.action.to;
  const reason = `node ${from} in maintenance`;
  // One write at a time, in order: a progress write must never land after the final one.
  let chain: Promise<void> = Promise.resolve();
  const patch = (f: (s: VirtualMachineStatus) => VirtualMachineStatus): Promise<void> => {
    chain = chain.then(() => patchStatus(kit, m.key, f)).catch((e: unknown) => kit.logger.warn({ resource: m.key, err: safeError(e).message }, 'could not write drain progress'));
    return chain;
  };
  kit.emit({ type: 'action', key: m.key, phase: 'start', action: 'migrate', summary: m.summary });
  kit.logger.info({ resource: m.key, action: 'migrate' }, m.summary);
  let written: Migration = { from, to, reason, progress: 0, startedAt: isoTime(kit.now()) };
  await patch((s) => migrating(kit, s, written));
  const onProgress = (p: Progress) => {
    kit.emit({ type: 'progress', key: m.key, action: 'migrate', ...(p.percent !== undefined ? { percent: p.percent } : {}), ...(p.message ? { message: p.message } : {}) });
    const next = advance(written, p);
    if (!next) return;
    written = next;
    onStep(m.action.target.name, next.progress ?? 0);
    void patch((s) => migrating(kit, s, next));
  };
  try {
    await conn.limit(() => conn.client.vms.execute(m.action, { onProgress }));
  } catch (e) {
    const err = safeError(e);
    kit.emit({ type: 'action', key: m.key, phase: 'failed', action: 'migrate', summary: m.summary, message: err.message });
    await patch((s) => settle(kit, s, { ...(s.node ? { node: s.node } : {}), message: `drain of ${from} could not move it: ${err.message}` }));
    throw e;
  }
  kit.emit({ type: 'action', key: m.key, phase: 'done', action: 'migrate', summary: m.summary });
  await patch((s) => settle(kit, s, { node: to, message: `moved from ${from} to ${to} (${reason})`, lastAction: `migrate (live, ${from} → ${to}, ${reason})` }));
}

type Migration = NonNullable<VirtualMachineStatus['migration']>;

/** The migration as it should be written after this report, or undefined when the last write still says enough (less than a step moved, same stage). */
export function advance(written: Migration, p: Progress): Migration | undefined {
  const raw = p.migration?.percent ?? p.percent;
  // 100 is the end, which the final write says (with where it landed).
  if (raw !== undefined && raw >= 100) return undefined;
  const percent = raw === undefined ? undefined : Math.max(0, Math.round(raw));
  const phase = p.migration?.phase;
  const stepped = percent !== undefined && Math.abs(percent - (written.progress ?? 0)) >= PROGRESS_STEP;
  const staged = phase !== undefined && phase !== written.phase;
  if (!stepped && !staged) return undefined;
  const mp = p.migration;
  return {
    ...written,
    ...(percent !== undefined ? { progress: percent } : {}),
    ...(phase ? { phase } : {}),
    ...(mp?.bytesDone !== undefined ? { bytesDone: mp.bytesDone } : {}),
    ...(mp?.bytesTotal !== undefined ? { bytesTotal: mp.bytesTotal } : {}),
    ...(mp?.startedAt ? { startedAt: mp.startedAt } : {}),
  };
}

function migrating(kit: MaintenanceKit, s: VirtualMachineStatus, migration: Migration): VirtualMachineStatus {
  const gen = s.observedGeneration ?? 1;
  const mib = (n: number) => Math.round(n / 2 ** 20);
  const bytes = migration.bytesTotal ? `, ${mib(migration.bytesDone ?? 0)} of ${mib(migration.bytesTotal)} MiB` : '';
  const message = `${migration.from} → ${migration.to} ${migration.progress ?? 0}%${bytes} (${migration.reason})`;
  return { ...s, phase: 'Migrating', migration, conditions: setCondition(s.conditions, { type: 'Migrating', status: 'True', reason: 'NodeMaintenance', message }, gen, isoTime(kit.now())) };
}

function settle(kit: MaintenanceKit, s: VirtualMachineStatus, o: { node?: string; message: string; lastAction?: string }): VirtualMachineStatus {
  const { migration: _m, ...rest } = s;
  const gen = s.observedGeneration ?? 1;
  return {
    ...rest,
    ...(s.phase === 'Migrating' ? { phase: 'Running' as const } : {}),
    ...(o.node ? { node: o.node } : {}),
    ...(o.lastAction ? { lastAction: o.lastAction } : {}),
    conditions: setCondition(s.conditions, { type: 'Migrating', status: 'False', reason: 'NodeMaintenance', message: o.message }, gen, isoTime(kit.now())),
  };
}

/** Changes a VM's status record in place; a VM without one yet (never reconciled) is left alone. */
async function patchStatus(kit: MaintenanceKit, key: string, f: (s: VirtualMachineStatus) => VirtualMachineStatus): Promise<void> {
  const record = await kit.statuses.read(key);
  if (!record) return;
  await kit.statuses.write({ ...record, status: f(record.status as VirtualMachineStatus) as Record<string, unknown>, updatedAt: isoTime(kit.now()) });
}
