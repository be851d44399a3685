// The actions a plan is made of. Providers execute them; the CLI prints them.
import type { CpuTopology, DesiredDisk, DesiredNic, DesiredVM, OwnerRef } from './model.ts';

/** Identifies an existing VM on the hypervisor, with the owner it was observed with. */
export interface Target {
  providerID: string;
  name: string;
  node?: string;
  owner?: OwnerRef;
}

export type ApplyMode = 'live' | 'staged' | 'offline';

export type VMAction =
  /** `resume`: a VM of this name left unfinished by an earlier create (no marker yet, or not configured); the provider finishes it. */
  | { type: 'create'; vm: DesiredVM; node?: string; resume?: Target }
  | { type: 'adopt'; target: Target; owner: OwnerRef; vm: DesiredVM }
  /** Rewrites the marker of a VM already owned (one written before instances) to name this controller instance. */
  | { type: 'mark'; target: Target; owner: OwnerRef }
  | { type: 'reconfigure'; target: Target; cpu?: CpuTopology; memoryBytes?: number; maxMemoryBytes?: number; mode: ApplyMode }
  | { type: 'growDisk'; target: Target; disk: string; index: number; sizeBytes: number }
  | { type: 'attachDisk'; target: Target; disk: DesiredDisk; index: number }
  | { type: 'detachDisk'; target: Target; disk: string; index: number }
  | { type: 'attachNic'; target: Target; nic: DesiredNic; index: number }
  | { type: 'updateNic'; target: Target; nic: DesiredNic; index: number }
  | { type: 'detachNic'; target: Target; nic: string; index: number }
  | { type: 'migrate'; target: Target; to: string }
  | { type: 'start'; target: Target }
  | { type: 'stop'; target: Target }
  | { type: 'restart'; target: Target }
  | { type: 'setAutostart'; target: Target; enabled: boolean }
  | { type: 'delete'; target: Target };

export type ActionType = VMAction['type'];

/** One field's change, for display: `memory 2Gi → 4Gi (live)`. */
export interface FieldChange {
  field: string;
  from?: string;
  to?: string;
}

export interface PlannedStep {
  /** Resource key this step belongs to. */
  resource: string;
  hypervisor: string;
  action: VMAction;
  /** `+` create, `~` change, `-` delete, `>` power or migrate. */
  symbol: '+' | '~' | '-' | '>';
  summary: string;
  changes: FieldChange[];
  /** Whether the guest sees an interruption (restart, stop, delete). */
  disruptive: boolean;
  live: boolean;
}

export function isDestructive(a: VMAction): boolean {
  return (
    a.type === 'delete' || a.type === 'detachDisk' || a.type === 'detachNic' || a.type === 'growDisk' || a.type === 'migrate' || a.type === 'reconfigure' || a.type === 'stop' || a.type === 'restart'
  );
}
