// `virtkeeper run --kubeconfig PATH` (or in-cluster): the controller in Kubernetes mode.
import { hostname } from 'node:os';
import { setFlagsFromString } from 'node:v8';
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

/**
 * V8's heap sizing tuned for memory, not speed: a controller's live heap at 10,000 objects is
 * some 100 MB, but under the steady churn of resyncs V8 let the heap grow to three or four times
 * that before collecting (bench/kube.ts: a heap of 250 MB at 3,000 VMs, 60 used). With this it
 * grows by a smaller factor. Set before the first object is cached, it applies to every
 * collection after. VK_V8_SPEED=1 leaves V8's defaults (faster passes, more memory).
 */
export function preferMemory(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.VK_V8_SPEED === '1') return false;
  setFlagsFromString('--optimize-for-size');
  return true;
}

export async function runKubernetes(o: RunKubernetesOptions): Promise<void> {
  preferMemory();
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
