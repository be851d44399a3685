// What the inventory is made of, gathered at the edge: the hypervisor pool's last observations
// (no list call of its own unless asked to observe, as `virtkeeper ui` does), the status
// records, and the reconciler's recent events. Rebuilt on a timer, never per page view.
import type { Hypervisor } from '../api/types.ts';
import type { Observation } from '../core/model.ts';
import type { ReconcileEvent } from '../runtime/events.ts';
import type { HypervisorPool } from '../runtime/hypervisors.ts';
import type { StatusRecord } from '../status/writer.ts';
import { buildInventory, type HypervisorObservation, type Inventory } from './inventory.ts';
import { UsageHistory } from './usage-history.ts';

export type TimedEvent = ReconcileEvent & { at: number };

export interface FeedOptions {
  /** The observations the controller holds now, one per Hypervisor. */
  observations: () => Promise<HypervisorObservation[]>;
  records: () => Promise<StatusRecord[]>;
  now: () => number;
  /** How often the inventory is rebuilt (default 2 s). */
  refreshMs?: number;
  /** How often the status records are read again (default 5 s; a state directory is a file per resource). */
  recordsMs?: number;
  /** Events kept (default 1,000). */
  maxEvents?: number;
  history?: UsageHistory;
  onError?: (e: Error) => void;
}

export class InventoryFeed {
  readonly history: UsageHistory;
  private inventory: Inventory = { hypervisors: [], vms: [] };
  private readonly events: TimedEvent[] = [];
  private readonly o: FeedOptions & { refreshMs: number; maxEvents: number; recordsMs: number };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private records: StatusRecord[] = [];
  private recordsAt = Number.NEGATIVE_INFINITY;
  private readonly lastStatus = new Map<string, string>();

  constructor(options: FeedOptions) {
    this.o = { refreshMs: 2000, maxEvents: 1000, recordsMs: 5000, ...options };
    this.history = options.history ?? new UsageHistory({ now: options.now });
  }

  current(): Inventory {
    return this.inventory;
  }

  record(key: string): StatusRecord | undefined {
    return this.records.find((r) => r.key === key);
  }

  /** The reconciler's sink: recent events, newest last. */
  sink = (e: ReconcileEvent): void => {
    // Progress ticks (a task polled every few hundred ms) would push out everything else.
    if (e.type === 'progress') return;
    // A status is an event when it changes, not on every resync pass.
    if (e.type === 'status') {
      const said = `${e.phase}|${e.ready}|${e.message}`;
      if (this.lastStatus.get(e.key) === said) return;
      this.lastStatus.set(e.key, said);
      if (this.lastStatus.size > 50_000) this.lastStatus.clear();
    }
    this.events.push({ ...e, at: this.o.now() });
    if (this.events.length > this.o.maxEvents) this.events.splice(0, this.events.length - this.o.maxEvents);
  };

  recentEvents(filter: { key?: string; limit?: number } = {}): TimedEvent[] {
    const all = filter.key ? this.events.filter((e) => e.key === filter.key) : this.events;
    return all.slice(-(filter.limit ?? 100)).reverse();
  }

  /** Rebuilds the inventory now (concurrent callers share one rebuild). */
  refresh(): Promise<void> {
    this.running ??= (async () => {
      // Status records change with reconciles, not with every observation: read at most every recordsMs.
      const stale = this.o.now() - this.recordsAt >= this.o.recordsMs;
      const [observations, records] = await Promise.all([this.o.observations(), stale ? this.o.records() : this.records]);
      if (stale) this.recordsAt = this.o.now();
      this.records = records;
      this.inventory = buildInventory({ hypervisors: observations, records });
      const seen = new Set<string>();
      for (const hv of observations) {
        for (const vm of hv.observation?.vms ?? []) {
          const k = UsageHistory.key(hv.name, vm.providerID);
          seen.add(k);
          if (vm.usage && hv.observedAt !== undefined) this.history.record(hv.name, vm.providerID, vm.usage, hv.observedAt);
        }
      }
      this.history.retain(seen);
      for (const v of this.inventory.vms) {
        const t = this.history.throughput(v.hypervisor, v.providerID);
        if (t) v.throughput = t;
      }
    })()
      .catch((e: unknown) => this.o.onError?.(e as Error))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.o.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

export interface PoolObservationsOptions {
  pool: HypervisorPool;
  /** The declared Hypervisors (for their type and defaults, and which to show). */
  hypervisors: () => readonly Hypervisor[];
  now: () => number;
  /** `virtkeeper ui`: observe each Hypervisor once per its resync interval (nothing else does). */
  observe?: boolean;
  onError?: (hypervisor: string, e: Error) => void;
}

/**
 * The pool's observations as the inventory wants them. An observer forgets its observation
 * after an action (so the next reconcile re-reads): the last one seen is kept here meanwhile.
 */
export function poolObservations(o: PoolObservationsOptions): () => Promise<HypervisorObservation[]> {
  const last = new Map<string, { value: Observation; at: number }>();
  return async () => {
    const declared = o.hypervisors();
    const conns = new Map((await o.pool.connections()).map((c) => [c.name, c]));
    if (o.observe) {
      await Promise.all(
        declared.map(async (hv) => {
          try {
            const c = await o.pool.get(hv);
            conns.set(c.name, c);
            await c.observer.get({ maxAgeMs: c.resyncMs });
          } catch (e) {
            o.onError?.(hv.metadata.name, e as Error);
          }
        }),
      );
    }
    return declared.map((hv) => {
      const name = hv.metadata.name;
      const now = conns.get(name)?.observer.peek();
      const prev = last.get(name);
      if (now && now !== prev?.value) last.set(name, { value: now, at: o.now() });
      const kept = last.get(name);
      const d = hv.spec.defaults;
      return {
        name,
        type: hv.spec.type,
        ...(d?.datacenter || d?.cluster ? { defaults: { ...(d.datacenter ? { datacenter: d.datacenter } : {}), ...(d.cluster ? { cluster: d.cluster } : {}) } } : {}),
        ...(kept ? { observation: kept.value, observedAt: kept.at } : {}),
      };
    });
  };
}
