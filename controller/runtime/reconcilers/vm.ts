// VirtualMachines: observe (the shared list call) → plan → act → observe again → status. A
// create is recorded before it is sent (PendingCreate), so a crash after the call is finished,
// not refused, next pass. Removal plans the VM's delete (or orphaning) the same way.
import { describeId, parseKey } from '../../api/keys.ts';
import type { VirtualMachine } from '../../api/types.ts';
import { normaliseVM } from '../../core/desired.ts';
import { isFinalError, safeError, TerminalError } from '../../core/errors.ts';
import type { DesiredVM, Observation, PendingCreate } from '../../core/model.ts';
import type { ProviderConventions } from '../../core/provider.ts';
import { findObserved, plan, type PlanResult, type Removed } from '../../core/plan.ts';
import { isoTime as iso, nextStatus, setCondition } from '../../core/status.ts';
import { namespaceRefusal } from '../../core/tenancy.ts';
import type { StatusRecord } from '../../status/writer.ts';
import { executeSteps } from '../executor.ts';
import type { Connected } from '../hypervisors.ts';
import type { AppliedRecord, KindReconciler, ReconcileKit, ReconcileResult } from './types.ts';
import { convertedInto, dependenciesNotReady } from './vm-dependencies.ts';
import { statusOf } from '../records.ts';
import { heldBy } from './vm-holds.ts';

/** The VM as the core plans it, read with its Hypervisor connector's conventions. */
export function desiredOf(k: ReconcileKit, vm: VirtualMachine, conventions: ProviderConventions): DesiredVM {
  const { store, instance } = k.o;
  const hv = store.hypervisor(vm.spec.hypervisor);
  if (!hv) throw new TerminalError(`Hypervisor ${vm.spec.hypervisor} is not defined`);
  return normaliseVM(vm, { hypervisor: hv, networks: store.networks(), templates: store.templates(), conventions, ...(instance ? { instance } : {}) });
}

/** The conventions of a VM's Hypervisor type; none when it cannot be loaded (connecting says why). */
async function conventionsOf(k: ReconcileKit, vm: VirtualMachine): Promise<ProviderConventions> {
  const hv = k.o.store.hypervisor(vm.spec.hypervisor);
  return hv ? k.o.hypervisors.conventions(hv.spec.type).catch(() => ({})) : {};
}

async function reconcileVM(k: ReconcileKit, key: string, vm: VirtualMachine, source: StatusRecord['source'], previous: StatusRecord | undefined): Promise<ReconcileResult> {
  // A restore is stopping, reverting and starting this VM: its power is the restore's until done.
  if (heldBy(key) && !k.o.dryRun) return { ready: false, requeueAfter: 2000 };
  const desired = desiredOf(k, vm, await conventionsOf(k, vm));
  const now = () => iso(k.o.now());
  const prevStatus = statusOf('VirtualMachine', previous);
  // The pending-create record (see PendingCreate): one for another name or hypervisor is stale.
  let pendingCreate: PendingCreate | undefined = prevStatus?.pendingCreate?.name === desired.name && prevStatus.pendingCreate.hypervisor === desired.hypervisor ? prevStatus.pendingCreate : undefined;
  const planFor = (observation: Observation) => plan({ desired, observation, capabilities: conn.client.capabilities, rights, ...(pendingCreate ? { pendingCreate } : {}) });
  const writeStatus = async (p: PlanResult, obs: Observation | undefined, extra: { error?: { code: string; message: string; retrying: boolean }; lastAction?: string } = {}) => {
    const observed = obs ? findObserved(obs, desired.owner, desired.name).mine : undefined;
    const status = nextStatus({ desired, plan: p, now: now(), ...(prevStatus ? { previous: prevStatus } : {}), ...(observed ? { observed } : {}), ...extra });
    if (pendingCreate) status.pendingCreate = pendingCreate;
    const accepted = p.refusals.length === 0 ? vm : previous?.lastApplied;
    await k.writeRecord({ key, resource: vm, status, source, lastApplied: accepted });
    k.emit({
      type: 'status',
      key,
      ...(status.phase ? { phase: status.phase } : {}),
      ready: status.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
      message: status.conditions?.find((c) => c.type === 'Ready')?.message ?? '',
    });
    return status;
  };

  const rights = k.rights(desired.hypervisor, desired.owner.namespace ?? 'default');
  if (!rights.use) {
    // Refused before anything is read or written on the hypervisor.
    const refused: PlanResult = { steps: [], refusals: [namespaceRefusal(describeId(parseKey(key)), desired.hypervisor, desired.owner.namespace ?? 'default')] };
    for (const r of refused.refusals) k.emit({ type: 'refused', key, code: r.code, message: r.message });
    await writeStatus(refused, undefined);
    return { plan: refused, ready: false };
  }
  let conn: Connected;
  let obs: Observation;
  try {
    conn = await k.connect(desired.hypervisor);
    obs = await conn.observer.get();
  } catch (e) {
    const err = safeError(e);
    await writeStatus({ steps: [], refusals: [] }, undefined, { error: { ...err, retrying: true } });
    k.emit({ type: 'error', key, ...err, retrying: true });
    throw e;
  }
  const first = planFor(obs);
  for (const r of first.refusals) k.emit({ type: 'refused', key, code: r.code, message: r.message });
  const template = first.steps.some((s) => s.action.type === 'create') ? convertedInto(k, vm, obs, prevStatus?.providerID, conn.client.templates?.fromVMConsumesVM === true) : undefined;
  if (template) {
    // Proxmox turned this VM into the template a VMTemplate asked for: it is not made again.
    const status = nextStatus({ desired, plan: { steps: [], refusals: [] }, now: now(), ...(prevStatus ? { previous: prevStatus } : {}) });
    status.phase = 'Stopped';
    status.plannedActions = [];
    status.conditions = setCondition(
      status.conditions,
      { type: 'Ready', status: 'True', reason: 'ConvertedToTemplate', message: `VM ${desired.name} became template ${template}; this VirtualMachine can be removed from the manifests` },
      desired.generation,
      now(),
    );
    await k.writeRecord({ key, resource: vm, status, source, lastApplied: previous?.lastApplied ?? vm });
    // Done, not failed: nothing is left to do for it (waiting on it would never end).
    return { plan: { steps: [], refusals: [] }, ready: true };
  }
  const waitingFor = await dependenciesNotReady(k, vm);
  if (waitingFor && first.steps.some((s) => s.action.type === 'create' || s.action.type === 'attachNic' || s.action.type === 'updateNic')) {
    // Networks and templates first: never a half-made VM.
    const observed = findObserved(obs, desired.owner, desired.name).mine;
    const status = nextStatus({ desired, plan: first, now: now(), waitingFor, ...(prevStatus ? { previous: prevStatus } : {}), ...(observed ? { observed } : {}) });
    if (pendingCreate) status.pendingCreate = pendingCreate;
    await k.writeRecord({ key, resource: vm, status, source, lastApplied: previous?.lastApplied });
    k.emit({ type: 'status', key, ...(status.phase ? { phase: status.phase } : {}), ready: 'False', message: waitingFor });
    return { plan: { ...first, steps: [], waiting: waitingFor }, ready: false, requeueAfter: 5000 };
  }
  if (k.o.dryRun || first.steps.length === 0) {
    const status = await writeStatus(first, obs);
    const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    return { plan: first, ready, requeueAfter: first.refusals.length > 0 ? undefined : first.waiting ? 5000 : ready ? conn.resyncMs : 10_000 };
  }
  // Show where the VM stands before acting (Pending before a create), then act. A create is
  // recorded first, so a crash at any point after the call is finished, not refused, next pass.
  const creates = first.steps.some((s) => s.action.type === 'create');
  if (creates && !pendingCreate) pendingCreate = { name: desired.name, hypervisor: desired.hypervisor, requestedAt: now() };
  await writeStatus(first, obs);
  let lastAction: string | undefined;
  try {
    lastAction = await executeSteps({ key, conn, steps: first.steps, emit: k.emit, logger: k.o.logger, ...(k.o.signal ? { signal: k.o.signal } : {}) });
  } catch (e) {
    const err = safeError(e);
    const retrying = !isFinalError(e);
    conn.observer.invalidate();
    const after = await conn.observer.get().catch(() => obs);
    await writeStatus(planFor(after), after, { error: { ...err, retrying }, ...(lastAction ? { lastAction } : {}) });
    k.emit({ type: 'error', key, ...err, retrying });
    throw e;
  }
  conn.observer.invalidate();
  const after = await conn.observer.get({ maxAgeMs: 0, coalesce: true });
  // The create succeeded: the record goes once the VM is seen with its marker.
  if (creates && findObserved(after, desired.owner, desired.name).mine) pendingCreate = undefined;
  const rest = planFor(after);
  const status = await writeStatus(rest, after, lastAction ? { lastAction } : {});
  const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  return { plan: rest, ready, requeueAfter: ready ? conn.resyncMs : 2000 };
}

/** Deletes (or orphans: unmarks) the VM a removed VirtualMachine made, once the gate let it go. */
async function removeVM(k: ReconcileKit, key: string, previous: AppliedRecord<VirtualMachine>): Promise<ReconcileResult> {
  const last = previous.lastApplied;
  const ns = last.metadata.namespace ?? 'default';
  const removed: Removed = {
    key,
    hypervisor: last.spec.hypervisor,
    owner: { kind: 'VirtualMachine', namespace: ns, name: last.metadata.name, ...(k.o.instance ? { instance: k.o.instance } : {}) },
    name: last.spec.name ?? last.metadata.name,
    deletionPolicy: last.spec.deletionPolicy ?? 'Delete',
    protection: last.spec.protection ?? false,
  };
  const conn = await k.connect(removed.hypervisor);
  const obs = await conn.observer.get();
  const p = plan({ removed, observation: obs, capabilities: conn.client.capabilities, rights: k.rights(removed.hypervisor, ns) });
  for (const r of p.refusals) k.emit({ type: 'refused', key, code: r.code, message: r.message });
  if (p.refusals.length > 0) {
    await k.o.statuses.write({ ...previous, status: { ...previous.status, phase: 'Failed', plannedActions: [] }, problems: p.refusals.map((r) => r.message), updatedAt: iso(k.o.now()) });
    return { plan: p, ready: false };
  }
  // The VM may be on a host that did not answer: the record stays until it can be found and removed.
  if (p.waiting && p.steps.length === 0) {
    k.emit({ type: 'status', key, ready: 'False', message: p.waiting });
    return { plan: p, requeueAfter: 5000 };
  }
  if (k.o.dryRun) {
    await k.o.statuses.write({ ...previous, status: { ...previous.status, plannedActions: p.steps.map((s) => ({ type: s.action.type, description: s.summary })) }, updatedAt: iso(k.o.now()) });
    return { plan: p };
  }
  await executeSteps({ key, conn, steps: p.steps, emit: k.emit, logger: k.o.logger, ...(k.o.signal ? { signal: k.o.signal } : {}) });
  await k.o.statuses.remove(key);
  k.emit({ type: 'status', key, phase: removed.deletionPolicy === 'Orphan' ? 'Orphaned' : 'Deleted', ready: 'True', message: `${describeId(parseKey(key))} removed` });
  return { plan: p, ready: true };
}

export const vmReconciler: KindReconciler<VirtualMachine> = {
  kind: 'VirtualMachine',
  removalDestroys: true,
  reconcile: (k, key, { resource, source }, previous) => reconcileVM(k, key, resource, source, previous),
  remove: removeVM,
};
