// The provider-neutral model the pure core works on: desired state (normalised from the
// specs) and observed state (mapped from each provider's list call).

export interface OwnerRef {
  kind: string;
  namespace?: string;
  name: string;
  /**
   * The controller instance (`--instance`; by default derived from the state directory or the
   * cluster): two folders or clusters that declare the same resource own different VMs. A
   * marker without one was written before instances existed: it is anyone's, and upgraded.
   */
  instance?: string;
}

/** The same resource of a compatible controller: an instance on one side only is a marker from before instances. */
export function sameOwnerRef(a: OwnerRef | undefined, b: OwnerRef | undefined): boolean {
  return !!a && !!b && a.kind === b.kind && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '') && (!a.instance || !b.instance || a.instance === b.instance);
}

/** `VirtualMachine default/web` (and `of controller instance x` when it names one), for messages. */
export function describeOwner(o: OwnerRef): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}${o.instance ? ` of controller instance ${o.instance}` : ''}`;
}

/**
 * A create that was asked of a hypervisor and not yet seen finished (Crossplane's
 * external-create-pending): written to status before the create call, cleared once the VM is
 * found with its marker after a create that succeeded. While it is there, a VM of this name
 * without a marker is this resource's unfinished create: it is finished, never refused as
 * foreign, never made a second time.
 */
export interface PendingCreate {
  name: string;
  hypervisor: string;
  requestedAt: string;
}

export interface CpuTopology {
  sockets: number;
  cores: number;
  threads: number;
}

export type DiskInterface = 'virtio' | 'virtio-scsi' | 'sata' | 'ide';

export interface DesiredDisk {
  name: string;
  sizeBytes: number;
  storage?: string;
  interface: DiskInterface;
  bootable: boolean;
  format?: 'raw' | 'qcow2';
}

export interface DesiredNic {
  name: string;
  /** Bridge / vNIC profile / network name on the hypervisor. */
  network?: string;
  vlan?: number;
  /** libvirt: `network` is a libvirt network made for a VirtualNetwork (it carries the VLAN), not a host bridge. */
  virtualNetwork?: boolean;
  model: string;
  mac?: string;
  ipv4?: { address: string; gateway?: string };
  dnsServers?: string[];
}

export interface DesiredCloudInit {
  hostname?: string;
  user?: string;
  sshAuthorizedKeys?: string[];
  dnsServers?: string[];
  dnsSearch?: string[];
  userData?: string;
  timezone?: string;
}

export type RunStrategy = 'Always' | 'Halted' | 'Manual';
export type UpdatePolicy = 'Live' | 'RestartAllowed' | 'NextBoot';
export type PlacementStrategy = 'LeastLoaded' | 'Spread' | 'Pinned';

export interface DesiredVM {
  /** Resource key, e.g. `VirtualMachine/default/web-1`. */
  key: string;
  owner: OwnerRef;
  generation: number;
  hypervisor: string;
  /** Name on the hypervisor. */
  name: string;
  template?: string;
  clone: 'full' | 'linked';
  placement: { node?: string; cluster?: string; strategy: PlacementStrategy; allowedNodes?: string[] };
  cpu: CpuTopology;
  memoryBytes: number;
  maxMemoryBytes?: number;
  disks: DesiredDisk[];
  nics: DesiredNic[];
  cloudInit?: DesiredCloudInit;
  runStrategy: RunStrategy;
  autostart?: boolean;
  guestAgent: boolean;
  protection: boolean;
  deletionPolicy: 'Delete' | 'Orphan';
  updatePolicy: UpdatePolicy;
  /** Take over an unmarked VM of this name; `prune`: also detach the disks and NICs the spec does not list. */
  adopt: false | { prune: boolean };
  tags: string[];
  description?: string;
  pool?: string;
  /** The old aggregator's request metadata, carried to the provider's description/tags. */
  metadata: Record<string, string>;
}

export type PowerState = 'running' | 'stopped' | 'paused' | 'starting' | 'stopping' | 'unknown';

export interface ObservedDisk {
  /** Provider slot or alias (`scsi0`, `vda`, a disk alias). */
  name: string;
  /** A disk with a life of its own (a VirtualDisk): the VM's own disk list leaves it alone. */
  standalone?: boolean;
  sizeBytes: number;
  storage?: string;
  interface?: string;
  id?: string;
}

export interface ObservedNic {
  name: string;
  network?: string;
  vlan?: number;
  mac?: string;
  model?: string;
}

export interface ObservedVM {
  /** External id, e.g. `qemu/104`, an oVirt UUID, a libvirt UUID. */
  providerID: string;
  name: string;
  node?: string;
  power: PowerState;
  cpu: CpuTopology;
  memoryBytes: number;
  maxMemoryBytes?: number;
  /** Data disks in slot order, boot disk first; CD-ROMs and cloud-init drives excluded. */
  disks: ObservedDisk[];
  nics: ObservedNic[];
  /** The ownership marker, when the VM carries one. */
  owner?: OwnerRef;
  /** The VM was adopted (marked so by the provider): its unlisted disks and NICs are kept unless pruning is asked. */
  adopted?: boolean;
  /** The marker could not be read in this pass (the VM changed under the list): neither ours nor foreign yet. */
  ownerUnknown?: boolean;
  isTemplate: boolean;
  autostart?: boolean;
  ipAddresses: string[];
  guestOS?: string;
  /** Configuration staged for the next boot (Proxmox pending, oVirt next_run, libvirt config ≠ live). */
  pendingRestart: boolean;
  /** What the staged configuration holds, where it differs from the running one. */
  pending?: { cpu?: CpuTopology; memoryBytes?: number; maxMemoryBytes?: number };
  /** A create that did not finish (the provider's pending-create mark is still on it): the planner finishes it with `create`, or deletes it. */
  incomplete?: boolean;
  /** A lock or long operation the VM is under (`clone`, `image_locked`, `migrate`...). */
  busy?: string;
  /** When the VM became busy, where the hypervisor tells (e.g. an oVirt disk copy). */
  busySince?: string;
  createdAt?: string;
  migration?: { progress?: number; from?: string; to?: string };
  tags?: string[];
  /** What the list call says the VM uses right now (left out where the hypervisor does not tell). */
  usage?: VMUsage;
}

/**
 * Usage as the list calls report it. Counters are totals since the VM started (the hypervisor's
 * own counters); a reader that wants rates takes differences between observations.
 */
export interface VMUsage {
  /** 0..1 of the VM's vCPUs. */
  cpuRatio?: number;
  memoryUsedBytes?: number;
  diskReadBytes?: number;
  diskWriteBytes?: number;
  networkReceiveBytes?: number;
  networkTransmitBytes?: number;
  /** Where the hypervisor reports disk rates rather than totals (oVirt): bytes per second now. */
  diskReadBytesPerSecond?: number;
  diskWriteBytesPerSecond?: number;
}

export interface ObservedNode {
  name: string;
  state: 'online' | 'offline' | 'maintenance' | 'unknown';
  cpus?: number;
  /** 0..1 */
  cpuUsage?: number;
  memoryBytes?: number;
  memoryUsedBytes?: number;
  load?: number;
  vms?: number;
  /** In maintenance by the Hypervisor's spec.maintenance (the entry's reason, or ''): nothing is placed there. */
  cordoned?: string;
}

export interface ObservedTemplate {
  name: string;
  providerID: string;
  node?: string;
}

export interface Observation {
  vms: ObservedVM[];
  nodes: ObservedNode[];
  templates: ObservedTemplate[];
  version?: string;
  /** Nodes whose VMs could not be read this time (a host that does not answer): a VM missing from `vms` may be there. */
  unreachable?: string[];
}

/** What a provider can do without a restart, used by the planner to choose live or staged. */
export interface Capabilities {
  liveCpu: boolean;
  /** Whether vCPUs can be removed live (most hypervisors: no). */
  liveCpuDecrease: boolean;
  /** Only sockets can change live (oVirt). */
  liveCpuSocketsOnly: boolean;
  /** Whether the sockets/cores/threads split is kept (false: only the vCPU count is, as libvirt's current vCPUs). */
  cpuTopology?: boolean;
  liveMemory: boolean;
  /** Live memory changes must be multiples of this (oVirt: 256 MiB). */
  liveMemoryStepBytes?: number;
  liveMigration: boolean;
  diskGrow: boolean;
  liveDiskAttach: boolean;
  guestAgent: boolean;
  linkedClone: boolean;
  /** Whether observation lists templates (false: a missing one is found out at create time). */
  listsTemplates?: boolean;
  /** Whether the provider opens a VM's pool to its owner (Proxmox pools and ACLs). */
  poolAcls?: boolean;
}
