// Directory mode (`run -f DIR`): a watched folder is the desired state, the state directory
// holds status and the removal ledger. Owns what the mode adds around the Reconciler: the
// removal gate reviewed on every read (and one more read when a grace runs out), wake-ups from
// hypervisor events, metrics, and stopping cleanly.
import type { ProviderMemory } from '../../core/provider.ts';
import type { Logger } from 'pino';
import type { ConnectorLoader } from '../../../providers/registry.ts';
import { parseKey } from '../../api/keys.ts';
import { DirectorySource } from '../../sources/directory.ts';
import { DesiredStore } from '../../sources/store.ts';
import type { StateDir } from '../../status/state-dir.ts';
import type { Clock } from '../clock.ts';
import type { CredentialsResolver } from '../credentials.ts';
import type { EventSink } from '../events.ts';
import { HypervisorPool } from '../hypervisors.ts';
import { Manager } from '../manager.ts';
import { Metrics } from '../metrics.ts';
import { Reconciler } from '../reconciler.ts';
import type { RemovalPolicy } from '../removals.ts';
import { directoryGate, folderView } from './directory-removals.ts';
import { serveHealth, type Serving } from './serve.ts';
import { declaredGauges, vmKeysOn } from './wake.ts';

export interface DirectoryModeOptions {
  folder: string;
  statuses: StateDir;
  loadConnector: ConnectorLoader;
  credentials: CredentialsResolver;
  logger: Logger;
  clock: Clock;
  instance: string;
  workers: number;
  removal?: Partial<RemovalPolicy>;
  /** Serve /metrics and /healthz on 127.0.0.1 at this port (0 picks one). */
  metricsPort?: number;
  /** Also told every event (the CLI's --progress printer). */
  emit?: EventSink;
  /** Something served beside the controller that reads its parts (the inventory page, --ui). */
  attach?: (parts: ModeParts) => Promise<Attachment | undefined>;
  /** Where each Hypervisor's provider keeps what it learned between processes (the state directory's provider-memory). */
  memory?: (hypervisor: string) => ProviderMemory;
}

/** What an attachment may read of a running mode. */
export interface ModeParts {
  pool: HypervisorPool;
  store: DesiredStore;
  statuses: StateDir;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
}

export interface Attachment {
  /** Told every event. */
  sink: EventSink;
  close(): Promise<void>;
}

export interface RunningMode {
  /** The metrics port, when serving. */
  metricsPort?: number;
  resources: number;
  stop(): Promise<void>;
}

export async function startDirectoryMode(o: DirectoryModeOptions): Promise<RunningMode> {
  const { logger, statuses } = o;
  // Every folder read lists the state directory: read again only the records that changed.
  statuses.rememberListing();
  const store = new DesiredStore();
  const stopping = new AbortController();
  // Events between resyncs wake the VMs of that hypervisor at once.
  const hypervisors = new HypervisorPool({
    loadConnector: o.loadConnector,
    credentials: o.credentials,
    logger,
    now: o.clock.now,
    onChange: (name) => manager.enqueue(vmKeysOn(store, name)),
    ...(o.memory ? { memory: o.memory } : {}),
    usage: true,
  });
  const gate = directoryGate({ stateDir: statuses.dir, now: o.clock.now, ...(o.removal ? { policy: o.removal } : {}) });
  const metrics = new Metrics();
  const attached = await o.attach?.({ pool: hypervisors, store, statuses, metrics, logger, now: o.clock.now });
  const reconciler = new Reconciler({
    store,
    statuses,
    hypervisors,
    logger,
    now: o.clock.now,
    removals: gate,
    instance: o.instance,
    signal: stopping.signal,
    emit: (e) => {
      metrics.sink(e);
      o.emit?.(e);
      attached?.sink(e);
    },
  });
  const manager = new Manager({
    reconciler: { reconcile: (key) => metrics.time(parseKey(key).kind, () => reconciler.reconcile(key)) },
    store,
    logger,
    clock: o.clock,
    workers: o.workers,
  });
  declaredGauges(metrics, store, () => manager.queue.len(), 'Declared resources, by kind.');
  let serving: Serving | undefined;
  if (o.metricsPort !== undefined) {
    serving = await serveHealth({ metrics, port: o.metricsPort, host: '127.0.0.1' });
    logger.info({ metrics: serving.port }, 'serving /metrics');
  }
  // A removal held by the grace needs one more read after the grace: ask for it then.
  let graceTimer: ReturnType<Clock['setTimeout']> | undefined;
  const scheduleGraceRead = () => {
    const held = gate.graceHeld();
    if (held.keys.length === 0 || graceTimer) return;
    graceTimer = o.clock.setTimeout(() => {
      graceTimer = undefined;
      void source.reload();
    }, Math.max(held.retryAfterMs, 0) + 100);
  };
  const source: DirectorySource = new DirectorySource({
    folder: o.folder,
    store,
    statuses,
    logger,
    onChange: (keys, read) => {
      void (async () => {
        // Every read counts for the grace; the gate decides the removals of this read.
        await gate.review(folderView(read.records, store));
        if (gate.refusal) logger.error({ folder: o.folder }, `deletion guard: ${gate.refusal}`);
        manager.enqueue(keys);
        scheduleGraceRead();
      })().catch((e: unknown) => logger.error({ folder: o.folder, err: (e as Error).message }, 'cannot review removals; nothing is removed'));
    },
  });
  manager.start();
  await source.start();
  return {
    ...(serving ? { metricsPort: serving.port } : {}),
    resources: store.keys().length,
    async stop() {
      if (graceTimer) o.clock.clearTimeout(graceTimer);
      stopping.abort();
      await source.stop();
      await manager.stop();
      serving?.close();
      await attached?.close();
      await hypervisors.closeAll();
    },
  };
}
