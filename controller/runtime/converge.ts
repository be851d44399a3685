// One pass over a folder: load, validate, reconcile every resource in dependency order,
// and (with wait) repeat until everything is Ready or the time is up. `apply` and `plan`
// are this; `run` does the same per key from a watched folder.
import type { Logger } from 'pino';
import type { AnyResource } from '../api/types.ts';
import { KIND_NAMES } from '../api/kinds.ts';
import { parseKey } from '../api/keys.ts';
import type { PlanResult } from '../core/plan.ts';
import { formatProblem, loadFolder } from '../sources/load-folder.ts';
import type { StatusStore } from '../status/writer.ts';
import { deletionGuard } from './deletion-guard.ts';
import type { EventSink } from './events.ts';
import type { HypervisorPool } from './hypervisors.ts';
import { Reconciler, safeError, type Intent } from './reconciler.ts';
import { DesiredStore } from './store.ts';

export interface ConvergeOptions {
  folder: string;
  statuses: StatusStore;
  hypervisors: HypervisorPool;
  logger: Logger;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  emit?: EventSink;
  dryRun?: boolean;
  wait?: boolean;
  timeoutMs?: number;
  maxDeleteShare?: number;
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
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++] as T);
  }));
}

export async function converge(o: ConvergeOptions): Promise<ConvergeReport> {
  const records = await o.statuses.list();
  const lastApplied = new Map(records.flatMap((r) => (r.lastApplied ? [[r.key, r.lastApplied.spec as AnyResource['spec']] as const] : [])));
  const load = await loadFolder(o.folder, { lastApplied });
  const store = new DesiredStore();
  store.update(load, formatProblem);
  const problems = load.problems.map(formatProblem);

  // Removals: records of VMs no longer declared, unless their file could not be read.
  const removed = records.filter((r) => (r.kind === 'VirtualMachine' || r.kind === 'VirtualNetwork' || r.kind === 'VirtualDisk') && r.lastApplied && !store.get(r.key) && !(r.source && store.broken.has(r.source.file))).map((r) => r.key);
  const managed = records.filter((r) => r.kind === 'VirtualMachine' && r.lastApplied).length;
  const guard = deletionGuard({ candidates: removed.filter((k) => k.startsWith('VirtualMachine/')), managed, maxShare: o.maxDeleteShare ?? 0.3 });
  const reconciler = new Reconciler({
    store, statuses: o.statuses, hypervisors: o.hypervisors, logger: o.logger, now: o.now,
    ...(o.emit ? { emit: o.emit } : {}), ...(o.dryRun ? { dryRun: true } : {}), ...(o.instance ? { instance: o.instance } : {}), mayDelete: () => guard.allowed,
  });

  const keys = [...store.keys(), ...removed].sort(byDependency);
  const outcomes = new Map<string, KeyOutcome>();
  const deadline = o.now() + (o.timeoutMs ?? 10 * 60_000);
  const runKey = async (key: string) => {
    try {
      const r = await reconciler.reconcile(key);
      const refused = (r.plan?.refusals.length ?? 0) > 0;
      outcomes.set(key, { key, ready: r.ready ?? !refused, ...(r.plan ? { plan: r.plan } : {}), ...(r.intents?.length ? { intents: r.intents } : {}), ...(refused ? { error: { code: r.plan?.refusals[0]?.code ?? 'VK_REFUSED', message: r.plan?.refusals[0]?.message ?? '' } } : {}), ...(removed.includes(key) ? { removal: true } : {}) });
    } catch (e) {
      outcomes.set(key, { key, ready: false, error: safeError(e), ...(removed.includes(key) ? { removal: true } : {}) });
    }
  };
  // Hypervisors first (they connect and observe once), then the rest in dependency order.
  // Hypervisors first, then networks and templates before the VMs that use them; removals last,
  // in the reverse order (a network goes only after the VMs on it).
  const first = keys.filter((k) => parseKey(k).kind === 'Hypervisor');
  const rest = keys.filter((k) => parseKey(k).kind !== 'Hypervisor' && !removed.includes(k));
  await pool(first, o.concurrency ?? 16, runKey);
  for (const kind of ['VirtualNetwork', 'VMTemplate', 'VirtualMachine', 'VirtualDisk', 'VirtualMachineSet']) await pool(rest.filter((k) => parseKey(k).kind === kind), o.concurrency ?? 16, runKey);
  const removals = [...removed].sort((a, b) => byDependency(b, a));
  for (const kind of ['VirtualDisk', 'VirtualMachine', 'VirtualNetwork']) await pool(removals.filter((k) => parseKey(k).kind === kind), o.concurrency ?? 16, runKey);

  let timedOut = false;
  if (o.wait && !o.dryRun) {
    for (;;) {
      const pending = [...outcomes.values()].filter((x) => !x.ready && !isFinal(x)).map((x) => x.key);
      if (pending.length === 0) break;
      if (o.now() >= deadline) {
        timedOut = true;
        break;
      }
      await o.sleep(1000);
      await pool(pending, o.concurrency ?? 16, runKey);
    }
  }
  return { problems, outcomes: [...outcomes.values()].sort((a, b) => byDependency(a.key, b.key)), ...(guard.message ? { guard: guard.message } : {}), timedOut };
}

/** A failure that another pass cannot fix without a change of spec. */
function isFinal(x: KeyOutcome): boolean {
  if (!x.error) return false;
  return x.error.code.startsWith('VK_REFUSED') || x.error.code === 'VK_SPEC_INVALID' || x.error.code === 'VK_TERMINAL' || x.error.code === 'VK_CREDENTIALS' || x.error.code === 'VK_PROVIDER_UNAVAILABLE';
}
