// The registry entries of the snapshot kinds (see kinds.ts): names and printer columns.
import type { KindInfo, PrinterColumn } from './kind-info.ts';
import { VirtualMachineRestore, VirtualMachineSnapshot, VirtualMachineSnapshotSchedule } from './snapshots.ts';

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const ready: PrinterColumn = { name: 'Ready', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].status" };
const reason: PrinterColumn = { name: 'Reason', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].reason", priority: 1 };

export const SNAPSHOT_KINDS: Record<'VirtualMachineSnapshot' | 'VirtualMachineRestore' | 'VirtualMachineSnapshotSchedule', KindInfo> = {
  VirtualMachineSnapshot: {
    kind: 'VirtualMachineSnapshot',
    plural: 'virtualmachinesnapshots',
    singular: 'virtualmachinesnapshot',
    shortNames: ['vksnap'],
    scope: 'Namespaced',
    schema: VirtualMachineSnapshot,
    columns: [
      { name: 'VM', type: 'string', jsonPath: '.spec.vm' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Memory', type: 'boolean', jsonPath: '.status.memory' },
      { name: 'Size', type: 'string', jsonPath: '.status.size' },
      { name: 'Created', type: 'string', jsonPath: '.status.createdAt' },
      ready,
      age,
      { name: 'Hypervisor', type: 'string', jsonPath: '.status.hypervisor', priority: 1 },
      { name: 'ID', type: 'string', jsonPath: '.status.providerID', priority: 1 },
      { name: 'Quiesced', type: 'boolean', jsonPath: '.status.quiesced', priority: 1 },
      reason,
    ],
  },
  VirtualMachineRestore: {
    kind: 'VirtualMachineRestore',
    plural: 'virtualmachinerestores',
    singular: 'virtualmachinerestore',
    shortNames: ['vkrestore'],
    scope: 'Namespaced',
    schema: VirtualMachineRestore,
    columns: [
      { name: 'VM', type: 'string', jsonPath: '.spec.vm' },
      { name: 'Snapshot', type: 'string', jsonPath: '.spec.snapshot' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Completed', type: 'string', jsonPath: '.status.completedAt' },
      ready,
      age,
      reason,
    ],
  },
  VirtualMachineSnapshotSchedule: {
    kind: 'VirtualMachineSnapshotSchedule',
    plural: 'virtualmachinesnapshotschedules',
    singular: 'virtualmachinesnapshotschedule',
    shortNames: ['vksnapsched'],
    scope: 'Namespaced',
    schema: VirtualMachineSnapshotSchedule,
    columns: [
      { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule' },
      { name: 'Last', type: 'string', jsonPath: '.status.lastRunTime' },
      { name: 'Next', type: 'string', jsonPath: '.status.nextRunTime' },
      { name: 'Snapshots', type: 'string', jsonPath: '.status.snapshots[*].name', priority: 1 },
      ready,
      age,
      reason,
    ],
  },
};
