// Waiting on many things with one read per group per tick: every task in flight on a Proxmox
// node is answered by one `GET /nodes/{node}/tasks`, every oVirt job by one `GET /jobs`, instead
// of a poll per task. The tick backs off while nothing new arrives (a tenth of the age of the
// youngest waiter, within [minMs, maxMs]), so a quick task still ends quickly.
import { sleep as realSleep, type Sleep } from './sleep.ts';

export interface BatchPollerOptions<R> {
  /** One read for a group's waiters (ids in flight): what it knows of each; an id it does not show is asked again next tick. */
  list: (group: string, ids: readonly string[]) => Promise<ReadonlyMap<string, R>>;
  done: (r: R) => boolean;
  /** An id the list has not shown after this many ticks is read alone (a list that holds only the newest N). */
  single?: (group: string, id: string) => Promise<R | undefined>;
  singleAfterTicks?: number;
  minMs?: number;
  maxMs?: number;
  now?: () => number;
  sleep?: Sleep;
}

export interface BatchWaitOptions<R> {
  signal?: AbortSignal;
  /** Told of each tick's answer while not done. */
  onTick?: (r: R | undefined) => void;
  timeoutMs?: number;
  onTimeout?: (elapsedMs: number) => Error;
}

interface Waiter<R> {
  id: string;
  since: number;
  misses: number;
  o: BatchWaitOptions<R>;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class BatchPoller<R> {
  private readonly groups = new Map<string, Set<Waiter<R>>>();
  private readonly o: BatchPollerOptions<R>;
  /** Reads made, for tests and benchmarks. */
  reads = 0;

  constructor(options: BatchPollerOptions<R>) {
    this.o = options;
  }

  wait(group: string, id: string, o: BatchWaitOptions<R> = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (o.signal?.aborted) return reject(o.signal.reason);
      const w: Waiter<R> = { id, since: this.now(), misses: 0, o, resolve, reject };
      o.signal?.addEventListener('abort', () => this.settle(group, w, () => reject(o.signal?.reason)), { once: true });
      let set = this.groups.get(group);
      if (!set) {
        set = new Set();
        this.groups.set(group, set);
        set.add(w);
        void this.loop(group, set);
      } else set.add(w);
    });
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private settle(group: string, w: Waiter<R>, fn: () => void): void {
    const set = this.groups.get(group);
    if (!set?.delete(w)) return;
    fn();
  }

  private async loop(group: string, set: Set<Waiter<R>>): Promise<void> {
    const sleep = this.o.sleep ?? realSleep;
    try {
      while (set.size > 0) {
        const youngest = Math.max(...[...set].map((w) => w.since));
        await sleep(Math.max(this.o.minMs ?? 20, Math.min(this.o.maxMs ?? 1000, (this.now() - youngest) / 10)));
        if (set.size === 0) break;
        const waiters = [...set];
        this.reads++;
        let seen: ReadonlyMap<string, R>;
        try {
          seen = await this.o.list(
            group,
            waiters.map((w) => w.id),
          );
        } catch (e) {
          // A failed read fails the waiters it was for; later ones start afresh.
          for (const w of waiters) this.settle(group, w, () => w.reject(e));
          continue;
        }
        for (const w of waiters) {
          let r = seen.get(w.id);
          if (r === undefined && this.o.single && ++w.misses >= (this.o.singleAfterTicks ?? 2)) {
            try {
              r = await this.o.single(group, w.id);
            } catch (e) {
              this.settle(group, w, () => w.reject(e));
              continue;
            }
          }
          if (r !== undefined && this.o.done(r)) {
            const done = r;
            this.settle(group, w, () => w.resolve(done));
            continue;
          }
          w.o.onTick?.(r);
          const elapsed = this.now() - w.since;
          if (w.o.timeoutMs !== undefined && elapsed > w.o.timeoutMs) this.settle(group, w, () => w.reject(w.o.onTimeout?.(elapsed) ?? new Error(`${w.id}: still not done after ${elapsed} ms`)));
        }
      }
    } finally {
      if (this.groups.get(group) === set) this.groups.delete(group);
    }
  }
}
