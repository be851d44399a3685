// The snapshot kinds' entry points for the reconciler's per-kind dispatch and its one removal path.
import type { AnyResource } from '../../api/types.ts';
import type { StatusRecord } from '../../status/writer.ts';
import type { ReconcileKit, ReconcileResult } from '../reconciler.ts';
import { reconcileRestore } from './restore.ts';
import { reconcileSnapshot, removeSnapshot } from './snapshot.ts';
import { reconcileSchedule } from './snapshot-schedule.ts';

/** The pass of a snapshot kind, or undefined for any other kind. */
export function reconcileSnapshotKind(k: ReconcileKit, key: string, r: AnyResource, source: StatusRecord['source'], previous: StatusRecord | undefined): Promise<ReconcileResult> | undefined {
  if (r.kind === 'VirtualMachineSnapshot') return reconcileSnapshot(k, key, r, source, previous);
  if (r.kind === 'VirtualMachineRestore') return reconcileRestore(k, key, r, source, previous);
  if (r.kind === 'VirtualMachineSnapshotSchedule') return reconcileSchedule(k, key, r, source, previous);
  return undefined;
}

/** The removal of a snapshot kind (restores and schedules only forget: what they did stays), or undefined. */
export async function removeSnapshotKind(k: ReconcileKit, key: string, record: StatusRecord): Promise<ReconcileResult | undefined> {
  if (record.lastApplied?.kind === 'VirtualMachineSnapshot') return removeSnapshot(k, key, record);
  return undefined;
}
