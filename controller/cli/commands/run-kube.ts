// `virtkeeper run --kubeconfig PATH` (or in-cluster): the controller in Kubernetes mode.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { parseKey } from '../../api/keys.ts';
import { loadConnector } from '../../../providers/registry.ts';
import { systemClock } from '../../runtime/clock.ts';
import { secretCredentials } from '../../runtime/secret-credentials.ts';
import { HypervisorPool } from '../../runtime/hypervisors.ts';
import { LeaderElector } from '../../runtime/leader.ts';
import { Manager } from '../../runtime/manager.ts';
import { Metrics } from '../../runtime/metrics.ts';
import { FINALIZED_KINDS, KubernetesRemovals } from '../../runtime/modes/kubernetes.ts';
import { Reconciler } from '../../runtime/reconciler.ts';
import type { RemovalPolicy } from '../../runtime/removals.ts';
import { DesiredStore } from '../../sources/store.ts';
import { kubeRest, loadKubeConfig } from '../../sources/kube-rest.ts';
import { KubernetesSource } from '../../sources/kubernetes.ts';
import { KubeEventRecorder } from '../../status/kube-events.ts';
import { KubernetesStatusStore } from '../../status/kubernetes.ts';
import { makeLogger } from '../context.ts';
import { kubernetesInstance } from '../instance.ts';

export interface RunKubernetesOptions {
  kubeconfig?: string;
  namespace?: string;
  hypervisorSelector?: string;
  leaderElect: boolean;
  logLevel?: string;
  /** 0 picks a free port (printed in the log). */
  healthPort?: number;
  /** The deletion guard (share, allowance, window). */
  removal?: Partial<RemovalPolicy>;
  /** The controller instance VM markers name (default: derived from the cluster). */
  instance?: string;
}

export async function runKubernetes(o: RunKubernetesOptions): Promise<void> {
  const logger = makeLogger(o.logLevel, 'info');
  const namespace = o.namespace ?? 'virtkeeper-system';
  const identity = `${hostname()}-${process.pid}`;
  const rest = await kubeRest(loadKubeConfig(o.kubeconfig));
  const { instance, from } = await kubernetesInstance(o.instance, rest);
  logger.info({ instance }, `controller instance from ${from}`);
  const store = new DesiredStore();
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
    const kind = parseKey(key).kind;
    if (kind === 'Hypervisor') return true;
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
  const wake = (hypervisor: string) =>
    enqueue(
      store
        .vms()
        .filter((v) => v.spec.hypervisor === hypervisor)
        .map((v) => `VirtualMachine/${v.metadata.namespace ?? 'default'}/${v.metadata.name}`),
    );
  const hypervisors = new HypervisorPool({ loadConnector, credentials, logger, now: Date.now, onChange: (name) => wake(name) });
  const statuses = new KubernetesStatusStore({ source, rest, now: Date.now });
  const events = new KubeEventRecorder({ rest, source, logger, instance: identity, now: Date.now });
  const metrics = new Metrics();
  const removals = new KubernetesRemovals({ objects: source.objects, hypervisor: (n) => store.hypervisor(n), rest, logger, now: Date.now, ...(o.removal ? { policy: o.removal } : {}) });
  const reconciler = new Reconciler({
    store,
    statuses,
    hypervisors,
    logger,
    now: Date.now,
    removals,
    tenancy: 'kubernetes',
    instance,
    emit: (e) => {
      events.sink(e);
      metrics.sink(e);
    },
  });
  metrics.gauge('virtkeeper_workqueue_depth', 'Keys waiting for a worker.', () => [{ labels: {}, value: manager?.queue.len() ?? 0 }]);
  metrics.gauge('virtkeeper_leader', '1 on the replica that holds the lease and does the work.', () => [{ labels: {}, value: leading && manager ? 1 : 0 }]);
  metrics.gauge('virtkeeper_resources', 'Declared resources this replica sees, by kind.', () => {
    const counts = new Map<string, number>();
    for (const e of store.all()) counts.set(e.resource.kind, (counts.get(e.resource.kind) ?? 0) + 1);
    return [...counts].map(([kind, value]) => ({ labels: { kind }, value }));
  });

  // Health: alive while the process runs; ready once the caches are synced; /metrics for Prometheus.
  const health = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics.render());
      return;
    }
    const ok = req.url === '/healthz' || (req.url === '/readyz' && source.synced);
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'not ready');
  });
  await new Promise<void>((r) => health.listen(o.healthPort ?? 8080, o.healthPort === 0 ? '127.0.0.1' : '0.0.0.0', () => r()));
  logger.info({ identity, namespace, health: (health.address() as AddressInfo).port }, 'starting in Kubernetes mode');

  await source.start();
  const startWork = () => {
    leading = true;
    manager = new Manager({
      store,
      logger,
      clock: systemClock,
      workers: 8,
      reconciler: {
        reconcile: async (key: string) => {
          return metrics.time(parseKey(key).kind, async () => {
            // Every kind whose removal destroys something is held by the finalizer before it is acted on.
            if (FINALIZED_KINDS.has(parseKey(key).kind) && store.get(key)) await statuses.ensureFinalizer(key);
            return reconciler.reconcile(key);
          });
        },
      },
    });
    manager.start();
    enqueue([...source.objects.keys()].filter(inShard));
    enqueue(queued);
    queued.clear();
  };
  const elector = o.leaderElect ? new LeaderElector({ rest, namespace, identity, logger, now: Date.now }) : undefined;
  const stop = async (code: number) => {
    elector?.stop();
    await manager?.stop();
    await source.stop();
    await hypervisors.closeAll();
    await rest.close();
    health.close();
    process.exitCode = code;
  };
  if (elector) {
    void elector.run(startWork, () => {
      // As client-go does: a replica that lost its lease stops at once and restarts clean.
      void stop(1).then(() => process.exit(1));
    });
  } else startWork();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await stop(0);
}
