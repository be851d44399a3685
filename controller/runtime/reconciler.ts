// reconcile(key): read the desired state → observe (shared list call) → plan → act →
// observe again → write status. Level-based: it never trusts the event that woke it.
import type { Logger } from 'pino';
import { describeId, parseKey } from '../api/keys.ts';
import type { AnyResource, Hypervisor, VirtualDisk, VirtualMachine, VirtualMachineSet, VirtualMachineStatus, VirtualNetwork, VMTemplate } from '../api/types.ts';
import { expandSet } from '../core/vmset.ts';
import { templateName } from '../core/desired.ts';
import { vmRefKey } from './template-source.ts';
import { reconcileTemplate } from './reconcile-template.ts';
import { reconcileDisk, removeDisk } from './reconcile-disk.ts';
import { reconcileNetwork, removeNetwork } from './reconcile-network.ts';
import { reconcileSnapshotKind, removeSnapshotKind } from './reconcilers/snapshot-kinds.ts';
import { heldBy } from './reconcilers/vm-holds.ts';
import type { PlannedStep, Target } from '../core/actions.ts';
import { normaliseVM } from '../core/desired.ts';
import { isFinalError, isVkError, safeError, TerminalError, VkError } from '../core/errors.ts';
import type { DesiredVM, Observation, PendingCreate } from '../core/model.ts';
import { namespaceRefusal, rightsOf, type NamespaceRights, type Tenancy } from '../core/tenancy.ts';
import { findObserved, plan, type PlanResult, type Removed } from '../core/plan.ts';
import { isoTime as iso, nextStatus, setCondition } from '../core/status.ts';
import type { StatusRecord, StatusStore } from '../status/writer.ts';
import type { EventSink } from './events.ts';
import type { Connected, HypervisorPool } from './hypervisors.ts';
import type { DesiredStore } from './store.ts';
import { destroys, hypervisorsOf, type Admission } from './removals.ts';

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
}

/** What the removal path asks of the mode before it destroys anything, and tells it after. */
export interface RemovalControl {
  admit(key: string): Admission | Promise<Admission>;
  done(key: string, hypervisors: string[]): Promise<void>;
  /** Why this removal must orphan whatever its deletionPolicy says (a namespace being deleted). */
  orphanReason?(key: string): Promise<string | undefined>;
}

export interface ReconcileResult {
  requeueAfter?: number;
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
}

/** What the reconcilers of networks and disks use of the Reconciler. */
export interface ReconcileKit {
  o: ReconcilerOptions;
  connect(name: string): Promise<Connected>;
  emit: EventSink;
  writeRecord(key: string, r: AnyResource, status: object, source: StatusRecord['source'], problems: string[] | undefined, lastApplied: AnyResource | undefined): Promise<void>;
  /** What a namespace may do on a Hypervisor (everything when the Hypervisor is not defined: that is refused elsewhere). */
  rights(hypervisor: string, namespace: string): NamespaceRights;
}

export class HypervisorUnavailableError extends VkError {
  override readonly code = 'VK_HYPERVISOR_UNAVAILABLE';
  override readonly kind = 'transient';
}

export class Reconciler {
  private readonly o: ReconcilerOptions;
  private readonly kit: ReconcileKit;
  constructor(options: ReconcilerOptions) {
    this.o = options;
    this.kit = { o: options, connect: (name) => this.connect(name), emit: (e) => this.emit(e), writeRecord: (...args) => this.writeRecord(...args), rights: (h, n) => this.rights(h, n) };
  }

  private emit: EventSink = (e) => this.o.emit?.(e);

  private rights(hypervisor: string, namespace: string): NamespaceRights {
    const hv = this.o.store.hypervisor(hypervisor);
    return hv ? rightsOf(hv, namespace, this.o.tenancy ?? 'directory') : { use: true, adopt: false, grantPools: false };
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const id = parseKey(key);
    const entry = this.o.store.get(key);
    const previous = await this.o.statuses.read(key);
    if (entry?.heldBecause) {
      await this.writeRecord(key, entry.resource, previous?.status ?? {}, entry.source, entry.heldBecause, previous?.lastApplied);
      return {};
    }
    if (id.kind === 'Hypervisor') return entry ? this.reconcileHypervisor(entry.resource as Hypervisor, entry.source) : this.forget(key, previous);
    if (!entry) return previous?.lastApplied?.kind === id.kind ? this.remove(key, previous) : this.forget(key, previous);
    if (id.kind === 'VMTemplate') return reconcileTemplate(this.kit, key, entry.resource as VMTemplate, entry.source, previous);
    if (id.kind === 'VirtualMachineSet') return this.reconcileSet(key, entry.resource as VirtualMachineSet, entry.source);
    if (id.kind === 'VirtualDisk') return reconcileDisk(this.kit, key, entry.resource as VirtualDisk, entry.source, previous);
    if (id.kind === 'VirtualNetwork') return reconcileNetwork(this.kit, key, entry.resource as VirtualNetwork, entry.source, previous);
    const snapshotKind = reconcileSnapshotKind(this.kit, key, entry.resource, entry.source, previous);
    if (snapshotKind) return snapshotKind;
    if (id.kind !== 'VirtualMachine') {
      await this.writeRecord(key, entry.resource, { ...(previous?.status ?? {}), observedGeneration: entry.resource.metadata.generation ?? 1 }, entry.source, undefined, entry.resource);
      return {};
    }
    return this.reconcileVM(key, entry.resource as VirtualMachine, entry.source, previous);
  }

  /**
   * The one removal path of every kind: a resource its source no longer declares. What only
   * forgets (a template, a set, a Hypervisor, deletionPolicy Orphan) goes at once; what destroys
   * asks the gate first (grace, guard), and is counted by it after.
   */
  private async remove(key: string, previous: StatusRecord): Promise<ReconcileResult> {
    const last = previous.lastApplied;
    if (!last) return this.forget(key, previous);
    const orphanWhy = await this.o.removals.orphanReason?.(key);
    const resource = orphanWhy ? ({ ...last, spec: { ...last.spec, deletionPolicy: 'Orphan' } } as AnyResource) : last;
    if (orphanWhy) this.o.logger.warn({ resource: key }, `orphaning instead of deleting: ${orphanWhy}`);
    // The Hypervisor went too: nothing can be observed, so nothing is deleted, and the record
    // stays (for every kind: a disk or network is not forgotten as if it were gone).
    const gone = destroys(resource) ? hypervisorsOf(resource).filter((h) => !this.o.store.hypervisor(h)) : [];
    if (gone.length > 0) {
      const message = `Hypervisor ${gone.join(', ')} is no longer defined; what ${describeId(parseKey(key))} owns there is left as it is until it is declared again`;
      this.emit({ type: 'refused', key, code: 'VK_HYPERVISOR_GONE', message });
      return { ready: false, held: { code: 'VK_HYPERVISOR_GONE', message, final: true } };
    }
    if (destroys(resource)) {
      const a = await this.o.removals.admit(key);
      if (!a.allowed) {
        this.emit({ type: 'refused', key, code: a.code, message: `removal of ${describeId(parseKey(key))} held: ${a.message}` });
        if (!this.o.dryRun) {
          const st = previous.status as { conditions?: Parameters<typeof setCondition>[0] };
          const conditions = setCondition(
            st.conditions,
            { type: 'Ready', status: 'False', reason: a.code === 'VK_DELETE_GUARD' ? 'DeletionRefused' : 'DeletionPending', message: a.message },
            last.metadata.generation ?? 1,
            iso(this.o.now()),
          );
          await this.o.statuses.write({ ...previous, status: { ...previous.status, conditions }, problems: [`removal held: ${a.message}`], updatedAt: iso(this.o.now()) });
        }
        return {
          ready: false,
          held: { code: a.code, message: a.message, ...(a.code === 'VK_DELETE_GUARD' ? { final: true } : {}) },
          ...(a.retryAfterMs !== undefined ? { requeueAfter: Math.max(a.retryAfterMs, 1000) } : {}),
        };
      }
    }
    const record = { ...previous, lastApplied: resource };
    const r =
      resource.kind === 'VirtualMachine'
        ? await this.reconcileRemoval(key, record)
        : resource.kind === 'VirtualDisk'
          ? await removeDisk(this.kit, key, record)
          : resource.kind === 'VirtualNetwork'
            ? await removeNetwork(this.kit, key, record)
            : ((await removeSnapshotKind(this.kit, key, record)) ?? (await this.forget(key, previous)));
    if (!this.o.dryRun && destroys(resource) && r.ready) await this.o.removals.done(key, hypervisorsOf(resource));
    return r;
  }

  private async forget(key: string, previous: StatusRecord | undefined): Promise<ReconcileResult> {
    if (previous) await this.o.statuses.remove(key);
    return {};
  }

  private async connect(name: string): Promise<Connected> {
    const hv = this.o.store.hypervisor(name);
    if (!hv) throw new TerminalError(`Hypervisor ${name} is not defined`);
    try {
      return await this.o.hypervisors.get(hv);
    } catch (e) {
      if (isVkError(e)) throw e;
      throw new HypervisorUnavailableError(`cannot connect to Hypervisor ${name}: ${(e as Error).message}`, { cause: e });
    }
  }

  private async reconcileHypervisor(hv: Hypervisor, source: StatusRecord['source']): Promise<ReconcileResult> {
    const key = `Hypervisor/${hv.metadata.name}`;
    const gen = hv.metadata.generation ?? 1;
    const prev = (await this.o.statuses.read(key))?.status as Hypervisor['status'] | undefined;
    const now = iso(this.o.now());
    try {
      const conn = await this.connect(hv.metadata.name);
      const obs = await conn.observer.get();
      const status: NonNullable<Hypervisor['status']> = {
        conditions: setCondition(prev?.conditions, { type: 'Ready', status: 'True', reason: 'Connected', message: `${obs.nodes.length} node(s), ${obs.vms.length} VM(s)` }, gen, now),
        nodes: obs.nodes.map((n) => ({
          name: n.name,
          state: n.state,
          ...(n.cpus !== undefined ? { cpus: n.cpus } : {}),
          ...(n.cpuUsage !== undefined ? { cpu: n.cpuUsage } : {}),
          ...(n.memoryBytes !== undefined ? { memory: n.memoryBytes } : {}),
          ...(n.memoryUsedBytes !== undefined ? { memoryUsed: n.memoryUsedBytes } : {}),
          ...(n.load !== undefined ? { load: n.load } : {}),
          ...(n.vms !== undefined ? { vms: n.vms } : {}),
        })),
        observedVMs: obs.vms.filter((v) => !v.isTemplate).length,
        lastSyncTime: now,
        observedGeneration: gen,
        ...(obs.version ? { version: obs.version } : {}),
      };
      await this.writeRecord(key, hv, status, source, undefined, hv);
      this.emit({ type: 'status', key, ready: 'True', message: status.conditions?.[0]?.message ?? '' });
      return { requeueAfter: conn.resyncMs, ready: true };
    } catch (e) {
      const err = safeError(e);
      const status = { ...(prev ?? {}), conditions: setCondition(prev?.conditions, { type: 'Ready', status: 'False', reason: err.code, message: err.message }, gen, now), observedGeneration: gen };
      await this.writeRecord(key, hv, status, source, undefined, hv);
      this.emit({ type: 'error', key, code: err.code, message: err.message, retrying: true });
      throw e;
    }
  }

  /** A set's status: desired and ready counts, and each member's phase (members reconcile as VMs). */
  private async reconcileSet(key: string, set: VirtualMachineSet, source: StatusRecord['source']): Promise<ReconcileResult> {
    const gen = set.metadata.generation ?? 1;
    const ns = set.metadata.namespace ?? 'default';
    if (!this.rights(set.spec.template.hypervisor, ns).use) {
      // Its members are refused one by one too; the set says why in its own status.
      const r = namespaceRefusal(describeId(parseKey(key)), set.spec.template.hypervisor, ns);
      const prev = (await this.o.statuses.read(key))?.status as VirtualMachineSet['status'] | undefined;
      const status = {
        ...(prev ?? {}),
        observedGeneration: gen,
        conditions: setCondition(prev?.conditions, { type: 'Ready', status: 'False', reason: r.code, message: r.message }, gen, iso(this.o.now())),
      };
      if (!this.o.dryRun) await this.writeRecord(key, set, status, source, undefined, set);
      this.emit({ type: 'refused', key, code: r.code, message: r.message });
      return { plan: { steps: [], refusals: [r] }, ready: false };
    }
    const members = await Promise.all(
      expandSet(set).map(async (m) => {
        const st = (await this.o.statuses.read(`VirtualMachine/${m.metadata.namespace ?? 'default'}/${m.metadata.name}`))?.status as VirtualMachineStatus | undefined;
        const ready = st?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        return { name: m.metadata.name, ...(st?.phase ? { phase: st.phase } : {}), ...(m.user ? { user: m.user } : {}), ready };
      }),
    );
    const readyCount = members.filter((m) => m.ready).length;
    const prev = (await this.o.statuses.read(key))?.status as VirtualMachineSet['status'] | undefined;
    const status: NonNullable<VirtualMachineSet['status']> = {
      desired: members.length,
      ready: readyCount,
      observedGeneration: gen,
      members: members.map(({ ready: _r, ...m }) => m),
      conditions: setCondition(
        prev?.conditions,
        readyCount === members.length
          ? { type: 'Ready', status: 'True', reason: 'AllReady', message: `${readyCount}/${members.length} ready` }
          : { type: 'Ready', status: 'False', reason: 'MembersNotReady', message: `${readyCount}/${members.length} ready` },
        gen,
        iso(this.o.now()),
      ),
    };
    if (!this.o.dryRun) await this.writeRecord(key, set, status, source, undefined, set);
    return { ready: readyCount === members.length, requeueAfter: 10_000 };
  }

  /**
   * References that cannot be resolved now: a VirtualNetwork or VMTemplate held from a broken
   * file, declared only in a file that does not validate, or declared before and gone. Such a
   * name is never taken for a raw bridge or template of the same name: the VM waits, naming why.
   */
  private async unresolvedReferences(vm: VirtualMachine): Promise<string[]> {
    const refs: { kind: 'VirtualNetwork' | 'VMTemplate'; name: string }[] = [
      ...[...new Set((vm.spec.networks ?? []).flatMap((n) => (n.network ? [n.network] : [])))].map((name) => ({ kind: 'VirtualNetwork' as const, name })),
      ...(vm.spec.template ? [{ kind: 'VMTemplate' as const, name: vm.spec.template }] : []),
    ];
    const out: string[] = [];
    for (const r of refs) {
      const key = `${r.kind}/${r.name}`;
      const entry = this.o.store.get(key);
      if (entry && !entry.heldBecause) continue;
      const record = entry ? undefined : await this.o.statuses.read(key);
      // Held: in this process (run) the store keeps it; across processes (apply) its record names the broken file.
      const held = entry?.heldBecause ?? (record?.source ? this.o.store.broken.get(record.source.file) : undefined);
      if (held) out.push(`${r.kind} ${r.name} is held as it was: ${held.join('; ')}`);
      else if (this.o.store.brokenResources.has(`${r.kind} ${r.name}`)) out.push(`${r.kind} ${r.name} does not validate: ${this.o.store.brokenResources.get(`${r.kind} ${r.name}`)?.join('; ')}`);
      else if (record?.lastApplied) out.push(`${r.kind} ${r.name} is no longer declared; declare it again or change spec.${r.kind === 'VMTemplate' ? 'template' : 'networks'}`);
    }
    return out;
  }

  /** A VM whose VirtualNetworks or VMTemplate are not Ready waits, with their reason: it never half-creates. */
  private async dependenciesNotReady(vm: VirtualMachine): Promise<string | undefined> {
    const names = [...new Set((vm.spec.networks ?? []).map((n) => n.network).filter((n): n is string => !!n && this.o.store.networks().has(n)))];
    const waiting: string[] = await this.unresolvedReferences(vm);
    // A plan does not wait for what the same apply makes first; it waits only for what cannot be resolved.
    if (this.o.dryRun) return waiting.length ? waiting.join('; ') : undefined;
    for (const n of names) {
      const st = (await this.o.statuses.read(`VirtualNetwork/${n}`))?.status as VirtualNetwork['status'] | undefined;
      const ready = st?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status !== 'True') waiting.push(`VirtualNetwork ${n} is not Ready${ready?.message ? ` (${ready.message})` : ''}`);
    }
    if (vm.spec.template && this.o.store.templates().has(vm.spec.template)) {
      const st = (await this.o.statuses.read(`VMTemplate/${vm.spec.template}`))?.status as VMTemplate['status'] | undefined;
      const ready = st?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status !== 'True') waiting.push(`VMTemplate ${vm.spec.template} is not Ready${ready?.message ? ` (${ready.message})` : ''}`);
    }
    return waiting.length ? waiting.join('; ') : undefined;
  }

  /**
   * The template this VM was turned into in place (Proxmox): a VMTemplate made from it exists,
   * with the VM's own id when that is known (where the VM was copied, as on oVirt, a missing VM
   * is a VM to make again).
   */
  private convertedInto(vm: VirtualMachine, obs: Observation, knownID: string | undefined): string | undefined {
    const ns = vm.metadata.namespace ?? 'default';
    for (const t of this.o.store.templates().values()) {
      const ref = t.spec.source.fromVirtualMachine;
      if (!ref || t.spec.hypervisor !== vm.spec.hypervisor) continue;
      const id = vmRefKey(ref);
      const made = obs.templates.find((x) => x.name === templateName(t));
      if (id.namespace === ns && id.name === vm.metadata.name && made && (!knownID || made.providerID === knownID)) return templateName(t);
    }
    return undefined;
  }

  private desiredOf(vm: VirtualMachine): DesiredVM {
    const hv = this.o.store.hypervisor(vm.spec.hypervisor);
    if (!hv) throw new TerminalError(`Hypervisor ${vm.spec.hypervisor} is not defined`);
    return normaliseVM(vm, { hypervisor: hv, networks: this.o.store.networks(), templates: this.o.store.templates(), ...(this.o.instance ? { instance: this.o.instance } : {}) });
  }

  private async reconcileVM(key: string, vm: VirtualMachine, source: StatusRecord['source'], previous: StatusRecord | undefined): Promise<ReconcileResult> {
    // A restore is stopping, reverting and starting this VM: its power is the restore's until done.
    if (heldBy(key) && !this.o.dryRun) return { ready: false, requeueAfter: 2000 };
    const desired = this.desiredOf(vm);
    const prevStatus = previous?.status as VirtualMachineStatus | undefined;
    // The pending-create record (see PendingCreate): one for another name or hypervisor is stale.
    let pendingCreate: PendingCreate | undefined =
      prevStatus?.pendingCreate?.name === desired.name && prevStatus.pendingCreate.hypervisor === desired.hypervisor ? prevStatus.pendingCreate : undefined;
    const planFor = (observation: Observation) => plan({ desired, observation, capabilities: conn.client.capabilities, rights, ...(pendingCreate ? { pendingCreate } : {}) });
    const writeStatus = async (p: PlanResult, obs: Observation | undefined, extra: { error?: { code: string; message: string; retrying: boolean }; lastAction?: string } = {}) => {
      const observed = obs ? findObserved(obs, desired.owner, desired.name).mine : undefined;
      const status = nextStatus({ desired, plan: p, now: iso(this.o.now()), ...(prevStatus ? { previous: prevStatus } : {}), ...(observed ? { observed } : {}), ...extra });
      if (pendingCreate) status.pendingCreate = pendingCreate;
      const accepted = p.refusals.length === 0 ? vm : previous?.lastApplied;
      await this.writeRecord(key, vm, status, source, undefined, accepted);
      this.emit({
        type: 'status',
        key,
        ...(status.phase ? { phase: status.phase } : {}),
        ready: status.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
        message: status.conditions?.find((c) => c.type === 'Ready')?.message ?? '',
      });
      return status;
    };

    const rights = this.rights(desired.hypervisor, desired.owner.namespace ?? 'default');
    if (!rights.use) {
      // Refused before anything is read or written on the hypervisor.
      const refused: PlanResult = { steps: [], refusals: [namespaceRefusal(describeId(parseKey(key)), desired.hypervisor, desired.owner.namespace ?? 'default')] };
      for (const r of refused.refusals) this.emit({ type: 'refused', key, code: r.code, message: r.message });
      await writeStatus(refused, undefined);
      return { plan: refused, ready: false };
    }
    let conn: Connected;
    let obs: Observation;
    try {
      conn = await this.connect(desired.hypervisor);
      obs = await conn.observer.get();
    } catch (e) {
      const err = safeError(e);
      await writeStatus({ steps: [], refusals: [] }, undefined, { error: { ...err, retrying: true } });
      this.emit({ type: 'error', key, ...err, retrying: true });
      throw e;
    }
    const first = planFor(obs);
    for (const r of first.refusals) this.emit({ type: 'refused', key, code: r.code, message: r.message });
    const template = first.steps.some((s) => s.action.type === 'create') ? this.convertedInto(vm, obs, prevStatus?.providerID) : undefined;
    if (template) {
      // Proxmox turned this VM into the template a VMTemplate asked for: it is not made again.
      const status = nextStatus({ desired, plan: { steps: [], refusals: [] }, now: iso(this.o.now()), ...(prevStatus ? { previous: prevStatus } : {}) });
      status.phase = 'Stopped';
      status.plannedActions = [];
      status.conditions = setCondition(
        status.conditions,
        { type: 'Ready', status: 'True', reason: 'ConvertedToTemplate', message: `VM ${desired.name} became template ${template}; this VirtualMachine can be removed from the manifests` },
        desired.generation,
        iso(this.o.now()),
      );
      await this.writeRecord(key, vm, status, source, undefined, previous?.lastApplied ?? vm);
      // Done, not failed: nothing is left to do for it (waiting on it would never end).
      return { plan: { steps: [], refusals: [] }, ready: true };
    }
    const waitingFor = await this.dependenciesNotReady(vm);
    if (waitingFor && first.steps.some((s) => s.action.type === 'create' || s.action.type === 'attachNic' || s.action.type === 'updateNic')) {
      // Networks and templates first: never a half-made VM.
      const observed = findObserved(obs, desired.owner, desired.name).mine;
      const status = nextStatus({ desired, plan: first, now: iso(this.o.now()), waitingFor, ...(prevStatus ? { previous: prevStatus } : {}), ...(observed ? { observed } : {}) });
      if (pendingCreate) status.pendingCreate = pendingCreate;
      await this.writeRecord(key, vm, status, source, undefined, previous?.lastApplied);
      this.emit({ type: 'status', key, ...(status.phase ? { phase: status.phase } : {}), ready: 'False', message: waitingFor });
      return { plan: { ...first, steps: [], waiting: waitingFor }, ready: false, requeueAfter: 5000 };
    }
    if (this.o.dryRun || first.steps.length === 0) {
      const status = await writeStatus(first, obs);
      const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      return { plan: first, ready, requeueAfter: first.refusals.length > 0 ? undefined : first.waiting ? 5000 : ready ? conn.resyncMs : 10_000 };
    }
    // Show where the VM stands before acting (Pending before a create), then act. A create is
    // recorded first, so a crash at any point after the call is finished, not refused, next pass.
    const creates = first.steps.some((s) => s.action.type === 'create');
    if (creates && !pendingCreate) pendingCreate = { name: desired.name, hypervisor: desired.hypervisor, requestedAt: iso(this.o.now()) };
    await writeStatus(first, obs);
    let lastAction: string | undefined;
    try {
      lastAction = await this.execute(key, conn, first.steps);
    } catch (e) {
      const err = safeError(e);
      const retrying = !isFinalError(e);
      conn.observer.invalidate();
      const after = await conn.observer.get().catch(() => obs);
      await writeStatus(planFor(after), after, { error: { ...err, retrying }, ...(lastAction ? { lastAction } : {}) });
      this.emit({ type: 'error', key, ...err, retrying });
      throw e;
    }
    conn.observer.invalidate();
    const after = await conn.observer.get({ maxAgeMs: 0 });
    // The create succeeded: the record goes once the VM is seen with its marker.
    if (creates && findObserved(after, desired.owner, desired.name).mine) pendingCreate = undefined;
    const rest = planFor(after);
    const status = await writeStatus(rest, after, lastAction ? { lastAction } : {});
    const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    return { plan: rest, ready, requeueAfter: ready ? conn.resyncMs : 2000 };
  }

  /** Runs a VM's steps in order; a step after `create` gets the new VM's id from a fresh observation. */
  private async execute(key: string, conn: Connected, steps: PlannedStep[]): Promise<string | undefined> {
    let last: string | undefined;
    for (const s of steps) {
      let action = s.action;
      if ('target' in action && action.target.providerID === '') {
        conn.observer.invalidate();
        const obs = await conn.observer.get({ maxAgeMs: 0 });
        const owner = action.target.owner;
        const found = owner ? findObserved(obs, owner, action.target.name).mine : undefined;
        if (!found) throw new HypervisorUnavailableError(`VM ${action.target.name} was created but is not visible yet`);
        const target: Target = { providerID: found.providerID, name: found.name, ...(found.node ? { node: found.node } : {}), ...(found.owner ? { owner: found.owner } : {}) };
        action = { ...action, target } as typeof action;
      }
      this.emit({ type: 'action', key, phase: 'start', action: action.type, summary: s.summary });
      this.o.logger.info({ resource: key, action: action.type }, s.summary);
      try {
        await conn.limit(() =>
          conn.client.vms.execute(action, {
            onProgress: (p) => this.emit({ type: 'progress', key, action: action.type, ...(p.percent !== undefined ? { percent: p.percent } : {}), ...(p.message ? { message: p.message } : {}) }),
          }),
        );
      } catch (e) {
        const err = safeError(e);
        this.emit({ type: 'action', key, phase: 'failed', action: action.type, summary: s.summary, message: err.message });
        throw e;
      }
      if ('target' in action) conn.observer.invalidate([action.target.providerID]);
      else conn.observer.invalidate();
      this.emit({ type: 'action', key, phase: 'done', action: action.type, summary: s.summary });
      last = `${action.type}${s.live ? ' (live)' : ''}`;
    }
    return last;
  }

  private async reconcileRemoval(key: string, previous: StatusRecord): Promise<ReconcileResult> {
    const last = previous.lastApplied;
    if (last?.kind !== 'VirtualMachine') return {};
    const ns = last.metadata.namespace ?? 'default';
    const removed: Removed = {
      key,
      hypervisor: last.spec.hypervisor,
      owner: { kind: 'VirtualMachine', namespace: ns, name: last.metadata.name, ...(this.o.instance ? { instance: this.o.instance } : {}) },
      name: last.spec.name ?? last.metadata.name,
      deletionPolicy: last.spec.deletionPolicy ?? 'Delete',
      protection: last.spec.protection ?? false,
    };
    const conn = await this.connect(removed.hypervisor);
    const obs = await conn.observer.get();
    const p = plan({ removed, observation: obs, capabilities: conn.client.capabilities, rights: this.rights(removed.hypervisor, ns) });
    for (const r of p.refusals) this.emit({ type: 'refused', key, code: r.code, message: r.message });
    if (p.refusals.length > 0) {
      await this.o.statuses.write({ ...previous, status: { ...previous.status, phase: 'Failed', plannedActions: [] }, problems: p.refusals.map((r) => r.message), updatedAt: iso(this.o.now()) });
      return { plan: p, ready: false };
    }
    // The VM may be on a host that did not answer: the record stays until it can be found and removed.
    if (p.waiting && p.steps.length === 0) {
      this.emit({ type: 'status', key, ready: 'False', message: p.waiting });
      return { plan: p, requeueAfter: 5000 };
    }
    if (this.o.dryRun) {
      await this.o.statuses.write({ ...previous, status: { ...previous.status, plannedActions: p.steps.map((s) => ({ type: s.action.type, description: s.summary })) }, updatedAt: iso(this.o.now()) });
      return { plan: p };
    }
    await this.execute(key, conn, p.steps);
    await this.o.statuses.remove(key);
    this.emit({ type: 'status', key, phase: removed.deletionPolicy === 'Orphan' ? 'Orphaned' : 'Deleted', ready: 'True', message: `${describeId(parseKey(key))} removed` });
    return { plan: p, ready: true };
  }

  private async writeRecord(key: string, r: AnyResource, status: object, source: StatusRecord['source'], problems: string[] | undefined, lastApplied: AnyResource | undefined): Promise<void> {
    const id = parseKey(key);
    const record: StatusRecord = {
      key,
      kind: id.kind,
      name: id.name,
      status: status as Record<string, unknown>,
      updatedAt: iso(this.o.now()),
      ...(id.namespace ? { namespace: id.namespace } : {}),
      ...('hypervisor' in r.spec && typeof r.spec.hypervisor === 'string' ? { hypervisor: r.spec.hypervisor } : {}),
      ...(source ? { source } : {}),
      ...(problems ? { problems } : {}),
      ...(lastApplied ? { lastApplied: { ...lastApplied, status: undefined } as AnyResource } : {}),
    };
    await this.o.statuses.write(record);
  }
}

export { safeError } from '../core/errors.ts';
