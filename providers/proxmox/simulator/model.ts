// The simulated cluster's state: nodes, storages, guests, pools, SDN, tasks. Plain data,
// so it can be dumped to JSON and loaded back.
import { createHash } from 'node:crypto';

export interface SimNode {
  name: string;
  cpus: number;
  memory: number;
  load: number;
  bridges: { iface: string; vlanAware: boolean }[];
  /** Down: listed `offline`, and a request for it answers 595 as the proxying node does. */
  offline?: boolean;
}

export interface SimVM {
  vmid: number;
  node: string;
  config: Record<string, string>;
  pending: Record<string, string>;
  pendingDelete: string[];
  status: 'running' | 'stopped';
  lock?: string;
  template: boolean;
  pool?: string;
  startedAt?: number;
  /** Snapshots by name (`qm listsnapshot`), and the one the current state descends from. */
  snapshots?: Record<string, SimSnapshot>;
  parent?: string;
}

/** A snapshot section of a guest's config: the config as it was, and the snapshot's own keys. */
export interface SimSnapshot {
  config: Record<string, string>;
  snaptime: number;
  description?: string;
  parent?: string;
  /** The RAM state volume, when the VM was running and `vmstate` was asked. */
  vmstate?: string;
  runningmachine?: string;
  /** `prepare` while being made, `delete` while being removed. */
  snapstate?: 'prepare' | 'delete';
}

export interface SimTask {
  upid: string;
  node: string;
  type: string;
  id: string;
  user: string;
  starttime: number;
  endsAt: number;
  status: 'running' | 'stopped';
  exitstatus?: string;
  log: string[];
}

export interface SimState {
  clusterName: string;
  nodes: SimNode[];
  storages: { storage: string; type: string; content: string; total: number; used: number; shared: boolean }[];
  vms: SimVM[];
  pools: { poolid: string; comment?: string; members: number[] }[];
  acl: { path: string; users: string; roles: string }[];
  sdn: { zones: { zone: string; type: string; bridge?: string }[]; vnets: { vnet: string; zone: string; tag?: number; alias?: string }[]; pending: boolean };
  agentExec: { pid: number; vmid: number; out: string; err: string; exitcode: number; doneAt: number }[];
  nextPid: number;
  /** Sizes of volumes that are in no disk entry (allocated, or unused after a detach). */
  volumeSizes?: Record<string, number>;
  /** The node a volume in no VM's config lives on (a non-shared storage is per node). */
  volumeNodes?: Record<string, string>;
  /** Images downloaded into an import store (`local:import/x.qcow2`) and their virtual sizes. */
  importImages?: Record<string, number>;
}

export const GiB = 2 ** 30;

export function digestOf(config: Record<string, string>): string {
  const text = Object.keys(config)
    .sort()
    .map((k) => `${k}: ${config[k]}`)
    .join('\n');
  return createHash('sha1').update(text).digest('hex');
}

export function seedState(options: { nodes: number; templates: string[]; storageGiB?: number }): SimState {
  const nodes: SimNode[] = Array.from({ length: options.nodes }, (_, i) => ({
    name: `pve${i + 1}`,
    cpus: 32,
    memory: 128 * GiB,
    load: 0.1 * (i + 1),
    bridges: [
      { iface: 'vmbr0', vlanAware: true },
      { iface: 'vmbr1', vlanAware: false },
    ],
  }));
  const vms: SimVM[] = options.templates.map((name, i) => ({
    vmid: 9000 + i,
    node: nodes[0]?.name ?? 'pve1',
    template: true,
    status: 'stopped',
    config: {
      name,
      template: '1',
      cores: '1',
      sockets: '1',
      memory: '1024',
      ostype: 'l26',
      agent: '1',
      scsihw: 'virtio-scsi-single',
      scsi0: `local-lvm:base-${9000 + i}-disk-0,size=8G`,
      ide2: `local-lvm:vm-${9000 + i}-cloudinit,media=cdrom`,
      net0: `virtio=BC:24:11:00:${(i + 16).toString(16).padStart(2, '0')}:01,bridge=vmbr0`,
      boot: 'order=scsi0',
      serial0: 'socket',
      vga: 'serial0',
      description: `cloud image ${name}`,
    },
    pending: {},
    pendingDelete: [],
  }));
  return {
    clusterName: 'pve-sim',
    nodes,
    storages: [
      { storage: 'local-lvm', type: 'lvmthin', content: 'images,rootdir', total: (options.storageGiB ?? 4096) * GiB, used: 0, shared: false },
      { storage: 'local', type: 'dir', content: 'iso,vztmpl,backup,snippets,import', total: 512 * GiB, used: 0, shared: false },
    ],
    vms,
    pools: [],
    acl: [],
    sdn: { zones: [], vnets: [], pending: false },
    agentExec: [],
    nextPid: 1000,
  };
}

/** Size string of a disk entry (`local-lvm:vm-100-disk-0,size=32G`) in bytes. */
export function diskSize(entry: string): number {
  const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)/.exec(entry);
  if (!m) return 0;
  const f = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.round(Number(m[1]) * f);
}

export function withSize(entry: string, bytes: number): string {
  const size = bytes % GiB === 0 ? `${bytes / GiB}G` : `${Math.ceil(bytes / 2 ** 20)}M`;
  return /(?:^|,)size=/.test(entry) ? entry.replace(/size=[^,]+/, `size=${size}`) : `${entry},size=${size}`;
}

export const DISK_KEY = /^(scsi|virtio|sata|ide)(\d+)$/;
export const isDataDisk = (key: string, value: string) => DISK_KEY.test(key) && !/media=cdrom/.test(value) && !/cloudinit/.test(value);

/**
 * The VM id a volume belongs to, as Proxmox reads it from the name (`vm-<id>-…`; a linked
 * clone's `base-<t>-disk-0/vm-<id>-disk-0` is the clone's). Destroying a VM frees only its own.
 */
export function volumeOwner(volid: string): number | undefined {
  const m = /(?:^|[:/])(?:vm|base|subvol)-(\d+)-[^/]*$/.exec(volid);
  return m ? Number(m[1]) : undefined;
}
