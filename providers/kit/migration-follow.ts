// Following live migrations while they run: one read per group per tick (a hypervisor, a source
// host) answers every migration in flight there, as BatchPoller does for tasks, and each one's
// progress goes to its action's onProgress. The migration's own wait (its task, job or RPC)
// says when it is over; the follow stops then, so it never decides success or failure.
import type { MigrationProgress, Progress } from '../../controller/core/provider.ts';
import { BatchPoller } from './batch-poller.ts';

export type MigrationRead = (group: string, ids: readonly string[]) => Promise<ReadonlyMap<string, MigrationProgress>>;

export interface MigrationFollowerOptions {
  read: MigrationRead;
  /** The first look and the slowest cadence (default 500 ms and 2 s). */
  minMs?: number;
  maxMs?: number;
  now?: () => number;
}

export class MigrationFollower {
  private readonly poller: BatchPoller<MigrationProgress>;

  constructor(o: MigrationFollowerOptions) {
    this.poller = new BatchPoller<MigrationProgress>({
      // A read that fails is a tick without news: the migration goes on regardless.
      list: (group, ids) => o.read(group, ids).catch(() => new Map<string, MigrationProgress>()),
      done: () => false,
      minMs: o.minMs ?? 500,
      maxMs: o.maxMs ?? 2000,
      // Migrations started moments apart share the group's ticks instead of each adding its own.
      align: true,
      ...(o.now ? { now: o.now } : {}),
    });
  }

  /** Awaits `work` (the migration, until it is over), reporting its progress meanwhile. */
  async during<T>(group: string, id: string, work: Promise<T>, o: { to: string; onProgress?: (p: Progress) => void }): Promise<T> {
    const report = o.onProgress;
    if (!report) return work;
    const stop = new AbortController();
    let over = false;
    const follow = this.poller
      .wait(group, id, {
        signal: stop.signal,
        onTick: (p) => {
          if (!p || over) return; // a tick answered after the end must not report it running
          const percent = p.percent !== undefined ? Math.min(99, Math.max(0, Math.floor(p.percent))) : undefined;
          report({
            ...(percent !== undefined ? { percent } : {}),
            message: `migrating to ${o.to}${percent !== undefined ? ` (${percent}%)` : ''}`,
            migration: { ...p, ...(percent !== undefined ? { percent } : {}) },
          });
        },
      })
      .catch(() => undefined);
    try {
      return await work;
    } finally {
      over = true;
      stop.abort();
      await follow;
    }
  }

  /** Reads made, for tests and benchmarks. */
  get reads(): number {
    return this.poller.reads;
  }
}
