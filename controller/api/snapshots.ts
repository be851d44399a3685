// The snapshot kinds: a VirtualMachineSnapshot (one snapshot of one VM), a VirtualMachineRestore
// (a revert to one, applied once) and a VirtualMachineSnapshotSchedule (snapshots on a cron
// schedule with retention). All three are namespaced and name VMs of their own namespace.
import { Type, type Static } from 'typebox';
import { Conditions, DeletionPolicy, Immutable, Name, Resource } from './common.ts';

const VMRef = (description: string) => Immutable(Name(description));

export const SnapshotPhase = Type.Union([Type.Literal('Pending'), Type.Literal('InProgress'), Type.Literal('Ready'), Type.Literal('Failed')]);

export const VirtualMachineSnapshotSpec = Type.Object(
  {
    vm: VMRef('The VirtualMachine (metadata.name, same namespace) to snapshot; immutable.'),
    memory: Type.Optional(Immutable(Type.Boolean({ description: "Save the running VM's memory too (where the hypervisor can)." }))),
    quiesce: Type.Optional(Immutable(Type.Boolean({ description: "Freeze the guest's file systems through the guest agent while the snapshot is taken." }))),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    deletionPolicy: Type.Optional(DeletionPolicy),
  },
  { additionalProperties: false },
);
export const VirtualMachineSnapshotStatus = Type.Object(
  {
    phase: Type.Optional(SnapshotPhase),
    conditions: Type.Optional(Conditions),
    hypervisor: Type.Optional(Type.String()),
    /** The snapshot's id on the hypervisor (Proxmox: its name; oVirt: its UUID; libvirt: its name). */
    providerID: Type.Optional(Type.String()),
    /** Its name on the hypervisor. */
    snapshotName: Type.Optional(Type.String()),
    /** The VM's provider id when the snapshot was made: a VM made again has lost it. */
    vmProviderID: Type.Optional(Type.String()),
    createdAt: Type.Optional(Type.String()),
    memory: Type.Optional(Type.Boolean()),
    quiesced: Type.Optional(Type.Boolean()),
    size: Type.Optional(Type.String()),
    observedGeneration: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);
export const VirtualMachineSnapshot = Resource('VirtualMachineSnapshot', VirtualMachineSnapshotSpec, VirtualMachineSnapshotStatus);

export const VirtualMachineRestoreSpec = Type.Object(
  {
    vm: VMRef('The VirtualMachine (same namespace) to revert; immutable.'),
    snapshot: Immutable(
      Type.String({
        minLength: 1,
        maxLength: 253,
        description: 'A VirtualMachineSnapshot of that VM (same namespace), or the hypervisor name of a snapshot a schedule made of it; immutable.',
        pattern: '^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$',
      }),
    ),
  },
  { additionalProperties: false },
);
export const VirtualMachineRestoreStatus = Type.Object(
  {
    phase: Type.Optional(Type.Union([Type.Literal('Pending'), Type.Literal('InProgress'), Type.Literal('Succeeded'), Type.Literal('Failed')])),
    conditions: Type.Optional(Conditions),
    /** The hypervisor snapshot reverted to. */
    snapshotID: Type.Optional(Type.String()),
    /** The steps of the restore, in order, and those done (a restore interrupted resumes after the last one done). */
    steps: Type.Optional(Type.Array(Type.String())),
    done: Type.Optional(Type.Array(Type.String())),
    startedAt: Type.Optional(Type.String()),
    completedAt: Type.Optional(Type.String()),
    /** Directory mode: when its manifest went missing (the record of a finished restore outlives a checkout). */
    absentSince: Type.Optional(Type.String()),
    observedGeneration: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);
export const VirtualMachineRestore = Resource('VirtualMachineRestore', VirtualMachineRestoreSpec, VirtualMachineRestoreStatus);

const Count = (description: string) => Type.Optional(Type.Integer({ minimum: 0, maximum: 10000, description }));

export const Keep = Type.Object(
  {
    last: Count('The newest N snapshots.'),
    hourly: Count('The newest snapshot of each of the last N hours that have one.'),
    daily: Count('The newest snapshot of each of the last N days that have one (in the time zone).'),
    weekly: Count('The newest snapshot of each of the last N ISO weeks that have one.'),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const VirtualMachineSnapshotScheduleSpec = Type.Object(
  {
    selector: Type.Optional(
      Type.Object({ matchLabels: Type.Record(Type.String(), Type.String(), { description: 'VirtualMachines of this namespace with all these labels.' }) }, { additionalProperties: false }),
    ),
    vms: Type.Optional(Type.Array(Name('A VirtualMachine of this namespace.'), { minItems: 1 })),
    schedule: Type.String({ minLength: 1, maxLength: 128, description: 'A cron expression (5 or 6 fields), e.g. "0 2 * * *".' }),
    timeZone: Type.Optional(Type.String({ maxLength: 64, description: 'An IANA time zone for the schedule and the daily/weekly buckets (default UTC).' })),
    keep: Keep,
    memory: Type.Optional(Type.Boolean()),
    quiesce: Type.Optional(Type.Boolean()),
    /** Stops making snapshots (pruning goes on). */
    suspend: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const ScheduledSnapshot = Type.Object({ vm: Type.String(), name: Type.String(), providerID: Type.String(), createdAt: Type.Optional(Type.String()) }, { additionalProperties: false });
export const VirtualMachineSnapshotScheduleStatus = Type.Object(
  {
    conditions: Type.Optional(Conditions),
    /** The scheduled time of the last run made. */
    lastRunTime: Type.Optional(Type.String()),
    nextRunTime: Type.Optional(Type.String()),
    /** Runs missed while the controller was down and not caught up (only the latest one is). */
    missedRuns: Type.Optional(Type.Integer()),
    /** VMs the last run skipped, with why. */
    skipped: Type.Optional(Type.Array(Type.Object({ vm: Type.String(), reason: Type.String() }, { additionalProperties: false }))),
    /** The snapshots this schedule made that are kept now. */
    snapshots: Type.Optional(Type.Array(ScheduledSnapshot)),
    pruned: Type.Optional(Type.Integer({ description: 'Snapshots pruned in all.' })),
    observedGeneration: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);
export const VirtualMachineSnapshotSchedule = Resource('VirtualMachineSnapshotSchedule', VirtualMachineSnapshotScheduleSpec, VirtualMachineSnapshotScheduleStatus);

export type VirtualMachineSnapshot = Static<typeof VirtualMachineSnapshot>;
export type VirtualMachineRestore = Static<typeof VirtualMachineRestore>;
export type VirtualMachineSnapshotSchedule = Static<typeof VirtualMachineSnapshotSchedule>;
export type SnapshotKeep = Static<typeof Keep>;
