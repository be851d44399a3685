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
import { sameOwnerRef, type Capabilities, type Observation, type OwnerRef } from './model.ts';
import type { HypervisorSpec } from '../api/types.ts';

export type { Capabilities, Observation, OwnerRef } from './model.ts';
export type { VMAction } from './actions.ts';

export type Credentials = { username: string; password: string } | { token: string } | { none: true };

export interface Progress {
  percent?: number;
  message?: string;
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

export interface ProviderClient {
  readonly capabilities: Capabilities;
  /** Creates, grows, attaches and detaches a standalone disk until it matches; idempotent. */
  ensureDisk?(d: DesiredStandaloneDisk, context?: ActionContext): Promise<DiskState>;
  /** Detaches (from VMs it owns) and deletes a standalone disk it created. */
  deleteDisk?(d: DesiredStandaloneDisk): Promise<void>;
  /** Looks a template up by name and reports what it offers; never changes it. */
  inspectTemplate?(name: string): Promise<TemplateFacts>;
  /** Imports a qcow2/raw image (a local path) as a template of this name; idempotent. */
  importTemplate?(name: string, image: string, options?: { storage?: string; node?: string; owner?: OwnerRef; onProgress?: (p: Progress) => void }): Promise<TemplateFacts>;
  /** Makes a template of this name from an owned, stopped VM (Proxmox converts the VM; oVirt and libvirt copy its disks); idempotent. */
  templateFromVM?(target: import('./actions.ts').Target, name: string, options?: { storage?: string; onProgress?: (p: Progress) => void }): Promise<TemplateFacts>;
  /** Makes the VLAN available (verifies what must pre-exist, creates what it may); idempotent. */
  ensureNetwork?(n: DesiredNetwork): Promise<NetworkState>;
  /** Removes a network this controller created (by its marker); never one it did not, or one still in use. */
  deleteNetwork?(n: DesiredNetwork): Promise<void>;
  /** Runs a command in the guest through the QEMU guest agent, polling until it exits; refuses (RefusedError, nothing run) a VM whose marker does not name target.owner. */
  exec?(target: import('./actions.ts').Target, command: string[], options?: ExecOptions): Promise<ExecResult>;
  observe(options?: ObserveOptions): Promise<Observation>;
  execute(action: VMAction, context?: ActionContext): Promise<void>;
  /** Subscribes to change notifications (VM names or provider ids); returns an unsubscribe function. */
  watch?(onChange: (providerIDs: string[]) => void): () => void;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** The Hypervisor's name (used for logs and markers). */
  name: string;
  spec: HypervisorSpec;
  credentials: Credentials;
  logger: Logger;
}

export interface ProviderConnector {
  readonly type: HypervisorSpec['type'];
  connect(options: ConnectOptions): Promise<ProviderClient>;
}

/**
 * The ownership marker, in its one text form: `virtkeeper.io/owner=VirtualMachine/default/web-1@a1b2c3d4`,
 * the part after `@` naming the controller instance (absent in markers written before instances).
 */
export const MARKER_PREFIX = 'virtkeeper.io/owner=';

/** What an instance id may be: it travels inside descriptions, comments and XML text. */
export const INSTANCE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

export function formatOwner(owner: OwnerRef): string {
  return `${MARKER_PREFIX}${owner.kind}/${owner.namespace ? `${owner.namespace}/` : ''}${owner.name}${owner.instance ? `@${owner.instance}` : ''}`;
}

/** The text with its marker replaced by this owner's, or with the marker put first when it has none. */
export function withMarker(text: string | undefined, owner: OwnerRef, separator = '\n'): string {
  const old = text ?? '';
  const at = old.indexOf(MARKER_PREFIX);
  if (at < 0) return old ? `${formatOwner(owner)}${separator}${old}` : formatOwner(owner);
  const end = old.slice(at).search(/[\s;,]/);
  return `${old.slice(0, at)}${formatOwner(owner)}${end < 0 ? '' : old.slice(at + end)}`;
}

/** Finds the marker in free text (a description, a comment, metadata) and parses it. */
export function parseOwner(text: string | undefined): OwnerRef | undefined {
  if (!text) return undefined;
  const at = text.indexOf(MARKER_PREFIX);
  if (at < 0) return undefined;
  const rest = text.slice(at + MARKER_PREFIX.length).split(/[\s;,]/)[0] ?? '';
  const [path = '', instance] = rest.split('@');
  const parts = path.split('/');
  const inst = instance ? { instance } : {};
  if (parts.length === 3) return { kind: parts[0] ?? '', namespace: parts[1] ?? '', name: parts[2] ?? '', ...inst };
  if (parts.length === 2) return { kind: parts[0] ?? '', name: parts[1] ?? '', ...inst };
  return undefined;
}

/**
 * Written beside the owner marker on a VM virtkeeper adopted (it did not create it): later passes,
 * and a controller that lost its state, keep the disks and NICs its spec does not list.
 */
export const ADOPTED_MARKER = 'virtkeeper.io/adopted=true';

export function isAdopted(text: string | undefined): boolean {
  return !!text && text.includes(ADOPTED_MARKER);
}

/** The same resource; an instance on one side only is a marker from before instances, still ours. */
export const sameOwner = sameOwnerRef;

/**
 * An image location as it may be shown (status, events, logs, errors): a URL loses its
 * user:password and its query (tokens travel there); a path is shown as is.
 */
export function displayImage(image: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(image)) return image;
  try {
    const u = new URL(image);
    return `${u.protocol}//${u.username || u.password ? '***@' : ''}${u.host}${u.pathname}${u.search ? '?***' : ''}`;
  } catch {
    return '(an image URL that does not parse)';
  }
}
