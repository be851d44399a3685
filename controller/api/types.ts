// TypeScript types of every kind, derived from the schemas (never hand-kept).
export type { Hypervisor, HypervisorSpec, HypervisorStatus, MaintenanceEntry, MaintenanceStatus } from './hypervisor.ts';
export type { VirtualMachine, VirtualMachineSpec, VirtualMachineStatus, VMDisk, VMNetwork, CloudInit, Phase } from './virtualmachine.ts';
export type { VirtualDisk, VirtualNetwork, VMTemplate, VirtualMachineSet } from './others.ts';
export type { KindName } from './kinds.ts';
export type { VirtualMachineRestore, VirtualMachineSnapshot, VirtualMachineSnapshotSchedule, SnapshotKeep } from './snapshots.ts';
import type { Hypervisor } from './hypervisor.ts';
import type { VirtualDisk, VirtualMachineSet, VirtualNetwork, VMTemplate } from './others.ts';
import type { VirtualMachine } from './virtualmachine.ts';
import type { VirtualMachineRestore, VirtualMachineSnapshot, VirtualMachineSnapshotSchedule } from './snapshots.ts';

export type AnyResource = Hypervisor | VirtualMachine | VirtualDisk | VirtualNetwork | VMTemplate | VirtualMachineSet | VirtualMachineSnapshot | VirtualMachineRestore | VirtualMachineSnapshotSchedule;
export type Condition = NonNullable<NonNullable<VirtualMachine['status']>['conditions']>[number];
