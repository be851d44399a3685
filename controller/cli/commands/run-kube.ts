// `virtkeeper run --kubeconfig PATH` (or in-cluster): the controller in Kubernetes mode.
import { hostname } from 'node:os';
import { loadConnector } from '../../../providers/registry.ts';
import { systemClock } from '../../runtime/clock.ts';
import { type RunningKubernetesMode, startKubernetesMode } from '../../runtime/modes/kubernetes.ts';
import type { RemovalPolicy } from '../../runtime/removals.ts';
import { kubeRest, loadKubeConfig } from '../../sources/kube-rest.ts';
import { makeLogger } from '../context.ts';
import type { UiFlags } from '../../ui/serve.ts';
import { inventoryFromFlags } from './ui.ts';
import { kubernetesInstance } from '../instance.ts';
import { consoleListenFrom, type ConsoleFlags } from './console-flags.ts';

export interface RunKubernetesOptions {
  /** The inventory page (--ui …); intake creates the accepted resources through the API server. */
  ui?: UiFlags;
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
  /** The console endpoint (--console-listen …). */
  console?: ConsoleFlags;
}

export async function runKubernetes(o: RunKubernetesOptions): Promise<void> {
  const logger = makeLogger(o.logLevel, 'info');
  // Refused before anything starts: plain HTTP off loopback, unreadable certificates.
  const consoleListen = o.console ? await consoleListenFrom(o.console) : undefined;
  const rest = await kubeRest(loadKubeConfig(o.kubeconfig));
  const { instance, from } = await kubernetesInstance(o.instance, rest);
  logger.info({ instance }, `controller instance from ${from}`);
  let lost = false;
  let mode: RunningKubernetesMode | undefined;
  mode = await startKubernetesMode({
    rest,
    loadConnector,
    logger,
    clock: systemClock,
    namespace: o.namespace ?? 'virtkeeper-system',
    identity: `${hostname()}-${process.pid}`,
    instance,
    leaderElect: o.leaderElect,
    healthPort: o.healthPort ?? 8080,
    ...(o.hypervisorSelector ? { hypervisorSelector: o.hypervisorSelector } : {}),
    ...(o.removal ? { removal: o.removal } : {}),
    ...(consoleListen ? { console: consoleListen } : {}),
    attach: (p) =>
      inventoryFromFlags(o.ui ?? {}, {
        kube: p.rest,
        pool: p.pool,
        declared: () => p.store.all().map((e) => e.resource),
        records: () => p.statuses.list(),
        now: p.now,
        logger: p.logger,
        metrics: p.metrics,
        observe: true,
      }),
    onLostLease: () => {
      lost = true;
      void (mode?.stop() ?? Promise.resolve()).then(() => process.exit(1));
    },
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  if (lost) return;
  await mode.stop();
  process.exitCode = 0;
}
