// The next status of a VirtualMachine from what was planned, done and observed, with
// kstatus-style conditions (Ready, Synced, RestartRequired, Migrating) stamped with
// observedGeneration. Pure: `now` is passed in.
import { formatBytes } from '../api/quantity.ts';
import type { Condition, Phase, VirtualMachineStatus } from '../api/types.ts';
import type { PlannedStep } from './actions.ts';
import type { DesiredVM, ObservedVM } from './model.ts';
import type { PlanResult } from './plan.ts';

export interface StatusInput {
  desired: DesiredVM;
  previous?: VirtualMachineStatus;
  /** The plan of this pass (after any actions were executed, the plan that remains). */
  plan: PlanResult;
  observed?: ObservedVM;
  /** The error that ended this pass, if any (already safe to show). */
  error?: { code: string; message: string; retrying: boolean };
  /** What the pass did, e.g. `create`, `reconfigure (live)`. */
  lastAction?: string;
  /** Dependencies this VM waits for (a network or template not Ready). */
  waitingFor?: string;
  now: string;
}

type Cond = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/** A clock reading as status times are written. */
export const isoTime = (ms: number): string => new Date(ms).toISOString();

export function setCondition(list: Condition[] | undefined, c: Cond, generation: number, now: string): Condition[] {
  const prev = list?.find((x) => x.type === c.type);
  const changed = !prev || prev.status !== c.status;
  const next: Condition = { ...c, observedGeneration: generation, lastTransitionTime: changed ? now : (prev.lastTransitionTime ?? now) };
  return [...(list ?? []).filter((x) => x.type !== c.type), next].sort((a, b) => a.type.localeCompare(b.type));
}

function phaseOf(input: StatusInput, pending: PlannedStep[]): Phase {
  const o = input.observed;
  if (input.plan.refusals.length > 0 || (input.error && !input.error.retrying)) return 'Failed';
  if (!o) return pending.some((s) => s.action.type === 'create') && input.lastAction ? 'Provisioning' : 'Pending';
  if (o.migration || o.busy === 'migrate' || o.busy === 'migrating') return 'Migrating';
  if (o.busy) return 'Provisioning';
  if (pending.some((s) => s.action.type === 'delete')) return 'Deleting';
  if (o.power === 'running') return pending.some((s) => s.action.type !== 'start') ? 'Updating' : 'Running';
  if (o.power === 'starting') return 'Starting';
  if (pending.some((s) => s.action.type === 'start')) return 'Starting';
  return 'Stopped';
}

export function nextStatus(input: StatusInput): VirtualMachineStatus {
  const { desired: d, observed: o, plan, now } = input;
  const gen = d.generation;
  const prev = input.previous ?? {};
  const pending = plan.steps;
  const phase = phaseOf(input, pending);
  let conditions = prev.conditions;

  const refusal = plan.refusals[0];
  const synced: Cond = input.error
    ? { type: 'Synced', status: 'False', reason: input.error.code, message: input.error.message }
    : refusal
      ? { type: 'Synced', status: 'False', reason: refusal.code, message: refusal.message }
      : { type: 'Synced', status: 'True', reason: 'ReconcileSuccess', message: pending.length > 0 ? `${pending.length} action(s) pending` : 'in sync' };
  conditions = setCondition(conditions, synced, gen, now);

  const powerOk = !o ? false : d.runStrategy === 'Always' ? o.power === 'running' : d.runStrategy === 'Halted' ? o.power === 'stopped' : true;
  const ready: Cond = refusal
    ? { type: 'Ready', status: 'False', reason: 'Refused', message: refusal.message }
    : input.waitingFor
      ? { type: 'Ready', status: 'False', reason: 'WaitingForDependency', message: input.waitingFor }
      : plan.waiting
        ? { type: 'Ready', status: 'False', reason: 'Busy', message: plan.waiting }
        : !o
          ? { type: 'Ready', status: 'False', reason: 'NotCreated', message: `VM ${d.name} does not exist yet` }
          : pending.length > 0
            ? { type: 'Ready', status: 'False', reason: 'Reconciling', message: pending.map((s) => s.summary).join('; ') }
            : !powerOk
              ? { type: 'Ready', status: 'False', reason: 'PowerState', message: `VM is ${o.power}` }
              : { type: 'Ready', status: 'True', reason: 'Converged', message: `VM ${d.name} matches its spec` };
  conditions = setCondition(conditions, ready, gen, now);

  const rr: Cond = plan.restartRequired
    ? { type: 'RestartRequired', status: 'True', reason: plan.restartRequired.reason, message: plan.restartRequired.message }
    : { type: 'RestartRequired', status: 'False', reason: 'NoPendingChanges', message: '' };
  conditions = setCondition(conditions, rr, gen, now);

  const migrating: Cond =
    o?.migration || pending.some((s) => s.action.type === 'migrate')
      ? { type: 'Migrating', status: 'True', reason: 'Migrating', message: o?.migration ? `${o.migration.from ?? '?'} → ${o.migration.to ?? '?'} ${o.migration.progress ?? 0}%` : 'migration planned' }
      : { type: 'Migrating', status: 'False', reason: 'NotMigrating', message: '' };
  conditions = setCondition(conditions, migrating, gen, now);

  for (const c of plan.conditions ?? []) conditions = setCondition(conditions, c, gen, now);

  const status: VirtualMachineStatus = {
    phase,
    conditions,
    observedGeneration: gen,
    plannedActions: pending.map((s) => ({ type: s.action.type, description: s.summary, ...(s.disruptive ? { disruptive: true } : {}) })),
  };
  if (o) {
    status.providerID = o.providerID;
    if (o.node) status.node = o.node;
    status.cpus = o.cpu.sockets * o.cpu.cores * o.cpu.threads;
    status.memory = formatBytes(o.memoryBytes);
    if (o.ipAddresses.length > 0) {
      status.ipAddresses = [...o.ipAddresses];
      status.ip = o.ipAddresses[0] as string;
    }
    if (o.guestOS) status.guestOS = o.guestOS;
    if (o.migration) status.migration = { ...o.migration };
    status.createdAt = o.createdAt ?? prev.createdAt ?? now;
  }
  const lastAction = input.lastAction ?? prev.lastAction;
  if (lastAction) status.lastAction = lastAction;
  return status;
}
