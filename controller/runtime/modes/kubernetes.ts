// Kubernetes mode (`run --kubeconfig`, or in-cluster): the informers' caches are the desired
// state, status goes to the status subresource, Events to the API. Owns what the mode adds
// around the Reconciler: credentials from labelled Secrets, finalizers before the first action,
// the removal gate over the caches, sharding by Hypervisor selector, leader election, wake-ups,
// health and metrics.
import type { Logger } from 'pino';
import type { ConnectorLoader } from '../../../providers/registry.ts';
import { parseKey } from '../../api/keys.ts';
import type { KubeRest } from '../../sources/kube-rest.ts';
import { KubernetesSource } from '../../sources/kubernetes.ts';
import { DesiredStore } from '../../sources/store.ts';
import { KubeEventRecorder } from '../../status/kube-events.ts';
import { KubernetesStatusStore } from '../../status/kubernetes.ts';
import type { Clock } from '../clock.ts';
import { HypervisorPool } from '../hypervisors.ts';
import { LeaderElector } from '../leader.ts';
import { Manager } from '../manager.ts';
import { Metrics } from '../metrics.ts';
import { Reconciler } from '../reconciler.ts';
import type { Attachment } from './directory.ts';
import type { RemovalPolicy } from '../removals.ts';
import { secretCredentials } from '../secret-credentials.ts';
import { FINALIZED_KINDS, KubernetesRemovals } from './kubernetes-removals.ts';
import { serveHealth } from './serve.ts';
import type { ConsoleListen, RunningConsoleEndpoint } from './console-endpoint.ts';
import { servePublishedConsole } from './console-publish.ts';
import { declaredGauges, vmKeysOn } from './wake.ts';

export { cacheView, FINALIZED_KINDS, KubernetesRemovals } from './kubernetes-removals.ts';

export interface KubernetesModeOptions {
  rest: KubeRest;
  loadConnector: ConnectorLoader;
  logger: Logger;
  clock: Clock;
  /** The controller's namespace (Lease, Secrets). */
  namespace: string;
  /** This replica (Lease holder, Event source). */
  identity: string;
  instance: string;
  hypervisorSelector?: string;
  leaderElect: boolean;
  /** 0 picks a free port on 127.0.0.1; any other listens on every address. */
  healthPort: number;
  removal?: Partial<RemovalPolicy>;
  workers?: number;
  /** This replica lost its lease: it must stop at once (and restart clean). */
  onLostLease: () => void;
  /** The console endpoint (console-endpoint.ts); `url` is what is published when it differs from the listen address (a Service). */
  console?: ConsoleListen & { url?: string };
  /** Something that reads the running mode (the inventory page): told every event, closed at stop. */
  attach?: (parts: KubernetesModeParts) => Promise<Attachment | undefined>;
}

/** What an attachment may read of the running mode. */
export interface KubernetesModeParts {
  rest: KubeRest;
  pool: HypervisorPool;
  store: DesiredStore;
  statuses: KubernetesStatusStore;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
}

export interface RunningKubernetesMode {
  healthPort: number;
  /** Where the console endpoint listens, when it is on. */
  consoleUrl?: string;
  stop(): Promise<void>;
}

/** The process's memory, as prom-client names it: what a fleet of N objects costs is watched, not guessed. */
function processGauges(metrics: Metrics): void {
  metrics.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => [{ labels: {}, value: process.memoryUsage.rss() }]);
  metrics.gauge('nodejs_heap_size_total_bytes', 'V8 heap allocated, in bytes.', () => [{ labels: {}, value: process.memoryUsage().heapTotal }]);
  metrics.gauge('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes.', () => [{ labels: {}, value: process.memoryUsage().heapUsed }]);
}

export async function startKubernetesMode(o: KubernetesModeOptions): Promise<RunningKubernetesMode> {
  const { logger, rest, namespace } = o;
  const now = () => o.clock.now();
  const store = new DesiredStore();
  const stopping = new AbortController();
  let manager: Manager | undefined;
  let leading = !o.leaderElect;
  const queued = new Set<string>();
  const enqueue = (keys: Iterable<string>) => {
    for (const k of keys) {
      if (manager && leading) manager.enqueue([k]);
      else queued.add(k);
    }
  };
  const inShard = (key: string): boolean => {
    const obj = source.object(key);
    if (!obj) return true;
    if (parseKey(key).kind === 'Hypervisor') return true;
    const spec = obj.spec as { hypervisor?: string; vm?: string } | undefined;
    // A snapshot or restore is of its VM's shard (it names no Hypervisor of its own).
    const vm = spec?.vm ? source.object(`VirtualMachine/${obj.metadata?.namespace ?? 'default'}/${spec.vm}`) : undefined;
    const hv = spec?.hypervisor ?? (vm?.spec as { hypervisor?: string } | undefined)?.hypervisor;
    if (spec?.vm && !hv) return false;
    return !hv || !!store.hypervisor(hv) || !!source.object(`Hypervisor/${hv}`);
  };
  const source: KubernetesSource = new KubernetesSource({
    rest,
    store,
    logger,
    namespace,
    ...(o.hypervisorSelector ? { hypervisorSelector: o.hypervisorSelector } : {}),
    onChange: (keys) => enqueue([...keys].filter(inShard)),
    onSecret: (name) =>
      enqueue(
        store
          .hypervisors()
          .filter((h) => h.spec.credentialsRef?.name === name)
          .map((h) => `Hypervisor/${h.metadata.name}`),
      ),
  });
  const credentials = secretCredentials({ namespace, secrets: source.secrets });
  const hypervisors = new HypervisorPool({ loadConnector: o.loadConnector, credentials, logger, now, onChange: (name) => enqueue(vmKeysOn(store, name)), usage: true });
  const statuses = new KubernetesStatusStore({ source, rest, now });
  const events = new KubeEventRecorder({ rest, source, logger, instance: o.identity, now });
  const metrics = new Metrics();
  // Every replica serves its own page when asked (a leader's recent observation is reused).
  const attached = await o.attach?.({ rest, pool: hypervisors, store, statuses, metrics, logger, now });
  const removals = new KubernetesRemovals({ objects: source.objects, hypervisor: (n) => store.hypervisor(n), rest, logger, now, ...(o.removal ? { policy: o.removal } : {}) });
  const reconciler = new Reconciler({
    store,
    statuses,
    hypervisors,
    logger,
    now,
    removals,
    tenancy: 'kubernetes',
    instance: o.instance,
    signal: stopping.signal,
    emit: (e) => {
      events.sink(e);
      metrics.sink(e);
      attached?.sink(e);
    },
  });
  declaredGauges(metrics, store, () => manager?.queue.len() ?? 0, 'Declared resources this replica sees, by kind.');
  processGauges(metrics);
  metrics.gauge('virtkeeper_leader', '1 on the replica that holds the lease and does the work.', () => [{ labels: {}, value: leading && manager ? 1 : 0 }]);

  // Alive while the process runs; ready once the caches are synced.
  const health = await serveHealth({ metrics, port: o.healthPort, host: o.healthPort === 0 ? '127.0.0.1' : '0.0.0.0', ready: () => source.synced });
  logger.info({ identity: o.identity, namespace, health: health.port }, 'starting in Kubernetes mode');
  const consoles: RunningConsoleEndpoint | undefined = o.console
    ? await servePublishedConsole({ ...o.console, namespace, rest, store, statuses, pool: hypervisors, instance: o.instance, logger, ready: () => source.synced })
    : undefined;

  await source.start();
  const startWork = () => {
    leading = true;
    manager = new Manager({
      store,
      logger,
      clock: o.clock,
      workers: o.workers ?? 8,
      reconciler: {
        reconcile: (key: string) =>
          metrics.time(parseKey(key).kind, async () => {
            // Every kind whose removal destroys something is held by the finalizer before it is acted on.
            if (FINALIZED_KINDS.has(parseKey(key).kind) && store.get(key)) await statuses.ensureFinalizer(key);
            return reconciler.reconcile(key);
          }),
      },
    });
    manager.start();
    enqueue([...source.objects.keys()].filter(inShard));
    enqueue(queued);
    queued.clear();
  };
  const elector = o.leaderElect ? new LeaderElector({ rest, namespace, identity: o.identity, logger, now }) : undefined;
  // As client-go does: a replica that lost its lease stops at once and restarts clean.
  if (elector) void elector.run(startWork, o.onLostLease);
  else startWork();
  return {
    healthPort: health.port,
    ...(consoles ? { consoleUrl: consoles.url } : {}),
    async stop() {
      await consoles?.close();
      elector?.stop();
      stopping.abort();
      await manager?.stop();
      await source.stop();
      await attached?.close();
      await hypervisors.closeAll();
      await rest.close();
      health.close();
    },
  };
}
