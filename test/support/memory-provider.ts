// An in-memory provider for tests of the core and runtime. It follows the same contract as
// the real ones (it passes test/contract) and counts calls, so tests can assert on them.
import type { FlatProviderClient } from '../../providers/flat-client.ts';
import type { Target, VMAction } from '../../controller/core/actions.ts';
import { ProviderNotFoundError, RefusedError } from '../../controller/core/errors.ts';
import type { Capabilities, Observation, ObservedNode, ObservedVM } from '../../controller/core/model.ts';
import { sameOwner, type ActionContext, type TemplateFacts } from '../../controller/core/provider.ts';

export interface MemoryProviderOptions {
  nodes?: string[];
  templates?: string[];
  capabilities?: Partial<Capabilities>;
  /** Fails the next N executions with this error factory, then succeeds. */
  failNext?: { count: number; error: () => Error };
}

export class MemoryProvider implements FlatProviderClient {
  readonly capabilities: Capabilities;
  readonly calls: { observe: number; actions: VMAction[] } = { observe: 0, actions: [] };
  private readonly vms = new Map<string, ObservedVM>();
  private readonly nodes: ObservedNode[];
  private readonly templates: string[];
  private nextId = 100;
  failNext: MemoryProviderOptions['failNext'];

  constructor(options: MemoryProviderOptions = {}) {
    this.nodes = (options.nodes ?? ['node1', 'node2']).map((name) => ({ name, state: 'online', cpus: 16, memoryBytes: 64 * 2 ** 30, memoryUsedBytes: 0, load: 0, vms: 0 }));
    this.templates = options.templates ?? ['ubuntu-24.04'];
    this.capabilities = {
      liveCpu: true,
      liveCpuDecrease: false,
      liveCpuSocketsOnly: false,
      liveMemory: true,
      liveMigration: true,
      diskGrow: true,
      liveDiskAttach: true,
      guestAgent: false,
      linkedClone: true,
      ...options.capabilities,
    };
    this.failNext = options.failNext;
  }

  /** Plants a VM as if someone else made it (no marker unless given). */
  plant(vm: Partial<ObservedVM> & { name: string }): ObservedVM {
    const full: ObservedVM = {
      providerID: `mem/${this.nextId++}`,
      node: this.nodes[0]?.name ?? 'node1',
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
    this.vms.set(full.providerID, full);
    return full;
  }

  async observe(): Promise<Observation> {
    this.calls.observe++;
    const vms = [...this.vms.values()].map((v) => structuredClone(v));
    const nodes = this.nodes.map((n) => ({ ...n, vms: vms.filter((v) => v.node === n.name).length }));
    return { vms, nodes, templates: this.templates.map((name, i) => ({ name, providerID: `mem/tpl${i}` })), version: 'memory-1' };
  }

  async execute(action: VMAction, _context?: ActionContext): Promise<void> {
    this.calls.actions.push(action);
    if (this.failNext && this.failNext.count > 0) {
      this.failNext.count--;
      throw this.failNext.error();
    }
    if (action.type === 'create') {
      const existing = [...this.vms.values()].find((v) => v.name === action.vm.name);
      if (existing) {
        const unfinished = !existing.owner && action.resume?.providerID === existing.providerID;
        if (!sameOwner(existing.owner, action.vm.owner) && !unfinished) throw new RefusedError(`a VM named ${action.vm.name} exists and is not owned by ${action.vm.key}`);
        if (unfinished) existing.owner = action.vm.owner;
        return;
      }
      this.plant({
        name: action.vm.name,
        node: action.node ?? this.nodes[0]?.name ?? 'node1',
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
    const vm = this.vms.get(action.target.providerID);
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
        vm.power = 'running';
        vm.pendingRestart = false;
        break;
      case 'stop':
        vm.power = 'stopped';
        vm.pendingRestart = false;
        break;
      case 'restart':
        vm.power = 'running';
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
        if (vm.power === 'running') vm.power = 'stopped';
        this.vms.delete(vm.providerID);
        break;
    }
  }

  async inspectTemplate(name: string): Promise<TemplateFacts> {
    const i = this.templates.indexOf(name);
    return i < 0 ? { found: false } : { found: true, providerID: `mem/tpl${i}` };
  }

  /** Copies a stopped VM it owns into a template (as oVirt and libvirt do; the VM stays). */
  async templateFromVM(target: Target, name: string): Promise<TemplateFacts> {
    if (!this.templates.includes(name)) {
      const vm = this.vms.get(target.providerID);
      if (!vm) throw new ProviderNotFoundError(`VM ${target.providerID} not found`);
      if (!sameOwner(vm.owner, target.owner)) throw new RefusedError(`VM ${vm.name} is not owned by virtkeeper`);
      if (vm.power !== 'stopped') throw new RefusedError(`VM ${vm.name} is ${vm.power}`);
      this.templates.push(name);
    }
    return this.inspectTemplate(name);
  }

  async close(): Promise<void> {}
}
