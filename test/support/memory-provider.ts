// An in-memory provider for tests of the core and runtime: a native per-kind ProviderClient
// (vms, templates, guest, snapshots) that follows the same contract as the real ones (it passes
// test/contract) and counts calls, so tests can assert on them.
import type { Target, VMAction } from '../../controller/core/actions.ts';
import { ProviderNotFoundError, ProviderTransientError, RefusedError } from '../../controller/core/errors.ts';
import type { Capabilities, Observation, ObservedNode, ObservedVM } from '../../controller/core/model.ts';
import { sameOwner, type ActionContext, type GuestClient, type ProviderClient, type SnapshotClient, type TemplateClient, type TemplateFacts, type VMClient } from '../../controller/core/provider.ts';
import { pino } from 'pino';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { MemorySnapshots } from './memory-snapshots.ts';

export interface MemoryProviderOptions {
  nodes?: string[];
  templates?: string[];
  capabilities?: Partial<Capabilities>;
  /** Fails the next N executions with this error factory, then succeeds. */
  failNext?: { count: number; error: () => Error };
  /** A guest agent in every running VM: `guest.freeze`/`thaw` are offered (absent otherwise). */
  guestAgent?: boolean;
  /** The provider's clock (snapshot creation times); Date.now by default. */
  now?: () => number;
  /** Whether a revert needs the VM stopped (default true, as on most hypervisors). */
  revertNeedsStop?: boolean;
}

/** What a VM holds that a test can change and a snapshot saves: its guest's files. */
export type GuestFiles = Map<string, string>;

export class MemoryProvider implements ProviderClient {
  readonly capabilities: Capabilities;
  readonly calls: { observe: number; actions: VMAction[]; freezes: number; thaws: number } = { observe: 0, actions: [], freezes: 0, thaws: 0 };
  readonly vms: VMClient;
  readonly templates: TemplateClient;
  readonly guest: GuestClient;
  readonly snapshots: SnapshotClient & MemorySnapshots;
  /** Every VM by provider id (tests read and change it). */
  readonly machines = new Map<string, ObservedVM>();
  /** VMs (by name) whose guest agent does not answer. */
  readonly silentAgents = new Set<string>();
  /** Each VM's guest files by provider id. */
  readonly files = new Map<string, GuestFiles>();
  private readonly hosts: ObservedNode[];
  private readonly templateNames: string[];
  private nextId = 100;
  failNext: MemoryProviderOptions['failNext'];

  constructor(options: MemoryProviderOptions = {}) {
    this.hosts = (options.nodes ?? ['node1', 'node2']).map((name) => ({ name, state: 'online', cpus: 16, memoryBytes: 64 * 2 ** 30, memoryUsedBytes: 0, load: 0, vms: 0 }));
    this.templateNames = options.templates ?? ['ubuntu-24.04'];
    this.capabilities = {
      liveCpu: true,
      liveCpuDecrease: false,
      liveCpuSocketsOnly: false,
      liveMemory: true,
      liveMigration: true,
      diskGrow: true,
      liveDiskAttach: true,
      guestAgent: options.guestAgent ?? false,
      linkedClone: true,
      ...options.capabilities,
    };
    this.failNext = options.failNext;
    this.vms = { observe: () => this.observe(), execute: (a, c) => this.execute(a, c) };
    this.templates = { inspect: (name) => this.inspectTemplate(name), fromVM: (t, name) => this.templateFromVM(t, name) };
    this.snapshots = new MemorySnapshots({ vm: (t) => this.ownedVM(t), files: (id) => this.filesOf(id), now: options.now ?? Date.now, revertNeedsStop: options.revertNeedsStop ?? true });
    const exec: GuestClient['exec'] = async (target, command) => {
      this.ownedVM(target);
      return { exitCode: 0, stdout: `${command.join(' ')}\n`, stderr: '' };
    };
    this.guest = options.guestAgent
      ? {
          exec,
          freeze: async (target) => {
            const vm = this.ownedVM(target);
            if (vm.power !== 'running' || this.silentAgents.has(vm.name)) throw new ProviderTransientError(`VM ${vm.name}: the guest agent is not answering`);
            this.calls.freezes++;
            return vm.disks.length;
          },
          thaw: async (target) => {
            this.ownedVM(target);
            this.calls.thaws++;
          },
        }
      : { exec };
  }

  /** Plants a VM as if someone else made it (no marker unless given). */
  plant(vm: Partial<ObservedVM> & { name: string }): ObservedVM {
    const full: ObservedVM = {
      providerID: `mem/${this.nextId++}`,
      node: this.hosts[0]?.name ?? 'node1',
      power: 'stopped',
      cpu: { sockets: 1, cores: 1, threads: 1 },
      memoryBytes: 2 ** 30,
      disks: [{ name: 'disk0', sizeBytes: 2 ** 30 }],
      nics: [],
      isTemplate: false,
      ipAddresses: [],
      pendingRestart: false,
      ...vm,
    };
    this.machines.set(full.providerID, full);
    return full;
  }

  /** The VM of this name, if any (tests). */
  byName(name: string): ObservedVM | undefined {
    return [...this.machines.values()].find((v) => v.name === name);
  }

  private filesOf(providerID: string): GuestFiles {
    let f = this.files.get(providerID);
    if (!f) {
      f = new Map();
      this.files.set(providerID, f);
    }
    return f;
  }

  /** Writes a file in a VM's guest (what a restore must take back). */
  writeGuestFile(vmName: string, path: string, content: string): void {
    const vm = this.byName(vmName);
    if (!vm) throw new Error(`no VM ${vmName}`);
    this.filesOf(vm.providerID).set(path, content);
  }

  /** The VM, when its marker names target.owner (every destructive call checks it first). */
  private ownedVM(target: Target): ObservedVM {
    const vm = this.machines.get(target.providerID);
    if (!vm) throw new ProviderNotFoundError(`VM ${target.providerID} not found`);
    if (!sameOwner(vm.owner, target.owner)) throw new RefusedError(`VM ${vm.name} is not owned by virtkeeper (refused)`);
    return vm;
  }

  async observe(): Promise<Observation> {
    this.calls.observe++;
    const vms = [...this.machines.values()].map((v) => structuredClone(v));
    const nodes = this.hosts.map((n) => ({ ...n, vms: vms.filter((v) => v.node === n.name).length }));
    return { vms, nodes, templates: this.templateNames.map((name, i) => ({ name, providerID: `mem/tpl${i}` })), version: 'memory-1' };
  }

  async execute(action: VMAction, _context?: ActionContext): Promise<void> {
    this.calls.actions.push(action);
    if (this.failNext && this.failNext.count > 0) {
      this.failNext.count--;
      throw this.failNext.error();
    }
    if (action.type === 'create') {
      const existing = this.byName(action.vm.name);
      if (existing) {
        const unfinished = !existing.owner && action.resume?.providerID === existing.providerID;
        if (!sameOwner(existing.owner, action.vm.owner) && !unfinished) throw new RefusedError(`a VM named ${action.vm.name} exists and is not owned by ${action.vm.key}`);
        if (unfinished) existing.owner = action.vm.owner;
        return;
      }
      this.plant({
        name: action.vm.name,
        node: action.node ?? this.hosts[0]?.name ?? 'node1',
        owner: action.vm.owner,
        cpu: { ...action.vm.cpu },
        memoryBytes: action.vm.memoryBytes,
        ...(action.vm.maxMemoryBytes ? { maxMemoryBytes: action.vm.maxMemoryBytes } : {}),
        disks: action.vm.disks.map((d, i) => ({ name: `disk${i}`, sizeBytes: d.sizeBytes })),
        nics: action.vm.nics.map((n, i) => ({ name: `net${i}`, ...(n.network ? { network: n.network } : {}), ...(n.vlan ? { vlan: n.vlan } : {}), model: n.model })),
        ...(action.vm.autostart !== undefined ? { autostart: action.vm.autostart } : {}),
      });
      return;
    }
    const vm = this.machines.get(action.target.providerID);
    if (!vm) {
      if (action.type === 'delete') return;
      throw new ProviderNotFoundError(`VM ${action.target.providerID} not found`);
    }
    if (action.type !== 'adopt' && action.type !== 'start' && !sameOwner(vm.owner, action.target.owner)) {
      throw new RefusedError(`VM ${vm.name} is not owned by virtkeeper (${action.type} refused)`);
    }
    switch (action.type) {
      case 'adopt':
        vm.owner = action.owner;
        vm.adopted = true;
        break;
      case 'mark':
        vm.owner = action.owner;
        break;
      case 'start':
      case 'restart':
        vm.power = 'running';
        vm.pendingRestart = false;
        break;
      case 'stop':
        vm.power = 'stopped';
        vm.pendingRestart = false;
        break;
      case 'reconfigure':
        if (action.cpu) vm.cpu = { ...action.cpu };
        if (action.memoryBytes) vm.memoryBytes = action.memoryBytes;
        if (action.maxMemoryBytes) vm.maxMemoryBytes = action.maxMemoryBytes;
        if (action.mode === 'staged') vm.pendingRestart = true;
        break;
      case 'growDisk': {
        const d = vm.disks[action.index];
        if (d && d.sizeBytes < action.sizeBytes) d.sizeBytes = action.sizeBytes;
        break;
      }
      case 'attachDisk':
        vm.disks[action.index] = { name: `disk${action.index}`, sizeBytes: action.disk.sizeBytes };
        break;
      case 'detachDisk':
        vm.disks.splice(action.index, 1);
        break;
      case 'attachNic':
      case 'updateNic':
        vm.nics[action.index] = {
          name: `net${action.index}`,
          ...(action.nic.network ? { network: action.nic.network } : {}),
          ...(action.nic.vlan ? { vlan: action.nic.vlan } : {}),
          model: action.nic.model,
        };
        break;
      case 'detachNic':
        vm.nics.splice(action.index, 1);
        break;
      case 'migrate':
        vm.node = action.to;
        break;
      case 'setAutostart':
        vm.autostart = action.enabled;
        break;
      case 'delete':
        this.machines.delete(vm.providerID);
        this.files.delete(vm.providerID);
        this.snapshots.forgetVM(vm.providerID);
        break;
    }
  }

  async inspectTemplate(name: string): Promise<TemplateFacts> {
    const i = this.templateNames.indexOf(name);
    return i < 0 ? { found: false } : { found: true, providerID: `mem/tpl${i}` };
  }

  /** Copies a stopped VM it owns into a template (as oVirt and libvirt do; the VM stays). */
  async templateFromVM(target: Target, name: string): Promise<TemplateFacts> {
    if (!this.templateNames.includes(name)) {
      const vm = this.machines.get(target.providerID);
      if (!vm) throw new ProviderNotFoundError(`VM ${target.providerID} not found`);
      if (!sameOwner(vm.owner, target.owner)) throw new RefusedError(`VM ${vm.name} is not owned by virtkeeper`);
      if (vm.power !== 'stopped') throw new RefusedError(`VM ${vm.name} is ${vm.power}`);
      this.templateNames.push(name);
    }
    return this.inspectTemplate(name);
  }

  async close(): Promise<void> {}
}

/** A pool whose every Hypervisor is `provider` (as a proxmox one), observed afresh on each read. */
export function memoryPool(provider: MemoryProvider, now: () => number = Date.now): HypervisorPool {
  return new HypervisorPool({
    loadConnector: async () => ({ type: 'proxmox', connect: async () => provider }),
    credentials: async () => ({ none: true }),
    logger: pino({ level: 'silent' }),
    now,
    observeMaxAgeMs: 0,
  });
}
