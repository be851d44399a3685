// What a plan is: its input (the desired VM or what is left of a removed one, and the
// observation), and its result (steps, refusals, waiting, conditions). Types only.
import type { PlannedStep } from './actions.ts';
import type { Capabilities, DesiredVM, Observation, ObservedVM, OwnerRef, PendingCreate } from './model.ts';
import type { Refusal } from './refusal.ts';
import type { NamespaceRights } from './tenancy.ts';

export type { Refusal } from './refusal.ts';

/** What is left of a resource that was removed from its source, enough to delete its VM. */
export interface Removed {
  key: string;
  hypervisor: string;
  owner: OwnerRef;
  name: string;
  deletionPolicy: 'Delete' | 'Orphan';
  protection: boolean;
}

export interface PlanInput {
  desired?: DesiredVM;
  removed?: Removed;
  observation: Observation;
  capabilities: Capabilities;
  planned?: ReadonlyMap<string, number>;
  /** What the VM's namespace may do on its Hypervisor (default: everything). */
  rights?: NamespaceRights;
  /** This resource's create that was asked and not yet seen finished (from its status). */
  pendingCreate?: PendingCreate;
}

/** A condition the plan sets on the VM's status (e.g. UnlistedDevices on an adopted VM). */
export interface PlanCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface PlanResult {
  steps: PlannedStep[];
  refusals: Refusal[];
  /** Set when the VM is busy (a lock, a copy, a migration) and the pass should come back later. */
  waiting?: string;
  restartRequired?: { reason: string; message: string };
  observed?: ObservedVM;
  conditions?: PlanCondition[];
}
