// The last hour of usage per VM, in memory: one ring of samples per VM, bounded in samples per
// VM and in VMs, taken from observations the controller made anyway. Time is injected.
import type { VMUsage } from '../core/model.ts';

export interface UsageSample extends VMUsage {
  at: number;
}

export interface UsageHistoryOptions {
  now: () => number;
  /** How far back a ring reaches (default one hour). */
  windowMs?: number;
  /** Samples closer together than this are merged into the newer one (default 10 s: 360 an hour). */
  minIntervalMs?: number;
  /** VMs tracked at most; the least recently seen go first (default 20,000). */
  maxVMs?: number;
}

class Ring {
  private readonly buf: (UsageSample | undefined)[];
  private start = 0;
  private size = 0;
  constructor(capacity: number) {
    this.buf = new Array<UsageSample | undefined>(capacity);
  }
  last(): UsageSample | undefined {
    return this.size === 0 ? undefined : this.buf[(this.start + this.size - 1) % this.buf.length];
  }
  push(s: UsageSample): void {
    if (this.size < this.buf.length) this.size++;
    else this.start = (this.start + 1) % this.buf.length;
    this.buf[(this.start + this.size - 1) % this.buf.length] = s;
  }
  beforeLast(): UsageSample | undefined {
    return this.size < 2 ? undefined : this.buf[(this.start + this.size - 2) % this.buf.length];
  }
  replaceLast(s: UsageSample): void {
    this.buf[(this.start + this.size - 1) % this.buf.length] = s;
  }
  toArray(): UsageSample[] {
    const out: UsageSample[] = [];
    for (let i = 0; i < this.size; i++) {
      const s = this.buf[(this.start + i) % this.buf.length];
      if (s) out.push(s);
    }
    return out;
  }
}

export class UsageHistory {
  private readonly rings = new Map<string, Ring>();
  private readonly o: Required<UsageHistoryOptions>;
  private readonly capacity: number;

  constructor(options: UsageHistoryOptions) {
    this.o = { windowMs: 3_600_000, minIntervalMs: 10_000, maxVMs: 20_000, ...options };
    this.capacity = Math.max(2, Math.ceil(this.o.windowMs / this.o.minIntervalMs) + 2);
  }

  static key(hypervisor: string, providerID: string): string {
    return `${hypervisor}\u0000${providerID}`;
  }

  record(hypervisor: string, providerID: string, usage: VMUsage, at: number = this.o.now()): void {
    const key = UsageHistory.key(hypervisor, providerID);
    let ring = this.rings.get(key);
    if (ring)
      this.rings.delete(key); // re-inserted below: Map order is least recently seen first
    else {
      ring = new Ring(this.capacity);
      while (this.rings.size >= this.o.maxVMs) {
        const oldest = this.rings.keys().next().value;
        if (oldest === undefined) break;
        this.rings.delete(oldest);
      }
    }
    this.rings.set(key, ring);
    const sample = { ...usage, at };
    const last = ring.last();
    if (last && at < last.at) return;
    // The newest sample always shows; it is kept as a point of its own once it is minIntervalMs past the one before.
    const before = ring.beforeLast();
    if (before && at - before.at < this.o.minIntervalMs) ring.replaceLast(sample);
    else ring.push(sample);
  }

  /** Samples of the last window, oldest first. */
  samples(hypervisor: string, providerID: string): UsageSample[] {
    const since = this.o.now() - this.o.windowMs;
    return (this.rings.get(UsageHistory.key(hypervisor, providerID))?.toArray() ?? []).filter((s) => s.at >= since);
  }

  /** Drops the rings of VMs not in `keep` (VMs gone from their hypervisor). */
  retain(keep: ReadonlySet<string>): void {
    for (const k of [...this.rings.keys()]) if (!keep.has(k)) this.rings.delete(k);
  }

  get tracked(): number {
    return this.rings.size;
  }
}
