// The memory provider's snapshots, after the SnapshotClient contract: every call re-checks the
// VM's marker; create is idempotent by name and marker; a revert puts back the VM's
// configuration and its guest's files (and its power, with memory); delete refuses a snapshot
// without a marker (someone else's) and succeeds for a missing one. A busy VM is locked.
import type { Target } from '../../controller/core/actions.ts';
import { ProviderConflictError, ProviderLockedError, ProviderNotFoundError, ProviderTransientError, RefusedError } from '../../controller/core/errors.ts';
import type { ObservedVM, OwnerRef } from '../../controller/core/model.ts';
import { sameOwner, type DesiredSnapshot, type ObservedSnapshot, type SnapshotClient } from '../../controller/core/provider.ts';

interface Saved {
  snapshot: ObservedSnapshot;
  vm: Pick<ObservedVM, 'cpu' | 'memoryBytes' | 'maxMemoryBytes' | 'disks' | 'nics' | 'power'>;
  files: Map<string, string>;
}

export interface MemorySnapshotsOptions {
  vm(target: Target): ObservedVM;
  files(providerID: string): Map<string, string>;
  now: () => number;
  revertNeedsStop: boolean;
}

export class MemorySnapshots implements SnapshotClient {
  readonly revertNeedsStop: boolean;
  readonly memory = true;
  readonly calls: { list: number; create: number; revert: number; delete: number } = { list: 0, create: 0, revert: 0, delete: 0 };
  /** Fails the next N reverts (after checking the VM), as a hypervisor's task might. */
  failNextRevert = 0;
  private readonly byVM = new Map<string, Saved[]>();
  private next = 1;
  private readonly o: MemorySnapshotsOptions;

  constructor(o: MemorySnapshotsOptions) {
    this.o = o;
    this.revertNeedsStop = o.revertNeedsStop;
  }

  private saved(providerID: string): Saved[] {
    let list = this.byVM.get(providerID);
    if (!list) {
      list = [];
      this.byVM.set(providerID, list);
    }
    return list;
  }

  /** Plants a snapshot as if someone made it by hand (no marker unless given). */
  plant(target: Target, name: string, owner?: OwnerRef): ObservedSnapshot {
    const vm = this.o.vm(target);
    const snapshot: ObservedSnapshot = { id: `snap-${this.next++}`, name, createdAt: new Date(this.o.now()).toISOString(), memory: false, state: 'ready', ...(owner ? { owner } : {}) };
    this.saved(vm.providerID).push({ snapshot, vm: structuredClone({ cpu: vm.cpu, memoryBytes: vm.memoryBytes, disks: vm.disks, nics: vm.nics, power: vm.power }), files: new Map() });
    return snapshot;
  }

  forgetVM(providerID: string): void {
    this.byVM.delete(providerID);
  }

  async list(target: Target): Promise<ObservedSnapshot[]> {
    const vm = this.o.vm(target);
    this.calls.list++;
    return this.saved(vm.providerID).map((s) => structuredClone(s.snapshot));
  }

  async create(target: Target, d: DesiredSnapshot): Promise<ObservedSnapshot> {
    const vm = this.o.vm(target);
    const list = this.saved(vm.providerID);
    const same = list.find((s) => s.snapshot.name === d.name);
    if (same) {
      if (!sameOwner(same.snapshot.owner, d.owner)) throw new RefusedError(`VM ${vm.name} has a snapshot ${d.name} that virtkeeper did not make for ${d.owner.name}`);
      return structuredClone(same.snapshot);
    }
    if (vm.busy || vm.migration) throw new ProviderLockedError(`VM ${vm.name} is locked (${vm.busy ?? 'migrate'})`);
    this.calls.create++;
    const memory = d.memory && vm.power === 'running';
    const sizeBytes = vm.disks.reduce((n, x) => n + Math.round(x.sizeBytes / 64), 0) + (memory ? vm.memoryBytes : 0);
    const snapshot: ObservedSnapshot = {
      id: `snap-${this.next++}`,
      name: d.name,
      ...(d.description ? { description: d.description } : {}),
      createdAt: new Date(this.o.now()).toISOString(),
      memory,
      sizeBytes,
      state: 'ready',
      owner: d.owner,
    };
    const { cpu, memoryBytes, maxMemoryBytes, disks, nics, power } = vm;
    list.push({ snapshot, vm: structuredClone({ cpu, memoryBytes, ...(maxMemoryBytes ? { maxMemoryBytes } : {}), disks, nics, power }), files: new Map(this.o.files(vm.providerID)) });
    return structuredClone(snapshot);
  }

  async revert(target: Target, snapshotID: string): Promise<void> {
    const vm = this.o.vm(target);
    const s = this.saved(vm.providerID).find((x) => x.snapshot.id === snapshotID);
    if (!s) throw new ProviderNotFoundError(`VM ${vm.name} has no snapshot ${snapshotID}`);
    if (vm.busy || vm.migration) throw new ProviderLockedError(`VM ${vm.name} is locked (${vm.busy ?? 'migrate'})`);
    if (this.revertNeedsStop && vm.power !== 'stopped') throw new ProviderConflictError(`VM ${vm.name} is ${vm.power}: stop it before a rollback`);
    if (this.failNextRevert > 0) {
      this.failNextRevert--;
      throw new ProviderTransientError(`rollback task of VM ${vm.name} failed: connection reset`);
    }
    this.calls.revert++;
    const saved = structuredClone(s.vm);
    vm.cpu = saved.cpu;
    vm.memoryBytes = saved.memoryBytes;
    vm.disks = saved.disks;
    vm.nics = saved.nics;
    // A snapshot with memory resumes where it was taken; one without leaves the VM stopped.
    vm.power = s.snapshot.memory ? saved.power : 'stopped';
    const files = this.o.files(vm.providerID);
    files.clear();
    for (const [k, v] of s.files) files.set(k, v);
  }

  async delete(target: Target, snapshotID: string): Promise<void> {
    const vm = this.o.vm(target);
    const list = this.saved(vm.providerID);
    const i = list.findIndex((x) => x.snapshot.id === snapshotID);
    if (i < 0) return;
    if (!list[i]?.snapshot.owner) throw new RefusedError(`snapshot ${list[i]?.snapshot.name} of VM ${vm.name} carries no virtkeeper marker: not deleted`);
    if (vm.busy) throw new ProviderLockedError(`VM ${vm.name} is locked (${vm.busy})`);
    this.calls.delete++;
    list.splice(i, 1);
  }
}
