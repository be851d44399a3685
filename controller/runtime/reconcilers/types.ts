// What every kind's reconciler shares: the options of the Reconciler, the kit it hands to each
// kind, the result a pass returns, and the shape of one kind's reconciler. Types only (and one
// error class), so the reconcilers and the Reconciler import it and never each other.
import type { Logger } from 'pino';
import type { AnyResource } from '../../api/types.ts';
import { VkError } from '../../core/errors.ts';
import type { PlanResult } from '../../core/plan.ts';
import type { NamespaceRights, Tenancy } from '../../core/tenancy.ts';
import type { DesiredStore, Entry } from '../../sources/store.ts';
import type { StatusRecord, StatusStore } from '../../status/writer.ts';
import type { EventSink } from '../events.ts';
import type { Connected, HypervisorPool } from '../hypervisors.ts';
import type { RecordWrite } from '../records.ts';
import type { Admission } from '../admission.ts';

export interface ReconcilerOptions {
  store: DesiredStore;
  statuses: StatusStore;
  hypervisors: HypervisorPool;
  logger: Logger;
  now: () => number;
  emit?: EventSink;
  /** Plan only: write plannedActions into status, change nothing. */
  dryRun?: boolean;
  /** The one gate every removal passes (grace, guard, orphaning); both modes give one. */
  removals: RemovalControl;
  /** Where namespaces come from: Kubernetes tenants may adopt or grant pools only where listed (default directory). */
  tenancy?: Tenancy;
  /** The controller instance VM markers name (`--instance`); VMs marked by another are not touched. */
  instance?: string;
  /** Aborted when the controller stops: a plan in progress stops before its next step. */
  signal?: AbortSignal;
}

/** What the removal path asks of the mode before it destroys anything, and tells it after. */
export interface RemovalControl {
  admit(key: string): Admission | Promise<Admission>;
  done(key: string, hypervisors: string[]): Promise<void>;
  /** Why this removal must orphan whatever its deletionPolicy says (a namespace being deleted). */
  orphanReason?(key: string): Promise<string | undefined>;
}

export interface ReconcileResult {
  requeueAfter?: number | undefined;
  ready?: boolean;
  plan?: PlanResult;
  /** What a pass would do to a resource that is not a VM (networks, disks, templates), for `plan`. */
  intents?: Intent[];
  /** A removal the gate holds back (grace or guard), with why. */
  /** `final`: only a change of spec, flags or Hypervisors lets it go (not the grace, which passes by itself). */
  held?: { code: string; message: string; final?: boolean };
}

export interface Intent {
  symbol: '+' | '~' | '-';
  summary: string;
  /** Not a change: something that holds others back (a template not fit for cloning). */
  blocking?: boolean;
  /** Derived from status, not from the hypervisor (its provider cannot look without acting yet). */
  unchecked?: boolean;
}

/** What each kind's reconciler uses of the Reconciler. */
export interface ReconcileKit {
  o: ReconcilerOptions;
  connect(name: string): Promise<Connected>;
  emit: EventSink;
  /** Writes a resource's status record (see records.ts). */
  writeRecord<R extends AnyResource>(w: RecordWrite<R>): Promise<void>;
  /** What a namespace may do on a Hypervisor (everything when the Hypervisor is not defined: that is refused elsewhere). */
  rights(hypervisor: string, namespace: string): NamespaceRights;
}

/** A record whose resource was applied: what a removal works from. */
export type AppliedRecord<R extends AnyResource = AnyResource> = StatusRecord & { lastApplied: R };

/**
 * One kind's reconciler. `reconcile` brings a declared resource to its spec; `remove` destroys
 * (or orphans) what a resource no longer declared made, after the removal gate let it go (the
 * Reconciler asks the gate: a kind never does). A kind without `remove` is forgotten at once.
 */
export interface KindReconciler<R extends AnyResource = AnyResource> {
  kind: R['kind'];
  /**
   * Whether removing a resource of this kind (deletionPolicy Delete) destroys something on a
   * hypervisor: such removals pass the removal gate (grace and guard) and, in Kubernetes mode,
   * carry a finalizer. Required, so a new kind cannot forget to say.
   */
  removalDestroys: boolean;
  reconcile(k: ReconcileKit, key: string, entry: Entry & { resource: R }, previous: StatusRecord | undefined): Promise<ReconcileResult>;
  remove?(k: ReconcileKit, key: string, record: AppliedRecord<R>): Promise<ReconcileResult>;
}

export class HypervisorUnavailableError extends VkError {
  override readonly code = 'VK_HYPERVISOR_UNAVAILABLE';
  override readonly kind = 'transient';
}
