// The snapshot kinds as the registry sees them: a snapshot is removed (per its deletionPolicy)
// down the one removal path; a schedule is forgotten (its snapshots stay), a finished restore's
// record outlives a manifest missing for a moment (removeRestore).
import type { VirtualMachineRestore, VirtualMachineSnapshot, VirtualMachineSnapshotSchedule } from '../../api/types.ts';
import { reconcileRestore, removeRestore } from './restore.ts';
import { reconcileSnapshot, removeSnapshot } from './snapshot.ts';
import { reconcileSchedule } from './snapshot-schedule.ts';
import type { KindReconciler } from './types.ts';

export const snapshotReconciler: KindReconciler<VirtualMachineSnapshot> = {
  kind: 'VirtualMachineSnapshot',
  removalDestroys: true,
  reconcile: (k, key, { resource, source }, previous) => reconcileSnapshot(k, key, resource, source, previous),
  remove: (k, key, record) => removeSnapshot(k, key, record),
};

export const restoreReconciler: KindReconciler<VirtualMachineRestore> = {
  kind: 'VirtualMachineRestore',
  removalDestroys: false,
  reconcile: (k, key, { resource, source }, previous) => reconcileRestore(k, key, resource, source, previous),
  remove: (k, key, record) => removeRestore(k, key, record),
};

export const scheduleReconciler: KindReconciler<VirtualMachineSnapshotSchedule> = {
  kind: 'VirtualMachineSnapshotSchedule',
  removalDestroys: false,
  reconcile: (k, key, { resource, source }, previous) => reconcileSchedule(k, key, resource, source, previous),
};
