// One observation per hypervisor, shared by every VM on it: a list call serves them all.
// Concurrent callers share one in-flight call; a result younger than maxAge is reused. The
// read after an action may wait a short window so that the actions finishing meanwhile (many
// VMs' steps end close together) are all answered by one list call, not one each; a reconcile's
// first read never starts such a wait (it joins one already scheduled: at most the window).
import type { Observation } from '../core/model.ts';
import type { ProviderClient } from '../core/provider.ts';

export interface ObserverOptions {
  client: ProviderClient;
  now: () => number;
  /** How long an observation serves reconciles before a new list call (default 2s). */
  maxAgeMs?: number;
  /** How long a read with `coalesce` after an invalidate waits for others to join it (default 0: none). */
  coalesceMs?: number;
  /** How that wait is made (an injected clock's; default a timer). */
  sleep?: (ms: number) => Promise<void>;
  /** What every reader sees of an observation (the Hypervisor's node cordons), applied on each get. */
  view?: (o: Observation) => Observation;
}

const timer = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Observer {
  private last: { at: number; value: Observation } | undefined;
  private inflight: { generation: number; value: Promise<Observation> } | undefined;
  /** A list call waiting out the window: it starts later, so it answers for every invalidate before then. */
  private scheduled: Promise<Observation> | undefined;
  /** Bumped by invalidate: a list call started before an action never answers for after it. */
  private generation = 0;
  /** Whether an invalidate came since the last list call started (the window applies then). */
  private dirty = false;
  private readonly refresh = new Set<string>();
  private readonly opts: Required<Omit<ObserverOptions, 'view'>> & Pick<ObserverOptions, 'view'>;
  listCalls = 0;

  constructor(options: ObserverOptions) {
    this.opts = { maxAgeMs: 2000, coalesceMs: 0, sleep: timer, ...options };
  }

  /** Marks the cached observation stale (after an action), optionally forcing detail reads for some VMs. */
  invalidate(providerIDs: readonly string[] = []): void {
    this.last = undefined;
    this.generation++;
    this.dirty = true;
    for (const id of providerIDs) if (id) this.refresh.add(id);
  }

  /** `coalesce`: a read after the caller's own action, which may wait out the window. */
  async get(options: { maxAgeMs?: number; coalesce?: boolean } = {}): Promise<Observation> {
    const o = await this.read(options);
    return this.opts.view ? this.opts.view(o) : o;
  }

  private read(options: { maxAgeMs?: number; coalesce?: boolean }): Promise<Observation> {
    const maxAge = options.maxAgeMs ?? this.opts.maxAgeMs;
    if (this.last && this.opts.now() - this.last.at <= maxAge) return Promise.resolve(this.last.value);
    // One not started yet serves anyone: it takes the invalidations and refreshes of its start.
    if (this.scheduled) return this.scheduled;
    // Shared only when it started after the last invalidate: one begun before a create would
    // not show the new VM ("created but not visible yet").
    if (this.inflight && this.inflight.generation === this.generation) return this.inflight.value;
    if (options.coalesce && this.dirty && this.opts.coalesceMs > 0) {
      const scheduled = this.opts.sleep(this.opts.coalesceMs).then(() => {
        if (this.scheduled === scheduled) this.scheduled = undefined;
        return this.start();
      });
      this.scheduled = scheduled;
      return scheduled;
    }
    return this.start();
  }

  private start(): Promise<Observation> {
    const refresh = [...this.refresh];
    this.refresh.clear();
    this.dirty = false;
    this.listCalls++;
    const generation = this.generation;
    const started = this.opts.now();
    const value = this.opts.client.vms
      .observe(refresh.length > 0 ? { refresh } : {})
      .then((v) => {
        if (generation === this.generation) this.last = { at: started, value: v };
        return v;
      })
      .finally(() => {
        if (this.inflight?.value === value) this.inflight = undefined;
      });
    this.inflight = { generation, value };
    return value;
  }

  peek(): Observation | undefined {
    const o = this.last?.value;
    return o && this.opts.view ? this.opts.view(o) : o;
  }
}
