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
  /** Samples closer together than this are merged into the newer one (default 30 s: 120 an hour, ~7 KB a VM). */
  minIntervalMs?: number;
  /** VMs tracked at most; the least recently seen go first (default 25,000, under 200 MB). */
  maxVMs?: number;
}

const FIELDS = ['cpuRatio', 'memoryUsedBytes', 'diskReadBytes', 'diskWriteBytes', 'networkReceiveBytes', 'networkTransmitBytes'] as const;
const STRIDE = FIELDS.length + 1;

/** One VM's samples in a Float64Array (time, then the fields; NaN where the hypervisor said nothing): ~7 KB an hour at 30 s. */
class Ring {
  private readonly buf: Float64Array;
  private readonly capacity: number;
  private start = 0;
  private size = 0;
  constructor(capacity: number) {
    this.capacity = capacity;
    this.buf = new Float64Array(capacity * STRIDE);
  }
  private slot(i: number): number {
    return ((this.start + i) % this.capacity) * STRIDE;
  }
  /** The time of the i-th sample from the end (0: newest). */
  atFromEnd(i: number): number | undefined {
    return i < this.size ? this.buf[this.slot(this.size - 1 - i)] : undefined;
  }
  private write(i: number, s: UsageSample): void {
    const o = this.slot(i);
    this.buf[o] = s.at;
    FIELDS.forEach((f, j) => {
      this.buf[o + 1 + j] = s[f] ?? Number.NaN;
    });
  }
  push(s: UsageSample): void {
    if (this.size < this.capacity) this.size++;
    else this.start = (this.start + 1) % this.capacity;
    this.write(this.size - 1, s);
  }
  replaceLast(s: UsageSample): void {
    this.write(this.size - 1, s);
  }
  private read(i: number): UsageSample {
    const o = this.slot(i);
    const s: UsageSample = { at: this.buf[o] ?? 0 };
    FIELDS.forEach((f, j) => {
      const v = this.buf[o + 1 + j];
      if (v !== undefined && !Number.isNaN(v)) s[f] = v;
    });
    return s;
  }
  /** The i-th sample from the end (0: newest). */
  fromEnd(i: number): UsageSample | undefined {
    return i < this.size ? this.read(this.size - 1 - i) : undefined;
  }
  toArray(): UsageSample[] {
    const out: UsageSample[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.read(i));
    return out;
  }
}

export class UsageHistory {
  private readonly rings = new Map<string, Ring>();
  private readonly o: Required<UsageHistoryOptions>;
  private readonly capacity: number;

  constructor(options: UsageHistoryOptions) {
    this.o = { windowMs: 3_600_000, minIntervalMs: 30_000, maxVMs: 25_000, ...options };
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
    const last = ring.atFromEnd(0);
    // The same observation seen again (the feed rebuilds more often than hypervisors are listed) is one sample.
    if (last !== undefined && at <= last) {
      if (at === last) ring.replaceLast(sample);
      return;
    }
    // The newest sample always shows; it is kept as a point of its own once it is minIntervalMs past the one before.
    const before = ring.atFromEnd(1);
    if (before !== undefined && at - before < this.o.minIntervalMs) ring.replaceLast(sample);
    else ring.push(sample);
  }

  /** Samples of the last window, oldest first. */
  samples(hypervisor: string, providerID: string): UsageSample[] {
    const since = this.o.now() - this.o.windowMs;
    return (this.rings.get(UsageHistory.key(hypervisor, providerID))?.toArray() ?? []).filter((s) => s.at >= since);
  }

  /** Throughput between the last two samples (bytes per second), where both have the counter. */
  throughput(hypervisor: string, providerID: string): Throughput | undefined {
    const ring = this.rings.get(UsageHistory.key(hypervisor, providerID));
    const b = ring?.fromEnd(0);
    const a = ring?.fromEnd(1);
    return a && b ? throughputOf(a, b) : undefined;
  }

  /** Drops the rings of VMs not in `keep` (VMs gone from their hypervisor). */
  retain(keep: ReadonlySet<string>): void {
    for (const k of [...this.rings.keys()]) if (!keep.has(k)) this.rings.delete(k);
  }

  get tracked(): number {
    return this.rings.size;
  }
}

export interface Throughput {
  diskReadBps?: number;
  diskWriteBps?: number;
  networkReceiveBps?: number;
  networkTransmitBps?: number;
}

const RATES = [
  ['diskReadBytes', 'diskReadBps'],
  ['diskWriteBytes', 'diskWriteBps'],
  ['networkReceiveBytes', 'networkReceiveBps'],
  ['networkTransmitBytes', 'networkTransmitBps'],
] as const;

/** Bytes per second between two samples of counters; a counter that went down (a restart) has none. */
export function throughputOf(a: UsageSample, b: UsageSample): Throughput | undefined {
  if (b.at <= a.at) return undefined;
  const out: Throughput = {};
  for (const [counter, rate] of RATES) {
    const x = a[counter];
    const y = b[counter];
    if (x !== undefined && y !== undefined && y >= x) out[rate] = ((y - x) * 1000) / (b.at - a.at);
  }
  return Object.keys(out).length ? out : undefined;
}
