// Kind → its reconciler. A new kind is one file of its own (a KindReconciler) and one line here;
// a kind not listed only has its observedGeneration recorded.
import type { AnyResource } from '../../api/types.ts';
import { diskReconciler } from './disk.ts';
import { hypervisorReconciler } from './hypervisor.ts';
import { networkReconciler } from './network.ts';
import { restoreReconciler, scheduleReconciler, snapshotReconciler } from './snapshot-kinds.ts';
import { templateReconciler } from './template.ts';
import type { KindReconciler } from './types.ts';
import { vmReconciler } from './vm.ts';
import { vmSetReconciler } from './vmset.ts';

const RECONCILERS: readonly KindReconciler[] = [
  hypervisorReconciler,
  networkReconciler,
  templateReconciler,
  vmReconciler,
  diskReconciler,
  vmSetReconciler,
  snapshotReconciler,
  restoreReconciler,
  scheduleReconciler,
];

const BY_KIND: ReadonlyMap<string, KindReconciler> = new Map(RECONCILERS.map((r) => [r.kind, r]));

/** Every registered reconciler, in registry order. */
export function registeredReconcilers(): readonly KindReconciler[] {
  return RECONCILERS;
}

export function reconcilerFor(kind: AnyResource['kind']): KindReconciler | undefined {
  return BY_KIND.get(kind);
}
