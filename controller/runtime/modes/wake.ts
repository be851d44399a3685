// What both modes share around the Reconciler: waking a hypervisor's VMs when it reports a
// change between resyncs, and the gauges of what is declared.
import type { DesiredStore } from '../../sources/store.ts';
import type { Metrics } from '../metrics.ts';

/** The keys of the VMs on a hypervisor (level-based: a pass re-reads everything). */
export function vmKeysOn(store: DesiredStore, hypervisor: string): string[] {
  return store
    .vms()
    .filter((v) => v.spec.hypervisor === hypervisor)
    .map((v) => `VirtualMachine/${v.metadata.namespace ?? 'default'}/${v.metadata.name}`);
}

export function declaredGauges(metrics: Metrics, store: DesiredStore, queueLength: () => number, help: string): void {
  metrics.gauge('virtkeeper_workqueue_depth', 'Keys waiting for a worker.', () => [{ labels: {}, value: queueLength() }]);
  metrics.gauge('virtkeeper_resources', help, () => {
    const counts = new Map<string, number>();
    for (const e of store.all()) counts.set(e.resource.kind, (counts.get(e.resource.kind) ?? 0) + 1);
    return [...counts].map(([kind, value]) => ({ labels: { kind }, value }));
  });
}
