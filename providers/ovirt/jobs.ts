// Waiting on the engine's jobs without a poll per job: every write virtkeeper waits on carries
// a correlation id; one `GET /jobs?search=correlation_id=a or correlation_id=b …` per tick
// serves every wait in flight on the engine, and the tick backs off while nothing finishes.
import { ProviderLockedError } from '../../controller/core/errors.ts';
import type { ActionContext } from '../../controller/core/provider.ts';
import { arr, type Json, type OvirtClient } from './client.ts';

/** How the jobs of a correlation id ended; `none`: the engine made no job for it (a synchronous step). */
export type JobOutcome = 'finished' | 'failed' | 'none';

export interface JobWatchOptions {
  api: OvirtClient;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** The first tick after a wait starts, and the tick after one finished (default 100 ms). */
  minMs?: number;
  /** The longest tick (default 1 s). */
  maxMs?: number;
  /** Ticks without any job of a correlation id before it counts as none (default 3). */
  absentTicks?: number;
}

interface Waiter {
  correlation: string;
  deadline: number;
  what: string;
  ticks: number;
  ctx: ActionContext;
  resolve: (o: JobOutcome) => void;
  reject: (e: unknown) => void;
}

const ENDED = new Set(['finished', 'failed', 'aborted']);
/** Correlation ids per search: keeps the request line short of what proxies cut (8 KiB). */
const PER_SEARCH = 40;

export class JobWatch {
  private readonly o: JobWatchOptions;
  private readonly waiters = new Set<Waiter>();
  private running = false;
  private delay: number;

  constructor(options: JobWatchOptions) {
    this.o = options;
    this.delay = options.minMs ?? 100;
  }

  /** Resolves when every job of the correlation id has ended; a locked error after `timeoutMs`. */
  wait(correlation: string, what: string, ctx: ActionContext = {}, timeoutMs = 600_000): Promise<JobOutcome> {
    return new Promise((resolve, reject) => {
      this.waiters.add({ correlation, what, deadline: this.o.now() + timeoutMs, ticks: 0, ctx, resolve, reject });
      // The tick after a new wait is a short one again, not a long backed-off one.
      this.delay = this.o.minMs ?? 100;
      if (!this.running) void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.waiters.size > 0) {
        await this.o.sleep(this.delay);
        const finished = await this.tick();
        this.delay = finished ? (this.o.minMs ?? 100) : Math.min(this.o.maxMs ?? 1000, this.delay * 2);
      }
    } finally {
      this.running = false;
    }
  }

  /** One look at every wait in flight; whether any ended. */
  private async tick(): Promise<boolean> {
    const batch = [...this.waiters];
    let ended = false;
    for (let i = 0; i < batch.length; i += PER_SEARCH) {
      const chunk = batch.slice(i, i + PER_SEARCH);
      let jobs: Json[];
      try {
        jobs = arr((await this.o.api.get('/jobs', { search: chunk.map((w) => `correlation_id="${w.correlation}"`).join(' or ') })).job);
      } catch (e) {
        for (const w of chunk) this.settle(w, () => w.reject(e));
        ended = true;
        continue;
      }
      for (const w of chunk) {
        const mine = jobs.filter((j) => String(j.correlation_id ?? '') === w.correlation);
        w.ticks++;
        if (w.ctx.signal?.aborted) this.settle(w, () => w.reject(w.ctx.signal?.reason));
        else if (mine.length > 0 && mine.every((j) => ENDED.has(String(j.status)))) this.settle(w, () => w.resolve(mine.some((j) => String(j.status) !== 'finished') ? 'failed' : 'finished'));
        else if (mine.length === 0 && w.ticks >= (this.o.absentTicks ?? 3)) this.settle(w, () => w.resolve('none'));
        else if (this.o.now() > w.deadline) this.settle(w, () => w.reject(new ProviderLockedError(`${w.what}: the engine's job is not done yet`)));
        else {
          const running = mine.find((j) => !ENDED.has(String(j.status)));
          if (running) w.ctx.onProgress?.({ message: `${w.what}: ${String(running.description ?? 'job')} ${String(running.status)}` });
          continue;
        }
        ended = true;
      }
    }
    return ended;
  }

  private settle(w: Waiter, fn: () => void): void {
    this.waiters.delete(w);
    fn();
  }
}

/** A correlation id for one write: unique, so an earlier write's finished job never answers for it. */
export function correlationId(what: string): string {
  // Engines take at most 50 characters of [A-Za-z0-9_-].
  const tag = what.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 30);
  return `vk-${tag}-${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}
