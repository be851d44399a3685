// The engine's behaviour: VM lifecycle with its asynchrony (image_locked while disks copy,
// wait_for_launch → powering_up → up, migrating), hot-plug rules and next-run staging,
// disk growth, jobs and events.
import { GiB, id, MiB, type EngineState, type SimDisk, type SimTemplate, type SimVM, type VmConfig } from './model.ts';
import { bool, list, num, obj, type Tree } from './representation.ts';

export class Fault extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, detail: string) {
    super(detail);
    this.status = status;
    this.reason = reason;
  }
}

export const conflict = (detail: string) => new Fault(409, 'Operation Failed', detail);
export const notFound = () => new Fault(404, '', '');
export const badRequest = (detail: string) => new Fault(400, 'Incomplete parameters', detail);

export interface Timings {
  imageCopyMs: number;
  bootStepMs: number;
  migrateMs: number;
  diskResizeMs: number;
}

export class Engine {
  state: EngineState;
  readonly t: Timings;
  private readonly timers = new Set<NodeJS.Timeout>();
  constructor(state: EngineState, timings: Timings) {
    this.state = state;
    this.t = timings;
  }

  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
  }

  event(code: number, description: string, vm?: string, correlation?: string, severity: 'normal' | 'warning' | 'error' = 'normal'): void {
    const s = this.state;
    s.events.push({ id: String(s.nextEvent), index: s.nextEvent++, code, severity, time: Date.now(), description, ...(vm ? { vm } : {}), ...(correlation ? { correlation_id: correlation } : {}) });
    if (s.events.length > 5000) s.events.splice(0, s.events.length - 5000);
  }

  job(description: string, correlation: string | undefined, ms: number, done?: () => void): void {
    const j = { id: id(), description, status: 'started' as 'started' | 'finished' | 'failed', start_time: Date.now(), ...(correlation ? { correlation_id: correlation } : {}) };
    this.state.jobs.push(j);
    this.later(ms, () => {
      j.status = 'finished';
      Object.assign(j, { end_time: Date.now() });
      done?.();
    });
  }

  vm(vmId: string): SimVM {
    const v = this.state.vms.find((x) => x.id === vmId);
    if (!v) throw notFound();
    return v;
  }

  private locked(vm: SimVM, what: string): void {
    if (vm.status === 'image_locked' || vm.attachments.some((a) => this.state.disks.find((d) => d.id === a.disk)?.status === 'locked')) {
      throw conflict(`[Cannot ${what}. VM is locked. Please try again in a few minutes.]`);
    }
    if (['migrating', 'wait_for_launch', 'powering_up', 'powering_down'].includes(vm.status)) throw conflict(`[Cannot ${what}. Related operation is currently in progress. Please try again later.]`);
  }

  createVm(body: Tree, clone: boolean, correlation: string | undefined): SimVM {
    const s = this.state;
    const name = typeof body.name === 'string' ? body.name : undefined;
    if (!name) throw badRequest('[Vm [name] required for add]');
    const clusterRef = obj(body.cluster);
    const cluster = s.clusters.find((c) => c.id === clusterRef.id || c.name === clusterRef.name);
    if (!cluster) throw badRequest('[Vm [cluster.id|name] required for add]');
    const tplRef = obj(body.template);
    const tpl = s.templates.find((t) => t.id === tplRef.id || t.name === tplRef.name);
    if (!tpl) throw badRequest('[Vm [template.id|name] required for add]');
    if (s.vms.some((v) => v.name === name)) throw conflict('[Cannot add VM. The VM name is already in use, please choose a unique name and try again.]');
    const topo = obj(obj(body.cpu).topology);
    const policy = obj(body.memory_policy);
    const memory = num(body.memory) ?? tpl.memory;
    const vm: SimVM = {
      id: id(),
      name,
      cluster: cluster.id,
      template: tpl.id,
      status: 'image_locked',
      creation_time: Date.now(),
      started_once: false,
      tags: [],
      config: {
        memory,
        max_memory: num(policy.max) ?? memory * 4,
        sockets: num(topo.sockets) ?? tpl.sockets,
        cores: num(topo.cores) ?? tpl.cores,
        threads: num(topo.threads) ?? 1,
        description: String(body.description ?? ''),
        comment: String(body.comment ?? ''),
        delete_protected: bool(body.delete_protected) ?? false,
      },
      attachments: [],
      nics: [],
      ...(body.initialization ? { initialization: obj(body.initialization) } : {}),
    };
    const sd = s.storagedomains[0]?.id ?? '';
    for (const td of tpl.disks) {
      const disk = {
        id: id(),
        name: `${name}_${td.alias}`,
        provisioned_size: td.size,
        actual_size: clone ? td.size : GiB,
        status: 'locked' as 'locked' | 'ok',
        format: 'cow' as const,
        storage_domain: sd,
        sparse: true,
      };
      s.disks.push(disk);
      vm.attachments.push({ id: disk.id, disk: disk.id, interface: td.interface, bootable: true, active: true });
    }
    const mgmt = s.vnicprofiles.find((p) => p.name === 'ovirtmgmt');
    if (tpl.name !== 'Blank') vm.nics.push({ id: id(), name: 'nic1', interface: 'virtio', mac: mac(), ...(mgmt ? { vnic_profile: mgmt.id } : {}), plugged: true, linked: true });
    s.vms.push(vm);
    this.event(37, `VM ${name} creation was initiated by admin@internal-authz.`, vm.id, correlation);
    this.job(`Creating VM ${name} from Template ${tpl.name} in Cluster ${cluster.name}`, correlation, this.t.imageCopyMs, () => {
      vm.status = 'down';
      for (const a of vm.attachments) {
        const d = s.disks.find((x) => x.id === a.disk);
        if (d) d.status = 'ok';
      }
      this.event(53, `VM ${name} creation has been completed.`, vm.id, correlation);
    });
    return vm;
  }

  /** Edits a VM: live where the hot-plug rules allow, the rest in the next-run configuration. */
  updateVm(vm: SimVM, body: Tree, nextRunOnly: boolean): void {
    this.locked(vm, 'edit VM');
    const topo = obj(obj(body.cpu).topology);
    const policy = obj(body.memory_policy);
    const want: Partial<VmConfig> = {};
    if (body.memory !== undefined) want.memory = num(body.memory) ?? vm.config.memory;
    if (policy.max !== undefined) want.max_memory = num(policy.max) ?? vm.config.max_memory;
    for (const k of ['sockets', 'cores', 'threads'] as const) if (topo[k] !== undefined) want[k] = num(topo[k]) ?? vm.config[k];
    if (body.description !== undefined) vm.config.description = String(body.description);
    if (body.comment !== undefined) vm.config.comment = String(body.comment);
    if (body.delete_protected !== undefined) vm.config.delete_protected = bool(body.delete_protected) ?? false;
    if (body.name !== undefined && body.name !== vm.name) vm.name = String(body.name);
    if (body.initialization !== undefined) vm.initialization = obj(body.initialization);
    const running = vm.status === 'up';
    const staged: Partial<VmConfig> = { ...(vm.next_run ?? {}) };
    for (const [k, v] of Object.entries(want) as [keyof VmConfig, number][]) {
      if (v === vm.config[k]) continue;
      let live = !running;
      if (running && !nextRunOnly) {
        if (k === 'sockets') live = v > vm.config.sockets;
        else if (k === 'memory') {
          const max = want.max_memory ?? vm.config.max_memory;
          live = v > vm.config.memory && v <= max && (v - vm.config.memory) % (256 * MiB) === 0;
          if (v > max) throw new Fault(400, 'Operation Failed', `[Cannot set memory: the memory size ${v / MiB} MB exceeds the maximum ${max / MiB} MB.]`);
        }
      }
      if (live) {
        (vm.config as unknown as Record<string, number>)[k] = v;
        delete (staged as Record<string, number>)[k];
      } else (staged as Record<string, number>)[k] = v;
    }
    if (Object.keys(staged).length > 0) vm.next_run = staged;
    else delete vm.next_run;
    this.event(35, `VM ${vm.name} configuration was updated by admin@internal-authz.`, vm.id);
  }

  private applyNextRun(vm: SimVM): void {
    if (vm.next_run) Object.assign(vm.config, vm.next_run);
    delete vm.next_run;
  }

  action(vm: SimVM, name: string, body: Tree, correlation: string | undefined): void {
    const s = this.state;
    switch (name) {
      case 'start': {
        this.locked(vm, 'run VM');
        if (vm.status !== 'down') throw conflict('[Cannot run VM. VM is running.]');
        const hostRef = obj(obj(obj(body.vm).placement_policy).hosts);
        const host = s.hosts.find((h) => h.status === 'up' && (list(hostRef.host).length === 0 || list(hostRef.host).some((x) => x.id === h.id || x.name === h.name))) ?? s.hosts[0];
        if (bool(body.use_cloud_init) && obj(body.vm).initialization) vm.initialization = obj(obj(body.vm).initialization);
        this.applyNextRun(vm);
        vm.status = 'wait_for_launch';
        if (host) vm.host = host.id;
        vm.started_once = true;
        vm.start_time = Date.now();
        delete vm.stop_reason;
        this.event(153, `VM ${vm.name} was started by admin@internal-authz (Host: ${host?.name}).`, vm.id, correlation);
        this.job(`Launching VM ${vm.name}`, correlation, this.t.bootStepMs * 2);
        this.later(this.t.bootStepMs, () => {
          if (vm.status === 'wait_for_launch') vm.status = 'powering_up';
          this.later(this.t.bootStepMs, () => {
            if (vm.status === 'powering_up') {
              vm.status = 'up';
              this.event(32, `VM ${vm.name} started on Host ${host?.name}`, vm.id, correlation);
            }
          });
        });
        return;
      }
      case 'stop':
      case 'shutdown':
        if (vm.status === 'down') throw conflict(`[Cannot ${name} VM. VM is not running.]`);
        if (vm.status === 'image_locked') this.locked(vm, `${name} VM`);
        vm.status = name === 'shutdown' ? 'powering_down' : 'down';
        if (body.reason) vm.stop_reason = String(body.reason);
        this.event(name === 'stop' ? 33 : 73, `VM ${vm.name} ${name === 'stop' ? 'powered off' : 'shutdown initiated'} by admin@internal-authz.`, vm.id, correlation);
        this.later(name === 'shutdown' ? this.t.bootStepMs : 0, () => {
          vm.status = 'down';
          vm.stop_time = Date.now();
          delete vm.host;
          this.applyNextRun(vm);
        });
        return;
      case 'reboot':
        if (vm.status !== 'up') throw conflict('[Cannot reboot VM. VM is not running.]');
        vm.status = 'reboot_in_progress';
        this.event(157, `VM ${vm.name} is rebooting.`, vm.id, correlation);
        this.later(this.t.bootStepMs, () => {
          this.applyNextRun(vm);
          vm.status = 'up';
        });
        return;
      case 'migrate': {
        this.locked(vm, 'migrate VM');
        if (vm.status !== 'up') throw conflict('[Cannot migrate VM. VM is not running.]');
        const ref = obj(body.host);
        const target = ref.id || ref.name ? s.hosts.find((h) => h.id === ref.id || h.name === ref.name) : s.hosts.find((h) => h.id !== vm.host);
        if (!target) throw badRequest('[Cannot migrate VM. Destination host does not exist.]');
        if (target.id === vm.host) throw conflict('[Cannot migrate VM. Destination host is the same as the source host.]');
        vm.status = 'migrating';
        vm.migrating_to = target.id;
        this.event(62, `Migration started (VM: ${vm.name}, Destination: ${target.name}).`, vm.id, correlation);
        this.job(`Migrating VM ${vm.name} to Host ${target.name}`, correlation, this.t.migrateMs, () => {
          if (vm.status !== 'migrating') return;
          vm.status = 'up';
          vm.host = target.id;
          delete vm.migrating_to;
          this.event(63, `Migration completed (VM: ${vm.name}, Destination: ${target.name}).`, vm.id, correlation);
        });
        return;
      }
      case 'cancelmigration':
        if (vm.status !== 'migrating') throw conflict('[Cannot cancel migration for non migrating VM.]');
        vm.status = 'up';
        delete vm.migrating_to;
        return;
      default:
        throw notFound();
    }
  }

  /** As the engine: the VM's attached disks go with it, unless `detach_only` keeps them all (floating). */
  deleteVm(vm: SimVM, options: { detachOnly?: boolean } = {}): void {
    this.locked(vm, 'remove VM');
    if (vm.status !== 'down') throw conflict('[Cannot remove VM. VM is running.]');
    if (vm.config.delete_protected) throw conflict('[Cannot remove VM. Delete protection is enabled. In order to delete, disable Delete protection first.]');
    this.state.vms = this.state.vms.filter((v) => v !== vm);
    if (!options.detachOnly) this.state.disks = this.state.disks.filter((d) => !vm.attachments.some((a) => a.disk === d.id));
    this.event(113, `VM ${vm.name} was successfully removed.`, vm.id);
  }

  growDisk(vm: SimVM, attachmentId: string, size: number): void {
    const a = vm.attachments.find((x) => x.id === attachmentId);
    const d = a && this.state.disks.find((x) => x.id === a.disk);
    if (!a || !d) throw notFound();
    this.growFloating(d, size);
  }

  /** A disk of its own (`POST /disks`), or one made by a disk attachment. */
  newDisk(disk: Tree, fallbackName: string): SimDisk {
    const size = num(disk.provisioned_size);
    if (!size) throw badRequest('[Disk [provisionedSize] required for add]');
    const sdRef = obj(list(obj(disk.storage_domains).storage_domain)[0]);
    const sd = this.state.storagedomains.find((x) => x.id === sdRef.id || x.name === sdRef.name) ?? (sdRef.id || sdRef.name ? undefined : this.state.storagedomains[0]);
    if (!sd) throw badRequest(`[Cannot add Virtual Disk. Storage Domain doesn't exist.]`);
    const d: SimDisk = {
      id: id(),
      name: String(disk.alias ?? disk.name ?? fallbackName),
      provisioned_size: size,
      actual_size: GiB,
      status: 'locked',
      format: disk.format === 'raw' ? 'raw' : 'cow',
      storage_domain: sd.id,
      sparse: disk.format !== 'raw',
      ...(disk.description ? { description: String(disk.description) } : {}),
    };
    this.state.disks.push(d);
    this.later(this.t.diskResizeMs, () => {
      d.status = 'ok';
    });
    return d;
  }

  /** The VM a disk is attached to, if any (disks here are not shareable). */
  holderOf(diskId: string): SimVM | undefined {
    return this.state.vms.find((v) => v.attachments.some((a) => a.disk === diskId));
  }

  /** Grows a disk, attached or not (`PUT /disks/{id}` or through its attachment). */
  updateDisk(d: SimDisk, change: { alias?: string; description?: string }): void {
    if (d.status === 'locked' && (change.alias !== undefined || change.description !== undefined)) throw conflict('[Cannot edit Virtual Disk. Disk is locked. Please try again later.]');
    if (change.alias !== undefined) d.name = change.alias;
    if (change.description !== undefined) d.description = change.description;
  }

  growFloating(d: SimDisk, size: number): void {
    if (d.status === 'locked') throw conflict('[Cannot edit Virtual Disk. Disk is locked. Please try again later.]');
    if (size < d.provisioned_size) throw new Fault(400, 'Operation Failed', '[Cannot edit Virtual Disk. New disk size cannot be smaller than the current.]');
    if (size === d.provisioned_size) return;
    d.status = 'locked';
    this.job(`Extending disk ${d.name}`, undefined, this.t.diskResizeMs, () => {
      d.provisioned_size = size;
      d.status = 'ok';
      this.event(371, `Size of the disk '${d.name}' was successfully updated to ${size / GiB} GB by admin@internal-authz.`, this.holderOf(d.id)?.id);
    });
  }

  removeDisk(d: SimDisk): void {
    const vm = this.holderOf(d.id);
    if (d.status === 'locked') throw conflict('[Cannot remove Virtual Disk. Disk is locked. Please try again later.]');
    if (vm && vm.status !== 'down') throw conflict(`[Cannot remove Virtual Disk. At least one of the VMs is not down.]`);
    if (vm) vm.attachments = vm.attachments.filter((a) => a.disk !== d.id);
    this.state.disks = this.state.disks.filter((x) => x !== d);
    this.event(2014, `Disk ${d.name} was successfully removed from domain by admin@internal-authz.`, vm?.id);
  }

  /** `POST /vms/{id}/diskattachments`: a new disk, or an existing floating one by id (hot-plugged when the VM is up). */
  addDisk(vm: SimVM, body: Tree): SimVM['attachments'][number] {
    const disk = obj(body.disk);
    let d: SimDisk | undefined;
    if (disk.id) {
      this.locked(vm, 'attach Virtual Disk');
      d = this.state.disks.find((x) => x.id === disk.id);
      if (!d) throw notFound();
      const holder = this.holderOf(d.id);
      if (holder) throw conflict(`[Cannot attach Virtual Disk. The disk is not shareable and it is already attached to VM ${holder.name}.]`);
      if (d.status === 'locked') throw conflict('[Cannot attach Virtual Disk. Disk is locked. Please try again later.]');
    } else {
      if (!num(disk.provisioned_size)) throw badRequest('[DiskAttachment [disk.provisionedSize] required for add]');
      d = this.newDisk(disk, `${vm.name}_Disk${vm.attachments.length + 1}`);
    }
    const a = { id: d.id, disk: d.id, interface: String(body.interface ?? 'virtio'), bootable: bool(body.bootable) ?? false, active: bool(body.active) ?? true };
    vm.attachments.push(a);
    if (disk.id) this.event(97, `The disk ${d.name} was successfully attached to VM ${vm.name} by admin@internal-authz.`, vm.id);
    return a;
  }

  /** `POST /templates` with a VM: the VM must be down; the template is locked while its disks copy. */
  templateFromVm(body: Tree, vm: SimVM, correlation: string | undefined): SimTemplate {
    const name = typeof body.name === 'string' ? body.name : undefined;
    if (!name) throw badRequest('[Template [name] required for add]');
    if (this.state.templates.some((t) => t.name === name)) throw conflict('[Cannot add Template. The given name is already in use. Please choose a unique name and try again.]');
    this.locked(vm, 'add Template');
    if (vm.status !== 'down') throw conflict('[Cannot add Template. VM is not down.]');
    const disks = vm.attachments.map((a) => {
      const d = this.state.disks.find((x) => x.id === a.disk);
      return { alias: d?.name ?? a.id, size: d?.provisioned_size ?? 0, interface: a.interface };
    });
    const t: SimTemplate = {
      id: id(),
      name,
      cluster: vm.cluster,
      memory: vm.config.memory,
      sockets: vm.config.sockets,
      cores: vm.config.cores,
      status: 'locked',
      disks,
      ...(body.description ? { description: String(body.description) } : {}),
    };
    this.state.templates.push(t);
    vm.status = 'image_locked';
    this.job(`Creating Template ${name} from VM ${vm.name}`, correlation, this.t.imageCopyMs, () => {
      t.status = 'ok';
      vm.status = 'down';
      this.event(52, `Creation of Template ${name} from VM ${vm.name} has been completed.`, vm.id);
    });
    return t;
  }
}

let macSeq = 0x100;
function mac(): string {
  const n = macSeq++;
  return `56:6f:${((n >> 24) & 255).toString(16).padStart(2, '0')}:${((n >> 16) & 255).toString(16).padStart(2, '0')}:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
}
export { mac };
