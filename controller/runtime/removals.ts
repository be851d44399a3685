// The one gate every removal passes, in both modes. A mode tells it what the source shows
// (which removable resources are absent or being deleted, and what is managed); the reconciler's
// single removal path asks it before destroying anything, and reports what it destroyed.
// Two fences: a grace (absent on two reads of the source spanning `graceMs`, so a file missing
// for a moment during a checkout is never deleted) and the guard (core/removal-guard.ts) over a
// window of earlier removals, kept in a ledger so repetition does not pass it.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AnyResource } from '../api/types.ts';
import { DEFAULT_GUARD, guardRemovals, type GuardPolicy, type Removable } from '../core/removal-guard.ts';
import { isoTime } from '../core/status.ts';
import type { Admission } from './admission.ts';
import { registeredReconcilers } from './reconcilers/registry.ts';

export type { Admission } from './admission.ts';

export interface RemovalPolicy extends GuardPolicy {
  /** Absent this long (on two reads at least) before a removal may go. */
  graceMs: number;
  /** Reads of the source that must show the resource absent (2 in directory mode, 1 for an explicit delete). */
  sightings: number;
}

export const DEFAULT_REMOVAL: RemovalPolicy = { ...DEFAULT_GUARD, graceMs: 0, sightings: 2 };

export interface LedgerState {
  /** Key → when it was first seen absent, and on how many reads. */
  absent: Record<string, { since: number; reads: number }>;
  /** Removals done, for the window. */
  done: { key: string; hypervisors: string[]; at: number }[];
}

/** Where the gate keeps what must outlive a process (the state directory), or memory. */
export interface RemovalLedger {
  load(): Promise<LedgerState>;
  save(state: LedgerState): Promise<void>;
}

export function memoryLedger(): RemovalLedger {
  let s: LedgerState = { absent: {}, done: [] };
  return {
    load: async () => structuredClone(s),
    save: async (next) => {
      s = structuredClone(next);
    },
  };
}

export function fileLedger(path: string): RemovalLedger {
  // Saves go one after another, in the order they were asked: removals done side by side each
  // save, and two renames of one temporary file failed the second (ENOENT, the removal reported
  // failed although done) or could land an older state last.
  let queue: Promise<void> = Promise.resolve();
  let seq = 0;
  return {
    async load() {
      try {
        const s = JSON.parse(await readFile(path, 'utf8')) as Partial<LedgerState>;
        return { absent: s.absent ?? {}, done: s.done ?? [] };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { absent: {}, done: [] };
        // A ledger that cannot be read is an error, never an empty window: the pass removes nothing.
        throw e;
      }
    },
    save(state) {
      const text = JSON.stringify(state);
      const write = queue.then(async () => {
        await mkdir(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.${seq++}.tmp`;
        await writeFile(tmp, text, { mode: 0o600 });
        await rename(tmp, path);
      });
      queue = write.catch(() => undefined);
      return write;
    },
  };
}

/** The hypervisors a removal touches (a network lists several). */
export function hypervisorsOf(r: AnyResource): string[] {
  const spec = r.spec as { hypervisor?: unknown; hypervisors?: { hypervisor?: unknown }[] };
  if (typeof spec.hypervisor === 'string') return [spec.hypervisor];
  return (spec.hypervisors ?? []).flatMap((b) => (typeof b.hypervisor === 'string' ? [b.hypervisor] : []));
}

/** The kinds whose removal can destroy something on a hypervisor, as their registry entries say. */
export const DESTROYING_KINDS: ReadonlySet<string> = new Set(registeredReconcilers().flatMap((r) => (r.removalDestroys ? [r.kind] : [])));

/** A removal destroys something (rather than forgetting it): a VM, disk or network with deletionPolicy Delete. */
export function destroys(r: AnyResource | undefined): boolean {
  if (!r || !DESTROYING_KINDS.has(r.kind)) return false;
  return ((r.spec as { deletionPolicy?: string }).deletionPolicy ?? 'Delete') === 'Delete';
}

export interface SourceView {
  /** Resources the source no longer declares (or that are being deleted), as last applied. */
  absent: readonly AnyResourceWithKey[];
  /** Keys of removable resources the source declares now. */
  present: Iterable<string>;
  /** Every managed resource a removal would destroy (absent ones included). */
  managed: readonly AnyResourceWithKey[];
}

export interface AnyResourceWithKey {
  key: string;
  resource: AnyResource;
}

export interface RemovalGateOptions {
  policy?: Partial<RemovalPolicy>;
  ledger?: RemovalLedger;
  now: () => number;
}

export class RemovalGate {
  readonly policy: RemovalPolicy;
  private readonly ledger: RemovalLedger;
  private readonly now: () => number;
  private state: LedgerState | undefined;
  private verdicts = new Map<string, Admission>();
  /** The guard's refusal of the last review, if any, for the CLI. */
  refusal: string | undefined;

  constructor(o: RemovalGateOptions) {
    this.policy = { ...DEFAULT_REMOVAL, ...o.policy };
    this.ledger = o.ledger ?? memoryLedger();
    this.now = o.now;
  }

  private async load(): Promise<LedgerState> {
    this.state ??= await this.ledger.load();
    const cut = this.now() - this.policy.windowMs;
    this.state.done = this.state.done.filter((d) => d.at >= cut);
    return this.state;
  }

  /** One read of the source: counts the sightings of what is absent, then decides every removal. */
  async review(view: SourceView): Promise<void> {
    const s = await this.load();
    const now = this.now();
    const absentKeys = new Set(view.absent.map((a) => a.key));
    for (const k of view.present) delete s.absent[k];
    for (const k of Object.keys(s.absent)) if (!absentKeys.has(k)) delete s.absent[k];
    for (const k of absentKeys) {
      const seen = s.absent[k];
      s.absent[k] = seen ? { since: seen.since, reads: seen.reads + 1 } : { since: now, reads: 1 };
    }
    await this.ledger.save(s);

    this.verdicts = new Map();
    const ripe: Removable[] = [];
    for (const a of view.absent) {
      if (!destroys(a.resource)) {
        this.verdicts.set(a.key, { allowed: true });
        continue;
      }
      const seen = s.absent[a.key] ?? { since: now, reads: 1 };
      const left = seen.since + this.policy.graceMs - now;
      if (seen.reads < this.policy.sightings || left > 0) {
        const at = isoTime(seen.since + this.policy.graceMs);
        this.verdicts.set(a.key, {
          allowed: false,
          code: 'VK_DELETE_GRACE',
          message: `absent from the source since ${isoTime(seen.since)}; removed when still absent on a read after ${at} (--delete-grace ${Math.round(this.policy.graceMs / 1000)}s)`,
          retryAfterMs: Math.max(left, 0),
        });
        continue;
      }
      ripe.push({ key: a.key, hypervisors: hypervisorsOf(a.resource) });
    }
    const managed = view.managed.filter((m) => destroys(m.resource)).map((m) => ({ key: m.key, hypervisors: hypervisorsOf(m.resource) }));
    const verdict = guardRemovals({ candidates: ripe, managed, recent: s.done, policy: this.policy });
    this.refusal = verdict.allowed ? undefined : verdict.message;
    for (const r of ripe) this.verdicts.set(r.key, verdict.allowed ? { allowed: true } : { allowed: false, code: 'VK_DELETE_GUARD', message: verdict.message ?? 'held back by the deletion guard' });
  }

  /** Asked by the removal path before it destroys anything; a key not reviewed is held. */
  admit(key: string): Admission {
    return this.verdicts.get(key) ?? { allowed: false, code: 'VK_DELETE_GRACE', message: 'not yet confirmed absent by a second read of the source', retryAfterMs: 0 };
  }

  /** Told by the removal path after it destroyed something: counts in the window. */
  async done(key: string, hypervisors: string[]): Promise<void> {
    const s = await this.load();
    s.done.push({ key, hypervisors, at: this.now() });
    delete s.absent[key];
    this.verdicts.delete(key);
    await this.ledger.save(s);
  }

  /** Keys held only by the grace, and the soonest time a review could let one go. */
  graceHeld(): { keys: string[]; retryAfterMs: number } {
    const held = [...this.verdicts].filter(([, v]) => !v.allowed && v.code === 'VK_DELETE_GRACE');
    return { keys: held.map(([k]) => k), retryAfterMs: Math.min(...held.map(([, v]) => (v.allowed ? 0 : (v.retryAfterMs ?? 0))), Number.POSITIVE_INFINITY) };
  }
}
