// /nodes/{node}/qemu/...: list, create, clone, power, template, migrate and delete, each
// writing a task as on a real node; the config and guest-agent routes live beside it.
import { ANY, BOOL, INT, NAME, PveError, paramError, truthy, type Route } from './http.ts';
import { DISK_KEY, diskSize, isDataDisk, volumeOwner, type SimVM } from './model.ts';
import { agentRoutes } from './qemu-agent.ts';
import { checkLock, findVM, taskStarter, type QemuEnv } from './qemu-common.ts';
import { applyConfig, applyPending, assignMacs, CONFIG_PARAMS, configRoutes } from './qemu-config.ts';
import { qemuListRow, qemuStatusCurrent } from './shapes.ts';
import { isShared, volumeNodes, volumeSizes } from './storage.ts';

const stamp = () => new Date().toISOString().replace('T', ' ').slice(0, 19);
/** As PVE::Tools::render_bytes: `351.2 MiB`. */
function renderBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function migrationStartLog(vm: SimVM, target: string, online: boolean): string[] {
  return [
    `${stamp()} use dedicated network address for sending migration traffic`,
    `${stamp()} starting migration of VM ${vm.vmid} to node '${target}'`,
    ...(online
      ? [`${stamp()} starting VM ${vm.vmid} on remote node '${target}'`, `${stamp()} start remote tunnel`, `${stamp()} starting online/live migration on unix:/run/qemu-server/${vm.vmid}.migrate`]
      : []),
  ];
}

/** `migration active, transferred 351.2 MiB of 2.0 GiB VM-state, 110.0 MiB/s`, the memory sent in step with the task's time. */
function migrationProgressLine(vm: SimVM, fraction: number, durationMs: number): string {
  const total = Number(vm.config.memory ?? 512) * 2 ** 20;
  const speed = total / (durationMs / 1000);
  return `${stamp()} migration active, transferred ${renderBytes(Math.floor(total * fraction))} of ${renderBytes(total)} VM-state, ${renderBytes(speed)}/s`;
}

/** The lines QemuMigrate ends a successful migration with. */
function migrationEndLog(vm: SimVM, tookMs: number, online: boolean): string[] {
  const total = Number(vm.config.memory ?? 512) * 2 ** 20;
  const secs = Math.max(1, Math.round(tookMs / 1000));
  const hms = new Date(secs * 1000).toISOString().slice(11, 19);
  return [
    ...(online
      ? [
          `${stamp()} migration completed, transferred ${renderBytes(total)} of ${renderBytes(total)} VM-state, ${renderBytes(total / secs)}/s`,
          `${stamp()} average migration speed: ${renderBytes(total / secs)}/s - downtime 42 ms`,
          `${stamp()} migration status: completed`,
        ]
      : []),
    `${stamp()} migration finished successfully (duration ${hms})`,
  ];
}

export function qemuRoutes(env: QemuEnv): Route[] {
  const s = env.state;
  const task = taskStarter(env);
  const running = (vm: SimVM) => {
    if (vm.status !== 'running') throw new PveError(500, `VM ${vm.vmid} not running`);
  };
  const newVM = (vmid: number, node: string) => {
    if (s().vms.some((v) => v.vmid === vmid)) throw new PveError(500, `unable to create VM ${vmid} - VM ${vmid} already exists on node '${s().vms.find((v) => v.vmid === vmid)?.node}'`);
    if (!s().nodes.some((n) => n.name === node)) throw new PveError(500, `no such cluster node '${node}'`);
  };
  const addToPool = (pool: string | undefined, vmid: number) => {
    if (!pool) return;
    const p = s().pools.find((x) => x.poolid === pool);
    if (!p) throw new PveError(500, `pool '${pool}' does not exist`);
    p.members.push(vmid);
  };

  return [
    {
      method: 'GET',
      pattern: '/nodes/{node}/qemu',
      params: { full: BOOL },
      handler: ({ path }) =>
        s()
          .vms.filter((v) => v.node === path.node)
          .map((v) => qemuListRow(v)),
    },
    // No containers here, but clients that list every guest type (proxmox_vm_info) ask.
    { method: 'GET', pattern: '/nodes/{node}/lxc', handler: () => [] },
    {
      method: 'POST',
      pattern: '/nodes/{node}/qemu',
      required: ['vmid'],
      params: { ...CONFIG_PARAMS, vmid: INT, pool: NAME, storage: NAME, start: BOOL },
      handler: ({ path, params, user }) => {
        const vmid = Number(params.vmid);
        if (s().vms.some((v) => v.vmid === vmid)) throw paramError({ vmid: `VM ${vmid} already exists` });
        newVM(vmid, path.node ?? '');
        const { vmid: _v, pool, start, storage: _s, ...rest } = params;
        const vm: SimVM = { vmid, node: path.node ?? '', config: {}, pending: {}, pendingDelete: [], status: 'stopped', template: false, lock: 'create' };
        applyConfig(s(), vm, rest);
        s().vms.push(vm);
        addToPool(pool, vmid);
        if (pool) vm.pool = pool;
        return task(vm.node, 'qmcreate', vmid, user, () => {
          delete vm.lock;
          if (truthy(start)) {
            vm.status = 'running';
            vm.startedAt = Date.now();
          }
        });
      },
    },
    {
      method: 'POST',
      pattern: '/nodes/{node}/qemu/{vmid}/clone',
      required: ['newid'],
      params: { newid: INT, name: NAME, full: BOOL, target: NAME, storage: NAME, pool: NAME, description: ANY, format: /^(raw|qcow2|vmdk)$/, snapname: NAME, bwlimit: INT },
      handler: ({ path, params, user }) => {
        const src = findVM(s(), path.vmid ?? '', path.node);
        checkLock(src, {});
        const newid = Number(params.newid);
        const target = params.target ?? src.node;
        newVM(newid, target);
        const full = params.full === undefined ? !src.template : truthy(params.full);
        if (!src.template && !full) throw new PveError(500, "Linked clone feature is not supported for drive 'scsi0'");
        // A linked clone's disks stay beside the template's base volumes.
        if (!full && params.storage !== undefined) throw new PveError(500, `parameter 'storage' not allowed for linked clones`);
        if (!full && params.format !== undefined) throw new PveError(500, `parameter 'format' not allowed for linked clones`);
        if (target !== src.node && !full && !s().storages.find((x) => x.storage === 'local-lvm')?.shared) {
          // Real nodes refuse a linked clone to another node on local storage.
          throw new PveError(500, `Can't clone to non-shared storage 'local-lvm'`);
        }
        const config: Record<string, string> = {};
        let n = 0;
        for (const [k, v] of Object.entries(src.config)) {
          if (k === 'template') continue;
          if (isDataDisk(k, v)) config[k] = `${params.storage ?? v.split(':')[0]}:${full ? '' : `base-${src.vmid}-disk-${n}/`}vm-${newid}-disk-${n++},size=${v.match(/size=([^,]+)/)?.[1] ?? '8G'}`;
          else if (/cloudinit/.test(v)) config[k] = `${v.split(':')[0]}:vm-${newid}-cloudinit,media=cdrom`;
          else config[k] = v.replace(/=([0-9A-F]{2}:){5}[0-9A-F]{2}/i, '');
        }
        config.name = params.name ?? `Copy-of-VM-${src.config.name ?? src.vmid}`;
        if (params.description !== undefined) config.description = params.description;
        assignMacs(newid, config);
        const vm: SimVM = { vmid: newid, node: target, config, pending: {}, pendingDelete: [], status: 'stopped', template: false, lock: 'clone' };
        s().vms.push(vm);
        addToPool(params.pool, newid);
        if (params.pool) vm.pool = params.pool;
        src.lock = 'clone';
        return task(src.node, 'qmclone', src.vmid, user, () => {
          delete src.lock;
          delete vm.lock;
        });
      },
    },
    ...configRoutes(env),
    ...(['start', 'stop', 'shutdown', 'reboot', 'reset', 'suspend', 'resume'] as const).map(
      (action): Route => ({
        method: 'POST',
        pattern: `/nodes/{node}/qemu/{vmid}/status/${action}`,
        params: { skiplock: BOOL, timeout: INT, forceStop: BOOL, keepActive: BOOL, migratedfrom: NAME, 'overrule-shutdown': BOOL },
        handler: ({ path, params, user }) => {
          const vm = findVM(s(), path.vmid ?? '', path.node);
          checkLock(vm, params);
          if (vm.template) throw new PveError(500, `you can't start a vm if it's a template`);
          if (action === 'start' && vm.status === 'running') throw new PveError(500, `VM ${vm.vmid} already running`);
          if (['shutdown', 'reboot', 'reset', 'suspend'].includes(action)) running(vm);
          return task(vm.node, `qm${action}`, vm.vmid, user, () => {
            if (action === 'start' || action === 'resume') {
              if (vm.status !== 'running') applyPending(vm);
              vm.status = 'running';
              vm.startedAt = Date.now();
            } else if (action === 'stop' || action === 'shutdown') {
              vm.status = 'stopped';
              delete vm.startedAt;
            } else if (action === 'reboot' || action === 'reset') {
              applyPending(vm);
              vm.startedAt = Date.now();
            }
          });
        },
      }),
    ),
    {
      method: 'POST',
      pattern: '/nodes/{node}/qemu/{vmid}/template',
      params: { disk: DISK_KEY },
      handler: ({ path, user }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        checkLock(vm, {});
        if (vm.template) throw new PveError(500, `you can't convert a template to a template`);
        if (Object.keys(vm.snapshots ?? {}).length > 0) throw new PveError(500, 'unable to create template, because VM contains snapshots');
        if (vm.status === 'running') throw new PveError(500, `you can't convert a VM to template if VM is running`);
        vm.lock = 'template';
        return task(vm.node, 'qmtemplate', vm.vmid, user, () => {
          // Every data disk becomes a read-only base volume that linked clones share.
          for (const [k, v] of Object.entries(vm.config)) if (isDataDisk(k, v)) vm.config[k] = v.replace(/:vm-(\d+)-disk-/, ':base-$1-disk-');
          vm.config.template = '1';
          vm.template = true;
          delete vm.lock;
        });
      },
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/qemu/{vmid}/status/current',
      handler: ({ path }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        return qemuStatusCurrent(vm);
      },
    },
    {
      method: 'POST',
      pattern: '/nodes/{node}/qemu/{vmid}/migrate',
      required: ['target'],
      params: { target: NAME, online: BOOL, 'with-local-disks': BOOL, force: BOOL, targetstorage: ANY, bwlimit: INT },
      handler: ({ path, params, user }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        checkLock(vm, {});
        if (!s().nodes.some((n) => n.name === params.target)) throw paramError({ target: `no such cluster node '${params.target}'` });
        if (params.target === vm.node) throw new PveError(500, `target is local node.`);
        if (vm.status === 'running' && !truthy(params.online)) throw new PveError(500, `can't migrate running VM without --online`);
        vm.lock = 'migrate';
        const target = params.target ?? vm.node;
        const durationMs = env.durations.qmigrate ?? env.durations.default ?? 200;
        const online = vm.status === 'running';
        return env.tasks.start({
          node: vm.node,
          type: 'qmigrate',
          id: String(vm.vmid),
          user,
          durationMs,
          log: migrationStartLog(vm, target, online),
          // As QemuMigrate: a line per poll of QEMU's migration status while the VM state is sent.
          ...(online ? { progress: { everyMs: Math.max(20, Math.floor(durationMs / 10)), line: (f) => migrationProgressLine(vm, f, durationMs) } } : {}),
          done: (took) => migrationEndLog(vm, took, online),
          work: () => {
            delete vm.lock;
            // As QemuMigrate: a local volume another VM owns cannot be copied along.
            for (const [k, v] of Object.entries(vm.config)) {
              const volid = v.split(',')[0] ?? '';
              if (isDataDisk(k, v) && !isShared(s(), volid) && volumeOwner(volid) !== vm.vmid)
                throw new PveError(500, `can't migrate local disk '${volid}': owned by other VM (owner = VM ${volumeOwner(volid) ?? '?'})`);
            }
            vm.node = target;
          },
        });
      },
    },
    {
      method: 'DELETE',
      pattern: '/nodes/{node}/qemu/{vmid}',
      params: { purge: BOOL, 'destroy-unreferenced-disks': BOOL, skiplock: BOOL },
      handler: ({ path, params, user }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        checkLock(vm, params);
        if (vm.status === 'running') throw new PveError(500, `VM ${vm.vmid} is running - destroy failed`);
        if (truthy(vm.config.protection)) throw new PveError(500, `can't remove VM ${vm.vmid} - protection mode enabled`);
        vm.lock = 'destroyed';
        return task(vm.node, 'qmdestroy', vm.vmid, user, () => {
          // As destroy_vm: every volume the config references (disks, unused, pending) that this
          // VM owns is freed; another VM's volume stays in its storage. Then, with
          // destroy-unreferenced-disks, every other volume named for this VM id.
          for (const [k, v] of [...Object.entries(vm.config), ...Object.entries(vm.pending)]) {
            if (!isDataDisk(k, v) && !/^unused\d+$/.test(k)) continue;
            const volid = v.split(',')[0] ?? '';
            if (volumeOwner(volid) === vm.vmid) {
              delete volumeSizes(s())[volid];
              delete volumeNodes(s())[volid];
            } else if (isDataDisk(k, v)) {
              volumeSizes(s())[volid] = diskSize(v);
              volumeNodes(s())[volid] = vm.node;
            }
          }
          if (truthy(params['destroy-unreferenced-disks'])) {
            for (const volid of Object.keys(volumeSizes(s()))) {
              if (volumeOwner(volid) !== vm.vmid) continue;
              delete volumeSizes(s())[volid];
              delete volumeNodes(s())[volid];
            }
          }
          s().vms = s().vms.filter((v) => v !== vm);
          for (const p of s().pools) p.members = p.members.filter((m) => m !== vm.vmid);
        });
      },
    },
    ...agentRoutes(env),
  ];
}
