// The provider interface, after the Crossplane managed-resource model. Every provider
// (proxmox, ovirt, libvirt) implements it and must pass the contract suite in
// test/contract/provider-contract.ts. The contract:
//
// 1. `observe` NEVER mutates anything on the hypervisor, and serves every VM of the
//    hypervisor from one list call (plus detail reads only for VMs that are new, changed
//    since the last observation, or being acted on). It never waits on slow things such
//    as a guest agent: what is not known yet is left out and filled in a later pass.
// 2. `execute` is idempotent: running an action whose effect is already in place succeeds
//    without changing anything (create finds the VM by name and marker and returns; delete
//    of a missing VM succeeds; grow to a size already reached succeeds). A create that is
//    retried after a lock or timeout never makes a second VM. A create with `resume` (the
//    reconciler's pending-create record points at that VM) finishes it, writing the marker if
//    it has none; without `resume`, an unmarked VM of that name is refused. The marker goes in
//    the create call itself wherever the hypervisor allows (clone description, comment, XML).
// 3. `execute` re-checks the ownership marker before any destructive step (delete, stop,
//    resize, migrate, detach, reconfigure) and throws a RefusedError for a VM it does not own.
// 4. `execute` resolves when the hypervisor has finished the work (task/job done), reporting
//    progress through `onProgress`; it never blocks the event loop, and honours `signal`.
// 5. Errors are classified once, here, into the classes of controller/core/errors.ts:
//    ProviderNotFoundError, ProviderLockedError (retry later), ProviderConflictError,
//    ProviderTransientError, ProviderAuthError, ProviderInvalidError. Credentials never
//    appear in an error message, a log line or a status.
// 6. A `create` leaves the VM stopped, fully configured (CPU, memory, disks, NICs,
//    cloud-init, autostart, tags, description, ownership marker); powering is separate.
import type { Logger } from 'pino';
import type { VMAction } from './actions.ts';
import type { Capabilities, DiskInterface, Observation, OwnerRef } from './model.ts';
import type { Target } from './actions.ts';
import type { HypervisorSpec } from '../api/types.ts';

export type { Capabilities, Observation, OwnerRef } from './model.ts';
export type { Target, VMAction } from './actions.ts';
export { ADOPTED_MARKER, displayImage, formatOwner, INSTANCE_PATTERN, isAdopted, MARKER_PREFIX, parseOwner, sameOwner, withMarker } from './marker.ts';

export type Credentials = { username: string; password: string } | { token: string } | { none: true };

export interface Progress {
  percent?: number;
  message?: string;
  /** A live migration's progress while it runs, as far as the hypervisor tells. */
  migration?: MigrationProgress;
}

/** A live migration in flight: what the hypervisor reports of it. */
export interface MigrationProgress {
  percent?: number;
  /** Memory (and disk, where it is copied along) sent so far and in all, where the hypervisor counts bytes. */
  bytesDone?: number;
  bytesTotal?: number;
  /** The hypervisor's word for the stage (`active`, `completed`), where it gives one. */
  phase?: string;
  startedAt?: string;
}

export interface ActionContext {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface ObserveOptions {
  signal?: AbortSignal;
  /** Provider ids whose details must be re-read even if the list shows no change. */
  refresh?: readonly string[];
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A VLAN made available on one hypervisor (one binding of a VirtualNetwork). */
export interface DesiredNetwork {
  key: string;
  owner: OwnerRef;
  name: string;
  vlanId: number;
  mtu?: number;
  bridge?: string;
  sdn?: { zone: string; vnet: string };
  datacenter?: string;
  clusters?: { name: string; required?: boolean }[];
  nodes?: string[];
}

export interface NetworkState {
  present: boolean;
  providerIDs: string[];
  /** What is missing, when not present (`bridge vmbr0 is not VLAN-aware on pve2`). */
  message?: string;
}

/** A disk with a life of its own (a VirtualDisk). */
export interface DesiredStandaloneDisk {
  key: string;
  owner: OwnerRef;
  /** Name on the hypervisor (volume or alias), derived from the resource: controller/core/disk-name.ts. */
  name: string;
  /** The name main gave it before names were made unique (`vkdisk-<ns>-<name>`): a match only with a marker naming this resource. */
  legacyName?: string;
  /** The resource's Kubernetes UID (`metadata.uid`), when it has one: the disk's marker carries it. */
  uid?: string;
  sizeBytes: number;
  storage?: string;
  format?: 'raw' | 'qcow2';
  interface: 'virtio' | 'virtio-scsi' | 'sata' | 'ide';
  /** The hypervisor-side name of the VM it should be attached to, if any. */
  attachTo?: string;
  /** The provider id last reported (a Proxmox volume is renamed when it moves between VMs). */
  knownID?: string;
  /** The VM it was last attached to. */
  knownHolder?: string;
}

export interface DiskState {
  providerID: string;
  sizeBytes: number;
  attachedTo?: string;
  /** Why it is not as asked (a VM on another host, a VM not owned). */
  message?: string;
}

/** What a template offers, as far as the hypervisor tells (undefined: it cannot tell). */
export interface TemplateFacts {
  found: boolean;
  providerID?: string;
  node?: string;
  guestAgent?: boolean;
  cloudInit?: boolean;
  diskBytes?: number;
  /** Every node (and storage) that has it, where the provider keeps copies per node. */
  availability?: { node: string; storage?: string }[];
}

/** What the hypervisor would change to make a disk or network as desired; read only. */
export interface KindObservation<S> {
  /** Whether the thing exists on the hypervisor (a disk or a network under its name and marker). */
  exists: boolean;
  /** Whether `ensure` would change nothing. */
  upToDate: boolean;
  /** What is there now, when it exists. */
  state?: S;
  /** What `ensure` would do, one line each (`create volume vk-… 10Gi on local-lvm`, `grow 10Gi → 20Gi`). */
  intents: string[];
  /** Why `ensure` cannot make it so (a VM on another host, a VM not owned): `ensure` would throw or report it. */
  problem?: string;
}

/** What an action says it did, where it knows (a provider may return nothing). */
export interface ExecuteResult {
  /** The VM a `create` made or finished, where it is now: the plan's later steps act on it without a new observation. */
  made?: Target;
}

/** VMs: every VM of the hypervisor from one list call, and the actions of a plan. */
export interface VMClient {
  observe(options?: ObserveOptions): Promise<Observation>;
  // biome-ignore lint/suspicious/noConfusingVoidType: a provider with nothing to tell keeps its Promise<void>
  execute(action: VMAction, context?: ActionContext): Promise<ExecuteResult | void>;
  /**
   * Where the live migrations of these VMs stand, keyed by provider id (a VM not migrating is
   * absent); one read per group the provider batches by (the hypervisor, a source node). A
   * `migrate` action reports the same through `onProgress` while it runs.
   */
  migrations?(targets: readonly Target[], context?: ActionContext): Promise<ReadonlyMap<string, MigrationProgress>>;
}

/** Standalone disks (VirtualDisks). */
export interface DiskClient {
  /** Never changes anything; serves `plan`. */
  observe(d: DesiredStandaloneDisk, context?: ActionContext): Promise<KindObservation<DiskState>>;
  /** Creates, grows, attaches and detaches the disk until it matches; idempotent. */
  ensure(d: DesiredStandaloneDisk, context?: ActionContext): Promise<DiskState>;
  /** Detaches (from VMs it owns) and deletes a disk it created. */
  delete(d: DesiredStandaloneDisk, context?: ActionContext): Promise<void>;
}

/** VLAN networks (bindings of VirtualNetworks). */
export interface NetworkClient {
  /** Never changes anything; serves `plan`. */
  observe(n: DesiredNetwork, context?: ActionContext): Promise<KindObservation<NetworkState>>;
  /** Makes the VLAN available (verifies what must pre-exist, creates what it may); idempotent. */
  ensure(n: DesiredNetwork, context?: ActionContext): Promise<NetworkState>;
  /** Removes a network this controller created (by its marker); never one it did not, or one still in use. */
  delete(n: DesiredNetwork, context?: ActionContext): Promise<void>;
}

export interface ImportOptions extends ActionContext {
  storage?: string;
  node?: string;
  owner?: OwnerRef;
}

/** Templates: looked up always; imported or made from a VM where the provider can. */
export interface TemplateClient {
  /** Looks a template up by name and reports what it offers; never changes it. */
  inspect(name: string, context?: ActionContext): Promise<TemplateFacts>;
  /** Imports a qcow2/raw image (a local path) as a template of this name; idempotent. */
  import?(name: string, image: string, options?: ImportOptions): Promise<TemplateFacts>;
  /** Makes a template of this name from an owned, stopped VM; idempotent. */
  fromVM?(target: Target, name: string, options?: ImportOptions): Promise<TemplateFacts>;
  /** Whether making a template from a VM consumes the VM (Proxmox converts it in place; others copy its disks). */
  readonly fromVMConsumesVM?: boolean;
}

/** The QEMU guest agent. */
export interface GuestClient {
  /** Runs a command in the guest, polling until it exits; refuses (RefusedError, nothing run) a VM whose marker does not name target.owner. */
  exec(target: Target, command: string[], options?: ExecOptions): Promise<ExecResult>;
  /** Freezes the guest's file systems (for a quiesced snapshot); resolves with the number frozen. */
  freeze?(target: Target, context?: ActionContext): Promise<number>;
  thaw?(target: Target, context?: ActionContext): Promise<void>;
}

/** A snapshot as the hypervisor lists it. */
export interface ObservedSnapshot {
  /** The hypervisor's id (Proxmox: the snapshot name; oVirt: its UUID; libvirt: its name). */
  id: string;
  name: string;
  description?: string;
  createdAt?: string;
  memory: boolean;
  sizeBytes?: number;
  state: 'ready' | 'inProgress' | 'failed';
  /** The snapshot's own marker (its description), when virtkeeper made it. */
  owner?: OwnerRef;
}

export interface DesiredSnapshot {
  /** Name on the hypervisor (Proxmox: [A-Za-z][A-Za-z0-9_-]*, at most 40 characters). */
  name: string;
  owner: OwnerRef;
  description?: string;
  memory: boolean;
  quiesce: boolean;
}

/** Snapshots of a VM the controller owns (every call re-checks the VM's marker against target.owner). */
export interface SnapshotClient {
  list(target: Target, context?: ActionContext): Promise<ObservedSnapshot[]>;
  /** Idempotent: a snapshot of this name with this owner's marker is returned as is. */
  create(target: Target, snapshot: DesiredSnapshot, context?: ActionContext): Promise<ObservedSnapshot>;
  /** Reverts the VM's disks (and memory, when saved) to the snapshot; the VM must be in the state the hypervisor needs (stopped, for most). */
  revert(target: Target, snapshotID: string, context?: ActionContext): Promise<void>;
  /** Deletes a snapshot this controller made (its marker); a missing one succeeds. */
  delete(target: Target, snapshotID: string, context?: ActionContext): Promise<void>;
  /** Whether a running VM must be stopped before a revert. */
  readonly revertNeedsStop: boolean;
  /** Whether memory can be saved with a snapshot of a running VM. */
  readonly memory: boolean;
}

/** A short-lived console ticket and the remote-viewer file that carries it. Secret: never logged. */
export interface ConsoleTicket {
  protocol: 'spice' | 'vnc';
  host: string;
  port: number;
  tlsPort?: number;
  password: string;
  expiresAt: string;
  /** The remote-viewer (`.vv`) file's text. */
  viewerFile: string;
  /** An ssh command line that forwards the port when the host is not reachable directly. */
  tunnel?: string;
}

export interface ConsoleClient {
  open(target: Target, options: { protocol?: 'spice' | 'vnc'; ttlSeconds: number } & ActionContext): Promise<ConsoleTicket>;
}

/** Hypervisor nodes (hosts): the engine's own maintenance mode where there is one (oVirt). */
export interface NodeClient {
  setMaintenance(node: string, on: boolean, context?: ActionContext): Promise<void>;
}

/**
 * A connected hypervisor, one client per kind. What a provider cannot do is absent (not a
 * method that throws): `disks` missing means it does not manage standalone disks.
 */
export interface ProviderClient {
  readonly capabilities: Capabilities;
  readonly vms: VMClient;
  readonly disks?: DiskClient;
  readonly networks?: NetworkClient;
  readonly templates?: TemplateClient;
  readonly guest?: GuestClient;
  readonly snapshots?: SnapshotClient;
  readonly consoles?: ConsoleClient;
  readonly nodes?: NodeClient;
  /** Subscribes to change notifications (VM names or provider ids); returns an unsubscribe function. Absent: the provider cannot push changes. */
  watch?(onChange: (providerIDs: string[]) => void): () => void;
  close(): Promise<void>;
}

/**
 * A few texts by key a provider may keep between processes: what it learned of the VMs (each
 * one's list row and config), so a fresh process reads details only for rows that changed.
 * Directory mode keeps it under the state directory; `plan` reads it and writes nothing.
 */
export interface ProviderMemory {
  /** Undefined when missing or unreadable: the provider then reads what it needs. */
  read(key: string): Promise<string | undefined>;
  write(key: string, text: string): Promise<void>;
}

export interface ConnectOptions {
  /** The Hypervisor's name (used for logs and markers). */
  name: string;
  spec: HypervisorSpec;
  credentials: Credentials;
  logger: Logger;
  memory?: ProviderMemory;
  /**
   * Whether usage (ObservedVM.usage) is wanted: a long-running `run` or `ui` that shows the
   * gauges. A provider whose usage costs reads of their own (oVirt's statistics) makes them only then.
   */
  usage?: boolean;
}

/**
 * How a hypervisor reads the parts of a spec where hypervisors differ: the connector says, so
 * the core names no provider. Everything is optional; absent means the default given.
 */
export interface ProviderConventions {
  /** The bus of a disk whose spec names none (default virtio). */
  readonly diskInterface?: DiskInterface;
  /**
   * What a NIC on a VirtualNetwork attaches to when its binding names no SDN vnet, vNIC profile
   * or bridge: `bridge` (default), the Hypervisor's default bridge, tagged with the VLAN;
   * `named`, a network of the VirtualNetwork's name, tagged; `own`, a network of the
   * VirtualNetwork's name that carries the VLAN itself (whatever the binding says), untagged.
   */
  readonly virtualNetworks?: 'bridge' | 'named' | 'own';
}

export interface ProviderConnector {
  readonly type: HypervisorSpec['type'];
  readonly conventions?: ProviderConventions;
  connect(options: ConnectOptions): Promise<ProviderClient>;
}
