// One call that the run modes and `virtkeeper ui` make: the feed over the pool, the usage
// gauges on /metrics, and the server. The modes pass what they have; this wires it.
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { AnyResource, Hypervisor } from '../api/types.ts';
import type { ReconcileEvent } from '../runtime/events.ts';
import type { HypervisorPool } from '../runtime/hypervisors.ts';
import type { Metrics } from '../runtime/metrics.ts';
import type { StatusRecord } from '../status/writer.ts';
import { InventoryFeed, poolObservations } from './feed.ts';
import type { IntakeSink } from './intake.ts';
import { UiTokenRequiredError } from './security.ts';
import { startUiServer } from './server.ts';
import { registerUsageMetrics } from './usage-metrics.ts';

/** The options `run` and `ui` share on the command line. */
export interface UiFlags {
  ui?: string;
  uiTokenFile?: string;
  uiReadOnly?: boolean;
  uiRequestsDir?: string;
}

export interface ServeInventoryOptions {
  listen: string;
  tokenFile?: string;
  /** Where accepted requests go; absent: intake is off. */
  intake?: IntakeSink;
  pool: HypervisorPool;
  /** Every declared resource (the Hypervisors among them are the ones shown). */
  declared: () => readonly AnyResource[];
  records: () => Promise<StatusRecord[]>;
  now: () => number;
  logger: Logger;
  /** Observe each Hypervisor once per resync (`virtkeeper ui`, where nothing else does). */
  observe?: boolean;
  metrics?: Metrics;
  refreshMs?: number;
}

export interface ServedInventory {
  url: string;
  feed: InventoryFeed;
  /** The reconciler's event sink. */
  sink: (e: ReconcileEvent) => void;
  close(): Promise<void>;
}

export async function readToken(file: string): Promise<string> {
  const token = (
    await readFile(file, 'utf8').catch((e: Error) => {
      throw new UiTokenRequiredError(`cannot read --ui-token-file ${file}: ${e.message}`);
    })
  ).trim();
  if (token.length < 16) throw new UiTokenRequiredError(`--ui-token-file ${file} holds ${token.length} characters: put a long random token in it (e.g. openssl rand -hex 32 > ${file})`);
  return token;
}

export async function serveInventory(o: ServeInventoryOptions): Promise<ServedInventory> {
  const token = o.tokenFile ? await readToken(o.tokenFile) : undefined;
  const hypervisors = () => o.declared().filter((r): r is Hypervisor => r.kind === 'Hypervisor');
  const feed = new InventoryFeed({
    observations: poolObservations({
      pool: o.pool,
      hypervisors,
      now: o.now,
      ...(o.observe ? { observe: true } : {}),
      onError: (hypervisor, e) => o.logger.warn({ hypervisor, err: e.message }, 'inventory: cannot observe'),
    }),
    records: o.records,
    now: o.now,
    ...(o.refreshMs ? { refreshMs: o.refreshMs } : {}),
    onError: (e) => o.logger.warn({ err: e.message }, 'inventory: cannot refresh'),
  });
  if (o.metrics) registerUsageMetrics(o.metrics, () => feed.current());
  const server = await startUiServer({
    listen: o.listen,
    ...(token ? { token } : {}),
    feed,
    now: o.now,
    // The pool's conventions: the plan a request shows reads VMs as the reconciler does.
    ...(o.intake ? { intake: { sink: o.intake, declared: o.declared, conventions: (t: Hypervisor['spec']['type']) => o.pool.conventions(t) } } : {}),
  });
  await feed.start();
  o.logger.info({ url: server.url, intake: !!o.intake }, 'serving the inventory');
  return {
    url: server.url,
    feed,
    sink: feed.sink,
    close: async () => {
      feed.stop();
      await server.close();
    },
  };
}
