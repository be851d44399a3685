// Waiting on many things with one read per group per tick: every task in flight on a Proxmox
// node is answered by one `GET /nodes/{node}/tasks`, every oVirt job by one `GET /jobs`, instead
// of a poll per task. Each waiter has its own next look, backing off with its age (a quarter of
// the time waited, within [minMs, maxMs]) or first at the time it is expected to take; a tick
// comes when the earliest look is due and answers every waiter of the group at once.

export interface BatchPollerOptions<R> {
  /** One read for a group's waiters (ids in flight): what it knows of each; an id it does not show is asked again next tick. */
  list: (group: string, ids: readonly string[]) => Promise<ReadonlyMap<string, R>>;
  done: (r: R) => boolean;
  /** An id the list has not shown after this many ticks is read alone (a list that holds only the newest N). */
  single?: (group: string, id: string) => Promise<R | undefined>;
  singleAfterTicks?: number;
  minMs?: number;
  maxMs?: number;
  /** The share of its age a waiter waits before its next look (default 0.25). */
  backoff?: number;
  /** Every waiter a tick answers looks next with the group (from this tick), not at a time of its own: for waiters polled at a steady pace, one tick per interval answers all. */
  align?: boolean;
  now?: () => number;
}

export interface BatchWaitOptions<R> {
  signal?: AbortSignal;
  /** Told of each tick's answer while not done. */
  onTick?: (r: R | undefined) => void;
  /** How long it is expected to take: the first look comes then (at least minMs). */
  expectMs?: number;
  timeoutMs?: number;
  onTimeout?: (elapsedMs: number) => Error;
}

interface Waiter<R> {
  id: string;
  since: number;
  due: number;
  misses: number;
  o: BatchWaitOptions<R>;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

interface Group<R> {
  waiters: Set<Waiter<R>>;
  timer?: NodeJS.Timeout;
  at?: number;
  ticking: boolean;
}

export class BatchPoller<R> {
  private readonly groups = new Map<string, Group<R>>();
  private readonly o: BatchPollerOptions<R>;
  /** Reads made, for tests and benchmarks. */
  reads = 0;

  constructor(options: BatchPollerOptions<R>) {
    this.o = options;
  }

  wait(group: string, id: string, o: BatchWaitOptions<R> = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (o.signal?.aborted) return reject(o.signal.reason);
      const now = this.now();
      const w: Waiter<R> = { id, since: now, due: now + Math.max(this.min(), o.expectMs ?? 0), misses: 0, o, resolve, reject };
      o.signal?.addEventListener('abort', () => this.settle(group, w, () => reject(o.signal?.reason)), { once: true });
      const g = this.groups.get(group) ?? { waiters: new Set<Waiter<R>>(), ticking: false };
      this.groups.set(group, g);
      g.waiters.add(w);
      this.schedule(group, g);
    });
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private min(): number {
    return this.o.minMs ?? 20;
  }

  private settle(group: string, w: Waiter<R>, fn: () => void): void {
    const g = this.groups.get(group);
    if (!g?.waiters.delete(w)) return;
    fn();
    if (g.waiters.size === 0 && !g.ticking) {
      clearTimeout(g.timer);
      this.groups.delete(group);
    }
  }

  /** Sets the group's timer to its earliest due look (sooner when a new waiter needs it). */
  private schedule(group: string, g: Group<R>): void {
    if (g.ticking || g.waiters.size === 0) return;
    const due = Math.min(...[...g.waiters].map((w) => w.due));
    if (g.timer && g.at !== undefined && g.at <= due) return;
    clearTimeout(g.timer);
    g.at = due;
    g.timer = setTimeout(() => void this.tick(group, g), Math.max(0, due - this.now()));
  }

  private async tick(group: string, g: Group<R>): Promise<void> {
    g.timer = undefined;
    g.at = undefined;
    g.ticking = true;
    const waiters = [...g.waiters];
    try {
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
        return;
      }
      for (const w of waiters) await this.answer(group, w, seen.get(w.id));
    } finally {
      g.ticking = false;
      if (g.waiters.size === 0) {
        if (this.groups.get(group) === g) this.groups.delete(group);
      } else this.schedule(group, g);
    }
  }

  private async answer(group: string, w: Waiter<R>, listed: R | undefined): Promise<void> {
    let r = listed;
    if (r === undefined && this.o.single && ++w.misses >= (this.o.singleAfterTicks ?? 2)) {
      try {
        r = await this.o.single(group, w.id);
      } catch (e) {
        this.settle(group, w, () => w.reject(e));
        return;
      }
    }
    if (r !== undefined && this.o.done(r)) {
      const done = r;
      this.settle(group, w, () => w.resolve(done));
      return;
    }
    w.o.onTick?.(r);
    const now = this.now();
    const age = now - w.since;
    if (w.o.timeoutMs !== undefined && age > w.o.timeoutMs) {
      this.settle(group, w, () => w.reject(w.o.onTimeout?.(age) ?? new Error(`${w.id}: still not done after ${age} ms`)));
      return;
    }
    // A waiter looked at before its time (another's tick) keeps its own next look, unless aligned.
    if (now >= w.due || this.o.align) w.due = now + Math.max(this.min(), Math.min(this.o.maxMs ?? 1000, age * (this.o.backoff ?? 0.25)));
  }
}
