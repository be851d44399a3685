// One observation per hypervisor, shared by every VM on it: a list call serves them all.
// Concurrent callers share one in-flight call; a result younger than maxAge is reused.
import type { Observation } from '../core/model.ts';
import type { ProviderClient } from '../../providers/provider.ts';

export interface ObserverOptions {
  client: ProviderClient;
  now: () => number;
  /** How long an observation serves reconciles before a new list call (default 2s). */
  maxAgeMs?: number;
}

export class Observer {
  private last: { at: number; value: Observation } | undefined;
  private inflight: Promise<Observation> | undefined;
  private readonly refresh = new Set<string>();
  private readonly opts: Required<ObserverOptions>;
  listCalls = 0;

  constructor(options: ObserverOptions) {
    this.opts = { maxAgeMs: 2000, ...options };
  }

  /** Marks the cached observation stale (after an action), optionally forcing detail reads for some VMs. */
  invalidate(providerIDs: readonly string[] = []): void {
    this.last = undefined;
    for (const id of providerIDs) if (id) this.refresh.add(id);
  }

  async get(options: { maxAgeMs?: number } = {}): Promise<Observation> {
    const maxAge = options.maxAgeMs ?? this.opts.maxAgeMs;
    if (this.last && this.opts.now() - this.last.at <= maxAge) return this.last.value;
    if (this.inflight) return this.inflight;
    const refresh = [...this.refresh];
    this.refresh.clear();
    this.listCalls++;
    this.inflight = this.opts.client
      .observe(refresh.length > 0 ? { refresh } : {})
      .then((value) => {
        this.last = { at: this.opts.now(), value };
        return value;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  peek(): Observation | undefined {
    return this.last?.value;
  }
}
