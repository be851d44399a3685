// A VM's lifecycle in the engine: creation from a template (image_locked while its disks copy),
// edits live or staged for the next run by the hot-plug rules, power actions, migration, removal.
import type { EngineCore } from '../engine-core.ts';
import { badRequest, conflict, Fault, notFound } from '../faults.ts';
import { GiB, id, mac, MiB, type SimVM, type VmConfig } from '../model.ts';
import { bool, list, num, obj, type Tree } from '../representation.ts';

function resumeMemory(e: EngineCore, vm: SimVM, host: string | undefined): void {
  vm.status = 'restoring_state';
  vm.started_once = true;
  if (host) vm.host = host;
  vm.start_time = Date.now();
  delete vm.resume_memory;
  e.later(e.t.bootStepMs, () => {
    if (vm.status !== 'restoring_state') return;
    vm.status = 'up';
    e.event(10, `VM ${vm.name} was restored from the memory of a snapshot.`, vm.id);
  });
}

export function createVm(e: EngineCore, body: Tree, clone: boolean, correlation: string | undefined): SimVM {
  const s = e.state;
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
  e.event(37, `VM ${name} creation was initiated by admin@internal-authz.`, vm.id, correlation);
  e.job(`Creating VM ${name} from Template ${tpl.name} in Cluster ${cluster.name}`, correlation, e.t.imageCopyMs, () => {
    vm.status = 'down';
    for (const a of vm.attachments) {
      const d = s.disks.find((x) => x.id === a.disk);
      if (d) d.status = 'ok';
    }
    e.event(53, `VM ${name} creation has been completed.`, vm.id, correlation);
  });
  return vm;
}

/** Edits a VM: live where the hot-plug rules allow, the rest in the next-run configuration. */
export function updateVm(e: EngineCore, vm: SimVM, body: Tree, nextRunOnly: boolean): void {
  e.locked(vm, 'edit VM');
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
  e.event(35, `VM ${vm.name} configuration was updated by admin@internal-authz.`, vm.id);
}

function applyNextRun(vm: SimVM): void {
  if (vm.next_run) Object.assign(vm.config, vm.next_run);
  delete vm.next_run;
}

export function action(e: EngineCore, vm: SimVM, name: string, body: Tree, correlation: string | undefined): void {
  const s = e.state;
  switch (name) {
    case 'start': {
      e.locked(vm, 'run VM');
      if (vm.status !== 'down') throw conflict('[Cannot run VM. VM is running.]');
      const hostRef = obj(obj(obj(body.vm).placement_policy).hosts);
      const host = s.hosts.find((h) => h.status === 'up' && (list(hostRef.host).length === 0 || list(hostRef.host).some((x) => x.id === h.id || x.name === h.name))) ?? s.hosts[0];
      if (bool(body.use_cloud_init) && obj(body.vm).initialization) vm.initialization = obj(obj(body.vm).initialization);
      applyNextRun(vm);
      // Memory a snapshot restore brought back is resumed, not booted (engine/snapshots.ts).
      if (vm.resume_memory) {
        resumeMemory(e, vm, host?.id);
        return;
      }
      vm.status = 'wait_for_launch';
      if (host) vm.host = host.id;
      vm.started_once = true;
      vm.start_time = Date.now();
      delete vm.stop_reason;
      e.event(153, `VM ${vm.name} was started by admin@internal-authz (Host: ${host?.name}).`, vm.id, correlation);
      // The launch job ends as the VM comes up: one who waits on the job finds it up.
      e.job(`Launching VM ${vm.name}`, correlation, e.t.bootStepMs * 2, () => {
        if (vm.status === 'powering_up') {
          vm.status = 'up';
          e.event(32, `VM ${vm.name} started on Host ${host?.name}`, vm.id, correlation);
        }
      });
      e.later(e.t.bootStepMs, () => {
        if (vm.status === 'wait_for_launch') vm.status = 'powering_up';
      });
      return;
    }
    case 'stop':
    case 'shutdown':
      if (vm.status === 'down') throw conflict(`[Cannot ${name} VM. VM is not running.]`);
      if (vm.status === 'image_locked') e.locked(vm, `${name} VM`);
      vm.status = name === 'shutdown' ? 'powering_down' : 'down';
      if (body.reason) vm.stop_reason = String(body.reason);
      e.event(name === 'stop' ? 33 : 73, `VM ${vm.name} ${name === 'stop' ? 'powered off' : 'shutdown initiated'} by admin@internal-authz.`, vm.id, correlation);
      e.later(name === 'shutdown' ? e.t.bootStepMs : 0, () => {
        vm.status = 'down';
        vm.stop_time = Date.now();
        delete vm.host;
        applyNextRun(vm);
      });
      return;
    case 'reboot':
      if (vm.status !== 'up') throw conflict('[Cannot reboot VM. VM is not running.]');
      vm.status = 'reboot_in_progress';
      e.event(157, `VM ${vm.name} is rebooting.`, vm.id, correlation);
      e.later(e.t.bootStepMs, () => {
        applyNextRun(vm);
        vm.status = 'up';
      });
      return;
    case 'migrate': {
      e.locked(vm, 'migrate VM');
      if (vm.status !== 'up') throw conflict('[Cannot migrate VM. VM is not running.]');
      const ref = obj(body.host);
      const target = ref.id || ref.name ? s.hosts.find((h) => h.id === ref.id || h.name === ref.name) : s.hosts.find((h) => h.id !== vm.host);
      if (!target) throw badRequest('[Cannot migrate VM. Destination host does not exist.]');
      if (target.id === vm.host) throw conflict('[Cannot migrate VM. Destination host is the same as the source host.]');
      vm.status = 'migrating';
      vm.migrating_to = target.id;
      vm.migration_window = { from: Date.now(), to: Date.now() + e.t.migrateMs };
      e.event(62, `Migration started (VM: ${vm.name}, Destination: ${target.name}).`, vm.id, correlation);
      e.job(`Migrating VM ${vm.name} to Host ${target.name}`, correlation, e.t.migrateMs, () => {
        if (vm.status !== 'migrating') return;
        vm.status = 'up';
        vm.host = target.id;
        delete vm.migrating_to;
        delete vm.migration_window;
        e.event(63, `Migration completed (VM: ${vm.name}, Destination: ${target.name}).`, vm.id, correlation);
      });
      return;
    }
    case 'cancelmigration':
      if (vm.status !== 'migrating') throw conflict('[Cannot cancel migration for non migrating VM.]');
      vm.status = 'up';
      delete vm.migrating_to;
      delete vm.migration_window;
      return;
    default:
      throw notFound();
  }
}

/** As the engine: the VM's attached disks go with it, unless `detach_only` keeps them all (floating). */
export function deleteVm(e: EngineCore, vm: SimVM, options: { detachOnly?: boolean } = {}): void {
  e.locked(vm, 'remove VM');
  if (vm.status !== 'down') throw conflict('[Cannot remove VM. VM is running.]');
  if (vm.config.delete_protected) throw conflict('[Cannot remove VM. Delete protection is enabled. In order to delete, disable Delete protection first.]');
  e.state.vms = e.state.vms.filter((v) => v !== vm);
  if (!options.detachOnly) e.state.disks = e.state.disks.filter((d) => !vm.attachments.some((a) => a.disk === d.id));
  e.event(113, `VM ${vm.name} was successfully removed.`, vm.id);
}
