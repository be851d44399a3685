// The VM config: the accepted keys, what a running VM takes at once or as pending, disk
// allocation (new, imported, adopted), MAC assignment, and the config/pending/resize routes.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { ANY, BOOL, INT, intMin, NAME, PveError, paramError, truthy, type Check, type Params, type Route } from './http.ts';
import { DISK_KEY, digestOf, diskSize, GiB, isDataDisk, volumeOwner, withSize, type SimState, type SimVM } from './model.ts';
import { checkLock, findVM, taskStarter, type QemuEnv } from './qemu-common.ts';
import { BOOLEAN_KEYS, storedBoolean, typedConfig } from './shapes.ts';
import { importImages, volumeNodes, volumeSizes } from './storage.ts';

const SIZE = /^\+?\d+(\.\d+)?[KMGT]?$/;
export const CONFIG_PARAMS: Record<string, Check> = {
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
export function assignMacs(vmid: number, config: Record<string, string>): void {
  for (const [k, v] of Object.entries(config)) {
    const m = /^net(\d+)$/.exec(k);
    if (m && /^(virtio|e1000|rtl8139|vmxnet3)(,|$)/.test(v)) config[k] = v.replace(/^(virtio|e1000|rtl8139|vmxnet3)/, `$1=${mac(vmid, Number(m[1]))}`);
  }
}

/** Applies a config change now or, for what a running VM cannot take, as pending. */
export function applyConfig(s: SimState, vm: SimVM, params: Params): void {
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

export function applyPending(vm: SimVM): void {
  Object.assign(vm.config, vm.pending);
  for (const k of vm.pendingDelete) delete vm.config[k];
  vm.pending = {};
  vm.pendingDelete = [];
}

export function configRoutes(env: QemuEnv): Route[] {
  const s = env.state;
  const task = taskStarter(env);
  return [
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
  ];
}
