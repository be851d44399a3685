// /nodes/{node}/qemu/...: create, clone, config (digest, pending, hot-plug), resize, power,
// migrate, delete and the guest agent, each write a task as on a real node.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { ANY, BOOL, INT, intMin, NAME, PveError, paramError, truthy, type Check, type Params, type Route } from './http.ts';
import { DISK_KEY, digestOf, diskSize, GiB, isDataDisk, volumeOwner, withSize, type SimState, type SimVM } from './model.ts';
import { BOOLEAN_KEYS, qemuListRow, qemuStatusCurrent, storedBoolean, typedConfig } from './shapes.ts';
import { importImages, isShared, volumeNodes, volumeSizes } from './storage.ts';
import type { Tasks } from './tasks.ts';

export interface QemuEnv {
  state: () => SimState;
  tasks: Tasks;
  durations: Record<string, number>;
  /** Seconds a started VM needs before its guest agent answers. */
  agentDelayMs: number;
}

const SIZE = /^\+?\d+(\.\d+)?[KMGT]?$/;
const CONFIG_PARAMS: Record<string, Check> = {
  name: NAME,
  memory: INT,
  balloon: intMin(0),
  cores: intMin(1),
  sockets: intMin(1),
  vcpus: intMin(1),
  cpu: ANY,
  numa: BOOL,
  hotplug: /^[a-z,0-9]*$/,
  'scsi*': ANY,
  'virtio*': ANY,
  'sata*': ANY,
  'ide*': ANY,
  'net*': ANY,
  'ipconfig*': ANY,
  'unused*': ANY,
  scsihw: ANY,
  ostype: ANY,
  agent: ANY,
  onboot: BOOL,
  tags: /^[a-z0-9_+.;, -]*$/i,
  description: ANY,
  ciuser: ANY,
  cipassword: ANY,
  sshkeys: ANY,
  nameserver: ANY,
  searchdomain: ANY,
  citype: ANY,
  boot: ANY,
  bootdisk: ANY,
  serial0: ANY,
  vga: ANY,
  bios: ANY,
  machine: ANY,
  delete: ANY,
  digest: /^[a-f0-9]{40}$/,
  revert: ANY,
  skiplock: BOOL,
  template: BOOL,
  protection: BOOL,
  startup: ANY,
  kvm: BOOL,
};
/** Keys a running VM takes at once, given its hotplug setting. */
function hotPluggable(vm: SimVM, key: string, value: string | undefined): boolean {
  const hotplug = (vm.config.hotplug ?? 'network,disk,usb').split(',');
  if (/^(name|description|tags|onboot|protection|startup|ipconfig\d+|ciuser|cipassword|sshkeys|nameserver|searchdomain|citype|boot|bootdisk|unused\d+)$/.test(key)) return true;
  if (key === 'memory' || key === 'balloon') return hotplug.includes('memory') && truthy(vm.config.numa) && Number(value ?? 0) >= Number(vm.config[key] ?? 0);
  if (key === 'vcpus') return hotplug.includes('cpu');
  if (/^net\d+$/.test(key)) return hotplug.includes('network');
  if (DISK_KEY.test(key)) return hotplug.includes('disk') && !(key in vm.config);
  return false;
}

export function findVM(s: SimState, vmid: string, node?: string): SimVM {
  const vm = s.vms.find((v) => String(v.vmid) === vmid);
  if (!vm || (node && vm.node !== node)) throw new PveError(500, `Configuration file 'nodes/${node ?? 'localhost'}/qemu-server/${vmid}.conf' does not exist`);
  return vm;
}

function checkLock(vm: SimVM, params: Params): void {
  if (vm.lock && !truthy(params.skiplock)) throw new PveError(500, `VM is locked (${vm.lock})`);
}

/** The virtual size of an image file: a qcow2 header says it; a raw file is its own size. */
function imageSize(s: SimState, path: string): number {
  const downloaded = importImages(s)[path];
  if (downloaded !== undefined) return downloaded;
  if (!isAbsolute(path) || !existsSync(path)) throw new PveError(500, `import-from: unable to parse volume ID '${path}'`);
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(32);
    readSync(fd, head, 0, 32, 0);
    return head.readUInt32BE(0) === 0x514649fb ? Number(head.readBigUInt64BE(24)) : statSync(path).size;
  } finally {
    closeSync(fd);
  }
}

/** Turns `local-lvm:32` (a new disk of 32 GiB) or `local-lvm:0,import-from=/img.qcow2` into the allocated volume entry. */
function allocateDisks(s: SimState, vmid: number, config: Record<string, string>, params: Params): void {
  // The next `vm-<id>-disk-N` no volume of this VM has (in its config, unused, or in storage).
  const vm = s.vms.find((v) => v.vmid === vmid);
  const text = [...Object.values(config), ...Object.values(vm?.config ?? {}), ...Object.values(vm?.pending ?? {}), ...Object.keys(volumeSizes(s))].join(' ');
  const taken = new Set([...text.matchAll(new RegExp(`vm-${vmid}-disk-(\\d+)`, 'g'))].map((m) => Number(m[1])));
  let n = 0;
  const next = () => {
    while (taken.has(n)) n++;
    return n++;
  };
  for (const [k, v] of Object.entries(params)) {
    if (!DISK_KEY.test(k)) continue;
    const m = /^([A-Za-z0-9_-]+):(\d+(?:\.\d+)?)(,.*)?$/.exec(v);
    const from = /(?:^|,)import-from=([^,]+)/.exec(v)?.[1];
    if (m && from) {
      const bytes = imageSize(s, from);
      const rest = (m[3] ?? '').replace(/,import-from=[^,]+/, '');
      config[k] = `${m[1]}:vm-${vmid}-disk-${next()},size=${bytes % GiB === 0 ? `${bytes / GiB}G` : `${Math.ceil(bytes / 2 ** 20)}M`}${rest}`;
    } else if (m && !/cloudinit/.test(v)) config[k] = `${m[1]}:vm-${vmid}-disk-${next()},size=${m[2]}G${m[3] ?? ''}`;
    else if (/^([A-Za-z0-9_-]+):cloudinit/.test(v)) config[k] = `${v.split(':')[0]}:vm-${vmid}-cloudinit,media=cdrom`;
    else config[k] = v;
  }
}

/** An existing volume put in a disk entry takes its known size, and leaves the unused list. */
function adoptVolumes(s: SimState, vm: SimVM, next: Record<string, string>): void {
  for (const [k, v] of Object.entries(next)) {
    if (!DISK_KEY.test(k) || /(?:^|,)size=/.test(v) || /media=cdrom|cloudinit/.test(v)) continue;
    const volid = v.split(',')[0] ?? '';
    const size = volumeSizes(s)[volid];
    if (size === undefined) continue;
    next[k] = withSize(v, size);
    delete volumeSizes(s)[volid];
    delete volumeNodes(s)[volid];
    for (const [u, uv] of Object.entries(vm.config)) if (/^unused\d+$/.test(u) && uv === volid) delete vm.config[u];
  }
}

const mac = (vmid: number, i: number) => `BC:24:11:${((vmid >> 8) & 255).toString(16).padStart(2, '0')}:${(vmid & 255).toString(16).padStart(2, '0')}:${i.toString(16).padStart(2, '0')}`.toUpperCase();
function assignMacs(vmid: number, config: Record<string, string>): void {
  for (const [k, v] of Object.entries(config)) {
    const m = /^net(\d+)$/.exec(k);
    if (m && /^(virtio|e1000|rtl8139|vmxnet3)(,|$)/.test(v)) config[k] = v.replace(/^(virtio|e1000|rtl8139|vmxnet3)/, `$1=${mac(vmid, Number(m[1]))}`);
  }
}

/** Applies a config change now or, for what a running VM cannot take, as pending. */
function applyConfig(s: SimState, vm: SimVM, params: Params): void {
  if (params.digest && params.digest !== digestOf(vm.config)) throw new PveError(500, 'detected modified configuration - file changed by other user? Try again.');
  const changes = Object.fromEntries(Object.entries(params).filter(([k]) => !['digest', 'delete', 'skiplock', 'revert'].includes(k)));
  if (changes.memory && Number(changes.memory) < 16) throw paramError({ memory: `value must have a minimum value of 16` });
  for (const k of (params.revert ?? '').split(',').filter(Boolean)) delete vm.pending[k];
  const next: Record<string, string> = {};
  allocateDisks(s, vm.vmid, next, changes);
  adoptVolumes(s, vm, next);
  for (const [k, v] of Object.entries(changes)) if (!DISK_KEY.test(k)) next[k] = BOOLEAN_KEYS.has(k) ? storedBoolean(v) : v;
  assignMacs(vm.vmid, next);
  for (const [k, v] of Object.entries(next)) {
    if (vm.status === 'running' && !hotPluggable(vm, k, v)) vm.pending[k] = v;
    else {
      vm.config[k] = v;
      delete vm.pending[k];
    }
  }
  for (const k of (params.delete ?? '').split(/[,;\s]+/).filter(Boolean)) {
    if (vm.status === 'running' && !hotPluggable(vm, k, undefined) && !DISK_KEY.test(k)) vm.pendingDelete.push(k);
    else if (DISK_KEY.test(k) && vm.config[k] && isDataDisk(k, vm.config[k] ?? '')) {
      const volid = (vm.config[k] ?? '').split(',')[0] ?? '';
      volumeSizes(s)[volid] = diskSize(vm.config[k] ?? '');
      // As vmconfig_register_unused_drive: the VM's own volume stays as unusedN; another VM's
      // volume (`vm-<other>-…`) just leaves the config and stays in its storage.
      if (volumeOwner(volid) === vm.vmid) vm.config[Array.from({ length: 256 }, (_, i) => `unused${i}`).find((u) => !(u in vm.config)) ?? 'unused0'] = volid;
      else volumeNodes(s)[volid] = vm.node;
      delete vm.config[k];
    } else {
      // Deleting an unused entry frees its volume when the VM owns it, as on a real node.
      const volid = vm.config[k] ?? '';
      if (/^unused\d+$/.test(k) && volumeOwner(volid) === vm.vmid) delete volumeSizes(s)[volid];
      delete vm.config[k];
    }
  }
}

function applyPending(vm: SimVM): void {
  Object.assign(vm.config, vm.pending);
  for (const k of vm.pendingDelete) delete vm.config[k];
  vm.pending = {};
  vm.pendingDelete = [];
}

function guestIP(vm: SimVM): string {
  const m = /ip=([0-9.]+)\/\d+/.exec(vm.config.ipconfig0 ?? '');
  return m?.[1] ?? `10.99.${(vm.vmid >> 8) & 255}.${vm.vmid & 255}`;
}

export function qemuRoutes(env: QemuEnv): Route[] {
  const s = env.state;
  const dur = (type: string) => env.durations[type] ?? env.durations.default ?? 200;
  const task = (node: string, type: string, vmid: number | string, user: string, work: () => void) => env.tasks.start({ node, type, id: String(vmid), user, durationMs: dur(type), work });
  const running = (vm: SimVM) => {
    if (vm.status !== 'running') throw new PveError(500, `VM ${vm.vmid} not running`);
  };
  const agent = (vm: SimVM) => {
    if (vm.status !== 'running' || !/^1|enabled=1/.test(vm.config.agent ?? '0') || Date.now() - (vm.startedAt ?? 0) < env.agentDelayMs) throw new PveError(500, 'QEMU guest agent is not running');
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
    {
      method: 'GET',
      pattern: '/nodes/{node}/qemu/{vmid}/config',
      params: { current: BOOL, snapshot: NAME },
      handler: ({ path, params }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        if (params.snapshot && truthy(params.current)) throw paramError({ snapshot: "cannot use 'snapshot' parameter with 'current'", current: "cannot use 'snapshot' parameter with 'current'" });
        if (params.snapshot) {
          const snap = vm.snapshots?.[params.snapshot];
          if (!snap) throw new PveError(500, `snapshot '${params.snapshot}' does not exist`);
          return { ...typedConfig(snap.config), snaptime: snap.snaptime, ...(snap.parent ? { parent: snap.parent } : {}), digest: digestOf(vm.config) };
        }
        const cfg = truthy(params.current) ? vm.config : { ...vm.config, ...vm.pending };
        return { ...typedConfig(cfg), digest: digestOf(vm.config), ...(vm.lock ? { lock: vm.lock } : {}), ...(vm.parent ? { parent: vm.parent } : {}) };
      },
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/qemu/{vmid}/pending',
      handler: ({ path }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        const keys = new Set([...Object.keys(vm.config), ...Object.keys(vm.pending), ...vm.pendingDelete]);
        const cur = typedConfig(vm.config);
        const next = typedConfig(vm.pending);
        return [...keys]
          .sort()
          .map((key) => ({ key, ...(key in cur ? { value: cur[key] } : {}), ...(key in next ? { pending: next[key] } : {}), ...(vm.pendingDelete.includes(key) ? { delete: 1 } : {}) }));
      },
    },
    ...(['POST', 'PUT'] as const).map(
      (method): Route => ({
        method,
        pattern: '/nodes/{node}/qemu/{vmid}/config',
        params: CONFIG_PARAMS,
        handler: ({ path, params, user }) => {
          const vm = findVM(s(), path.vmid ?? '', path.node);
          checkLock(vm, params);
          if (vm.lock === undefined && env.tasks.busy(vm.vmid)) throw new PveError(500, `can't lock file '/var/lock/qemu-server/lock-${vm.vmid}.conf' - got timeout`);
          if (method === 'PUT') {
            applyConfig(s(), vm, params);
            return null;
          }
          applyConfig(s(), vm, params);
          return task(vm.node, 'qmconfig', vm.vmid, user, () => undefined);
        },
      }),
    ),
    {
      method: 'PUT',
      pattern: '/nodes/{node}/qemu/{vmid}/resize',
      required: ['disk', 'size'],
      params: { disk: DISK_KEY, size: SIZE, digest: /^[a-f0-9]{40}$/, skiplock: BOOL },
      handler: ({ path, params, user }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        checkLock(vm, params);
        const entry = vm.config[params.disk ?? ''];
        if (!entry) throw new PveError(500, `disk '${params.disk}' does not exist`);
        const cur = diskSize(entry);
        const m = /^(\+)?(\d+(?:\.\d+)?)([KMGT]?)$/.exec(params.size ?? '') as RegExpExecArray;
        const amount = Number(m[2]) * { '': 1, K: 2 ** 10, M: 2 ** 20, G: GiB, T: 2 ** 40 }[m[3] as '' | 'K' | 'M' | 'G' | 'T'];
        const next = m[1] ? cur + amount : amount;
        if (next < cur) throw new PveError(500, `shrinking disks is not supported`);
        return task(vm.node, 'resize', vm.vmid, user, () => {
          vm.config[params.disk ?? ''] = withSize(vm.config[params.disk ?? ''] ?? entry, next);
        });
      },
    },
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
        return task(vm.node, 'qmigrate', vm.vmid, user, () => {
          delete vm.lock;
          // As QemuMigrate: a local volume another VM owns cannot be copied along.
          for (const [k, v] of Object.entries(vm.config)) {
            const volid = v.split(',')[0] ?? '';
            if (isDataDisk(k, v) && !isShared(s(), volid) && volumeOwner(volid) !== vm.vmid)
              throw new PveError(500, `can't migrate local disk '${volid}': owned by other VM (owner = VM ${volumeOwner(volid) ?? '?'})`);
          }
          vm.node = params.target ?? vm.node;
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
    {
      method: 'GET',
      pattern: '/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces',
      handler: ({ path }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        agent(vm);
        const hw = /=([0-9A-F:]{17})/i.exec(vm.config.net0 ?? '')?.[1]?.toLowerCase() ?? '00:00:00:00:00:00';
        return {
          result: [
            { name: 'lo', 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 }] },
            { name: 'eth0', 'hardware-address': hw, 'ip-addresses': [{ 'ip-address': guestIP(vm), 'ip-address-type': 'ipv4', prefix: 24 }] },
          ],
        };
      },
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/qemu/{vmid}/agent/get-osinfo',
      handler: ({ path }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        agent(vm);
        return { result: { id: 'ubuntu', name: 'Ubuntu', 'pretty-name': 'Ubuntu 24.04 LTS', 'kernel-release': '6.8.0-31-generic', machine: 'x86_64' } };
      },
    },
    {
      method: 'POST',
      pattern: '/nodes/{node}/qemu/{vmid}/agent/exec',
      required: ['command'],
      params: { command: ANY, 'input-data': ANY },
      handler: ({ path, params }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        agent(vm);
        const pid = s().nextPid++;
        const argv = (params.command ?? '').split(/\0|\s+/).filter(Boolean);
        const r = emulateCommand(vm, argv, params['input-data'] ?? '');
        s().agentExec.push({ pid, vmid: vm.vmid, ...r, doneAt: Date.now() + r.durationMs });
        return { pid };
      },
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/qemu/{vmid}/agent/exec-status',
      required: ['pid'],
      params: { pid: INT },
      handler: ({ path, params }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        agent(vm);
        const e = s().agentExec.find((x) => x.pid === Number(params.pid) && x.vmid === vm.vmid);
        if (!e) throw new PveError(500, `Agent error: no such process ${params.pid}`);
        if (Date.now() < e.doneAt) return { exited: 0 };
        return { exited: 1, exitcode: e.exitcode, ...(e.out ? { 'out-data': e.out } : {}), ...(e.err ? { 'err-data': e.err } : {}) };
      },
    },
  ];
}

function emulateCommand(vm: SimVM, argv: string[], input: string): { out: string; err: string; exitcode: number; durationMs: number } {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'hostname':
      return { out: `${vm.config.name ?? 'localhost'}\n`, err: '', exitcode: 0, durationMs: 0 };
    case 'echo':
      return { out: `${args.join(' ')}\n`, err: '', exitcode: 0, durationMs: 0 };
    case 'cat':
      return args.length === 0 ? { out: input, err: '', exitcode: 0, durationMs: 0 } : { out: '', err: `cat: ${args[0]}: No such file or directory\n`, exitcode: 1, durationMs: 0 };
    case 'uname':
      return { out: args.includes('-a') ? `Linux ${vm.config.name} 6.8.0-31-generic #31-Ubuntu SMP x86_64 GNU/Linux\n` : 'Linux\n', err: '', exitcode: 0, durationMs: 0 };
    case 'sleep':
      return { out: '', err: '', exitcode: 0, durationMs: Number(args[0] ?? 1) * 1000 };
    case 'true':
      return { out: '', err: '', exitcode: 0, durationMs: 0 };
    case 'false':
      return { out: '', err: '', exitcode: 1, durationMs: 0 };
    default:
      return { out: '', err: `sh: 1: ${cmd}: not found\n`, exitcode: 127, durationMs: 0 };
  }
}
