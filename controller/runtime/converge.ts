// One pass over a loaded folder: reconcile every resource in dependency order, read the
// folder again before removals, and (with wait) repeat until everything is Ready or the time
// is up. `apply` and `plan` are this; `run` does the same per key from a watched folder.
import type { Logger } from 'pino';
import { KIND_NAMES } from '../api/kinds.ts';
import { parseKey } from '../api/keys.ts';
import type { PlanResult } from '../core/plan.ts';
import { type DesiredFolder, openFolder } from '../sources/folder.ts';
import { PassStatusView } from '../status/pass-view.ts';
import type { StatusRecord } from '../status/writer.ts';
import type { StatusStore } from '../status/writer.ts';
import { directoryGate, folderView } from './modes/directory-removals.ts';
import type { RemovalGate, RemovalPolicy } from './removals.ts';
import type { EventSink } from './events.ts';
import type { HypervisorPool } from './hypervisors.ts';
import { isFinalError } from '../core/errors.ts';
import { Reconciler, safeError, type Intent } from './reconciler.ts';

export interface ConvergeOptions {
  /** The folder as loaded (sources/folder.ts); a path is opened here, with `statuses`. */
  folder: DesiredFolder | string;
  statuses: StatusStore;
  hypervisors: HypervisorPool;
  logger: Logger;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  emit?: EventSink;
  dryRun?: boolean;
  wait?: boolean;
  timeoutMs?: number;
  /** Shorthand for removal.maxShare. */
  maxDeleteShare?: number;
  /** The guard and grace (defaults: 30% or 1 per hypervisor and fleet per hour, two reads, no wait). */
  removal?: Partial<RemovalPolicy>;
  /** Where the removal ledger lives (the state directory); memory when absent. */
  stateDir?: string;
  /** A gate of the caller's (tests); one is made from the options above otherwise. */
  removals?: RemovalGate;
  concurrency?: number;
  /** The controller instance VM markers name (see ReconcilerOptions.instance). */
  instance?: string;
}

export interface KeyOutcome {
  key: string;
  ready: boolean;
  plan?: PlanResult;
  intents?: Intent[];
  error?: { code: string; message: string };
  /** The error is one another pass cannot fix without a change (see isFinalError): --wait stops waiting for it. */
  final?: boolean;
  removal?: boolean;
}

export interface ConvergeReport {
  problems: string[];
  outcomes: KeyOutcome[];
  guard?: string;
  timedOut: boolean;
}

const ORDER = new Map(KIND_NAMES.map((k, i) => [k, i]));

/** Orders keys so networks and templates come before the VMs that use them. */
export function byDependency(a: string, b: string): number {
  return (ORDER.get(parseKey(a).kind) ?? 99) - (ORDER.get(parseKey(b).kind) ?? 99) || a.localeCompare(b);
}

async function pool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) await fn(items[i++] as T);
    }),
  );
}

export async function converge(o: ConvergeOptions): Promise<ConvergeReport> {
  const folder = typeof o.folder === 'string' ? await openFolder(o.folder, o.statuses) : o.folder;
  const store = folder.store;
  const stateDir = o.stateDir ?? stateDirOf(o.statuses);
  const gate =
    o.removals ??
    directoryGate({
      now: o.now,
      ...(stateDir ? { stateDir } : {}),
      ...(o.dryRun ? { dryRun: true } : {}),
      policy: { ...(o.maxDeleteShare !== undefined ? { maxShare: o.maxDeleteShare } : {}), ...o.removal },
    });
  // Each read of the folder tells the gate what is gone (counted by its grace); the first is
  // the one the folder was loaded with.
  // The pass reads the state directory once, with the folder (see PassStatusView).
  const statuses = new PassStatusView(o.statuses);
  const review = async (records: readonly StatusRecord[]): Promise<string[]> => {
    statuses.reset(records);
    const view = folderView(records, store);
    await gate.review(view);
    return view.absent.map((a) => a.key);
  };
  const read = async (): Promise<string[]> => review((await folder.read()).records);
  let removed = await review(folder.records);
  const reconciler = new Reconciler({
    store,
    statuses,
    hypervisors: o.hypervisors,
    logger: o.logger,
    now: o.now,
    removals: gate,
    ...(o.emit ? { emit: o.emit } : {}),
    ...(o.dryRun ? { dryRun: true } : {}),
    ...(o.instance ? { instance: o.instance } : {}),
  });

  const outcomes = new Map<string, KeyOutcome>();
  const deadline = o.now() + (o.timeoutMs ?? 10 * 60_000);
  // When a pending removal may have moved on (its grace over, a host back): the wait loop reads
  // the folder again for removals only then, not every second.
  const removalDue = new Map<string, number>();
  const runKey = async (key: string) => {
    const removal = removed.includes(key) ? { removal: true } : {};
    if (removal.removal) removalDue.set(key, o.now() + 1000);
    try {
      const r = await reconciler.reconcile(key);
      if (removal.removal && r.requeueAfter !== undefined) removalDue.set(key, o.now() + Math.max(r.requeueAfter, 1000));
      const refused = (r.plan?.refusals.length ?? 0) > 0;
      // A refusal, and a final hold (the guard, a Hypervisor gone), need a change; the grace passes by itself.
      const error = r.held ? { code: r.held.code, message: r.held.message } : refused ? { code: r.plan?.refusals[0]?.code ?? 'VK_REFUSED', message: r.plan?.refusals[0]?.message ?? '' } : undefined;
      const final = refused || r.held?.final === true;
      outcomes.set(key, {
        key,
        ready: r.ready ?? !error,
        ...(r.plan ? { plan: r.plan } : {}),
        ...(r.intents?.length ? { intents: r.intents } : {}),
        ...(error ? { error } : {}),
        ...(final ? { final } : {}),
        ...removal,
      });
    } catch (e) {
      outcomes.set(key, { key, ready: false, error: safeError(e), ...(isFinalError(e) ? { final: true } : {}), ...removal });
    }
  };
  // Hypervisors first (they connect and observe once), then networks and templates before the
  // VMs that use them; removals last, in the reverse order (a network goes only after its VMs).
  const keys = store.keys().sort(byDependency);
  const first = keys.filter((k) => parseKey(k).kind === 'Hypervisor');
  const rest = keys.filter((k) => parseKey(k).kind !== 'Hypervisor');
  await pool(first, o.concurrency ?? 16, runKey);
  for (const kind of ['VirtualNetwork', 'VMTemplate', 'VirtualMachine', 'VirtualDisk', 'VirtualMachineSet', 'VirtualMachineSnapshot', 'VirtualMachineRestore', 'VirtualMachineSnapshotSchedule'])
    await pool(
      rest.filter((k) => parseKey(k).kind === kind),
      o.concurrency ?? 16,
      runKey,
    );
  const runRemovals = async () => {
    // A second read before anything goes: what was absent only for a moment (a checkout) is back.
    removed = await read();
    const order = [...removed].sort((a, b) => byDependency(b, a));
    const kinds = ['VirtualMachineSnapshot', 'VirtualDisk', 'VirtualMachine', 'VirtualNetwork'];
    for (const kind of kinds)
      await pool(
        order.filter((k) => parseKey(k).kind === kind),
        o.concurrency ?? 16,
        runKey,
      );
    await pool(
      order.filter((k) => !kinds.includes(parseKey(k).kind)),
      o.concurrency ?? 16,
      runKey,
    );
    // A removal the folder took back is no removal.
    for (const [k, x] of outcomes) if (x.removal && !removed.includes(k)) outcomes.delete(k);
  };
  await runRemovals();

  let timedOut = false;
  if (o.wait && !o.dryRun) {
    // The seconds slept count too: a clock that does not move (a test's, a stuck one) must not keep the wait forever.
    let slept = 0;
    for (;;) {
      const pending = [...outcomes.values()].filter((x) => !x.ready && !isFinal(x)).map((x) => x.key);
      if (pending.length === 0) break;
      if (o.now() >= deadline || slept >= (o.timeoutMs ?? 10 * 60_000)) {
        timedOut = true;
        break;
      }
      await o.sleep(1000);
      slept += 1000;
      // Each round looks at the hypervisors afresh, whatever age the pool lets an observation reach.
      for (const c of await o.hypervisors.connections()) c.observer.invalidate();
      await pool(
        pending.filter((k) => !removed.includes(k)),
        o.concurrency ?? 16,
        runKey,
      );
      if (pending.some((k) => removed.includes(k) && (removalDue.get(k) ?? 0) <= o.now())) await runRemovals();
    }
  }
  return { problems: folder.problems, outcomes: [...outcomes.values()].sort((a, b) => byDependency(a.key, b.key)), ...(gate.refusal ? { guard: gate.refusal } : {}), timedOut };
}

/** The state directory behind a status store, if it is one (plan wraps it read-only). */
function stateDirOf(s: StatusStore): string | undefined {
  const dir = (s as { dir?: unknown }).dir;
  return typeof dir === 'string' ? dir : undefined;
}

/** A failure that another pass cannot fix without a change. */
function isFinal(x: KeyOutcome): boolean {
  return !!x.error && x.final === true;
}
