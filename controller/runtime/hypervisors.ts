// Connections to the hypervisors, one client and one shared observation each, reconnected
// when a Hypervisor's spec (or its credentials) change.
import type { Logger } from 'pino';
import type { Hypervisor } from '../api/types.ts';
import { parseDuration } from '../api/quantity.ts';
import type { ConnectorLoader } from '../../providers/registry.ts';
import type { ProviderClient, ProviderConventions, ProviderMemory } from '../core/provider.ts';
import type { CredentialsResolver } from './credentials.ts';
import { Observer } from './observer.ts';
import { applyCordons } from '../core/maintenance.ts';

export interface Connected {
  name: string;
  /** What the connector says where hypervisors differ (default disk bus, what a VirtualNetwork is). */
  conventions: ProviderConventions;
  hypervisor: Hypervisor;
  client: ProviderClient;
  observer: Observer;
  resyncMs: number;
  /** Runs fn when a slot of the hypervisor's maxConcurrentActions is free. */
  limit<T>(fn: () => Promise<T>): Promise<T>;
}

export interface HypervisorPoolOptions {
  loadConnector: ConnectorLoader;
  credentials: CredentialsResolver;
  logger: Logger;
  now: () => number;
  /** Observation reuse window (default 2s). */
  observeMaxAgeMs?: number;
  /** How long the list call after an action waits for other actions' ends to share it (default 250 ms). */
  observeCoalesceMs?: number;
  /** Where each Hypervisor's provider may keep what it learned between processes (directory mode: the state directory). */
  memory?: (hypervisor: string) => ProviderMemory;
  /** Called when a provider reports changes between resyncs (oVirt events, libvirt lifecycle events). */
  onChange?: (hypervisor: string, providerIDs: string[]) => void;
  /** Whether the observations feed usage gauges (run, ui): see ConnectOptions.usage. */
  usage?: boolean;
}

function limiter(max: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (active >= max) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

interface Entry {
  fingerprint: string;
  conn: Promise<Connected>;
  current: { hv: Hypervisor };
  /** Ends the client's change subscription: a poll loop left running keeps the process alive. */
  subscription: { stop?: () => void };
}

/** Ends a connection: its change subscription first, then the client. */
async function release(e: Entry): Promise<void> {
  const c = await e.conn;
  e.subscription.stop?.();
  await c.client.close();
}

export class HypervisorPool {
  private readonly conns = new Map<string, Entry>();
  private readonly opts: HypervisorPoolOptions;
  constructor(options: HypervisorPoolOptions) {
    this.opts = options;
  }

  async get(hv: Hypervisor): Promise<Connected> {
    const name = hv.metadata.name;
    const credentials = await this.opts.credentials(hv);
    // Maintenance entries change what observation shows (cordons), not the connection.
    const { maintenance: _cordons, ...connection } = hv.spec;
    const fingerprint = JSON.stringify([connection, credentials]);
    const existing = this.conns.get(name);
    if (existing && existing.fingerprint === fingerprint) {
      existing.current.hv = hv;
      const c = await existing.conn;
      c.hypervisor = hv;
      return c;
    }
    const current = { hv };
    if (existing) void release(existing).catch(() => undefined);
    const subscription: Entry['subscription'] = {};
    const conn = (async (): Promise<Connected> => {
      const connector = await this.opts.loadConnector(hv.spec.type);
      const logger = this.opts.logger.child({ hypervisor: name });
      const memory = this.opts.memory?.(name);
      const client = await connector.connect({ name, spec: hv.spec, credentials, logger, ...(memory ? { memory } : {}), ...(this.opts.usage ? { usage: true } : {}) });
      const observer = new Observer({
        client,
        now: this.opts.now,
        view: (o) => applyCordons(o, current.hv.spec.maintenance),
        ...(this.opts.observeMaxAgeMs !== undefined ? { maxAgeMs: this.opts.observeMaxAgeMs } : {}),
        coalesceMs: this.opts.observeCoalesceMs ?? 250,
      });
      const onChange = this.opts.onChange;
      subscription.stop =
        onChange && client.watch
          ? client.watch((ids) => {
              observer.invalidate(ids);
              onChange(name, ids);
            })
          : undefined;
      return {
        name,
        conventions: connector.conventions ?? {},
        hypervisor: hv,
        client,
        observer,
        resyncMs: parseDuration(hv.spec.resyncInterval ?? '60s'),
        limit: limiter(hv.spec.limits?.maxConcurrentActions ?? 8),
      };
    })();
    this.conns.set(name, { fingerprint, conn, current, subscription });
    conn.catch(() => this.conns.delete(name));
    return conn;
  }

  /** What the connector of a Hypervisor type says where hypervisors differ; connects to nothing. */
  async conventions(type: Hypervisor['spec']['type']): Promise<ProviderConventions> {
    return (await this.opts.loadConnector(type)).conventions ?? {};
  }

  /** The connections made so far (the inventory reads their observers' last observation). */
  async connections(): Promise<Connected[]> {
    const settled = await Promise.allSettled([...this.conns.values()].map((c) => c.conn));
    return settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  connected(): string[] {
    return [...this.conns.keys()];
  }

  async closeAll(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(all.map((e) => release(e).catch(() => undefined)));
  }
}
