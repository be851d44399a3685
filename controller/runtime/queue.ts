// A keyed, de-duplicating work queue (after client-go's workqueue): a key waiting is queued
// once however often it is added; a key being processed is never handed to a second
// worker, and if added meanwhile it is queued again when done. Two lanes: what a source says
// changed goes before what comes back on a timer (drift checks, retries), so a new manifest is
// not queued behind a resync of every VM on its hypervisor.
import type { Clock, TimerHandle } from './clock.ts';
import { defaultRateLimiter, type RateLimiter } from './rate-limiter.ts';

export interface WorkQueueOptions {
  clock: Clock;
  rateLimiter?: RateLimiter;
}

/** `now`: a change a source saw; `later`: a key back from a delay (resync, backoff). */
export type Lane = 'now' | 'later';

const first = (s: Set<string>): string | undefined => s.values().next().value;

export class WorkQueue {
  private readonly lanes: Record<Lane, Set<string>> = { now: new Set(), later: new Set() };
  /** Keys queued, or added while being processed, with the lane they go to. */
  private readonly dirty = new Map<string, Lane>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; handle: TimerHandle }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly clock: Clock;
  readonly limiter: RateLimiter;
  adds = 0;

  constructor(options: WorkQueueOptions) {
    this.clock = options.clock;
    this.limiter = options.rateLimiter ?? defaultRateLimiter(options.clock);
  }

  add(key: string, lane: Lane = 'now'): void {
    if (this.shuttingDown) return;
    const had = this.dirty.get(key);
    if (had !== undefined) {
      // A change for a key waiting behind the drift checks goes ahead of them.
      if (had === 'later' && lane === 'now') {
        this.dirty.set(key, 'now');
        if (this.lanes.later.delete(key)) this.lanes.now.add(key);
      }
      return;
    }
    this.adds++;
    this.dirty.set(key, lane);
    if (this.processing.has(key)) return;
    const w = this.waiters.shift();
    if (w) {
      this.dirty.delete(key);
      this.processing.add(key);
      w(key);
    } else this.lanes[lane].add(key);
  }

  /** Adds after a delay; an earlier pending delay for the key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key, 'later');
      return;
    }
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.clock.clearTimeout(existing.handle);
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key, 'later');
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.limiter.when(key));
  }

  forget(key: string): void {
    this.limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiter.numRequeues(key);
  }

  /** The next key to work on; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    const key = first(this.lanes.now) ?? first(this.lanes.later);
    if (key !== undefined) {
      this.lanes.now.delete(key);
      this.lanes.later.delete(key);
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    const lane = this.dirty.get(key);
    if (lane !== undefined) {
      this.dirty.delete(key);
      this.add(key, lane);
    }
  }

  len(): number {
    return this.lanes.now.size + this.lanes.later.size;
  }

  isProcessing(key: string): boolean {
    return this.processing.has(key);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) this.clock.clearTimeout(d.handle);
    this.delayed.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
