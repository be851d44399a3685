// The shape of a kind's registry entry and the list of kind names, apart from the registry
// (kinds.ts) so the per-area tables it assembles (snapshot-kinds.ts) can use them without a cycle.
import type { TSchema } from 'typebox';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  priority?: number;
}

export interface KindInfo {
  kind: KindName;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Cluster' | 'Namespaced';
  schema: TSchema;
  columns: PrinterColumn[];
}

export const KIND_NAMES = [
  'Hypervisor',
  'VirtualNetwork',
  'VMTemplate',
  'VirtualDisk',
  'VirtualMachine',
  'VirtualMachineSet',
  'VirtualMachineSnapshot',
  'VirtualMachineRestore',
  'VirtualMachineSnapshotSchedule',
] as const;
export type KindName = (typeof KIND_NAMES)[number];
