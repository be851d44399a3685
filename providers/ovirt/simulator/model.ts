// The simulated engine's state: plain data, dumpable to JSON.
import { randomUUID } from 'node:crypto';

export const GiB = 2 ** 30;
export const MiB = 2 ** 20;

export interface Named {
  id: string;
  name: string;
}
export interface SimHost extends Named {
  cluster: string;
  memory: number;
  cores: number;
  /** `preparing_for_maintenance` and `unassigned` are the ways into and out of maintenance. */
  status: 'up' | 'maintenance' | 'preparing_for_maintenance' | 'unassigned';
  load: number;
}
export interface SimDisk extends Named {
  provisioned_size: number;
  actual_size: number;
  status: 'ok' | 'locked';
  format: 'cow' | 'raw';
  storage_domain: string;
  sparse: boolean;
  description?: string;
}
export interface SimAttachment {
  id: string;
  disk: string;
  interface: string;
  bootable: boolean;
  active: boolean;
}
export interface SimNic {
  id: string;
  name: string;
  interface: string;
  mac: string;
  vnic_profile?: string;
  plugged: boolean;
  linked: boolean;
}
export interface SimNetwork extends Named {
  data_center: string;
  vlan?: number;
  mtu: number;
  description?: string;
  clusters: { id: string; required: boolean }[];
}
export interface SimTemplate extends Named {
  cluster: string;
  memory: number;
  sockets: number;
  cores: number;
  status: 'ok' | 'locked';
  disks: { alias: string; size: number; interface: string }[];
  description?: string;
}

export interface VmConfig {
  memory: number;
  max_memory: number;
  sockets: number;
  cores: number;
  threads: number;
  description: string;
  comment: string;
  delete_protected: boolean;
}

export interface SimVM extends Named {
  cluster: string;
  template: string;
  status: string;
  host?: string;
  config: VmConfig;
  next_run?: Partial<VmConfig>;
  attachments: SimAttachment[];
  nics: SimNic[];
  initialization?: Record<string, unknown>;
  started_once: boolean;
  creation_time: number;
  tags: string[];
  migrating_to?: string;
  /** When the migration under way began and is due to end (ms): its `migration.progress` goes with the clock between. */
  migration_window?: { from: number; to: number };
  start_time?: number;
  stop_time?: number;
  /** What the last stop or shutdown gave as its `reason`. */
  stop_reason?: string;
  /** Regular snapshots (the `active` one is the VM itself). */
  snapshots?: SimSnapshot[];
  /** A snapshot being previewed: the VM runs from it until commit or undo. */
  in_preview?: string;
  /** What the VM was before the preview, for undosnapshot. */
  preview_before?: SimSnapshot;
  /** Memory restored with a snapshot: the next start resumes it instead of booting. */
  resume_memory?: { from: string; bytes: number };
  /** The console ticket last set (graphicsconsoles/{id}/ticket), with its end. */
  ticket?: { value: string; expires: number };
}

/** What a snapshot holds: the configuration and each disk's size when it was taken, memory if saved. */
export interface SimSnapshot {
  id: string;
  description: string;
  date: number;
  status: 'ok' | 'locked' | 'in_preview';
  persist_memorystate: boolean;
  config: VmConfig;
  disks: { disk: string; provisioned_size: number; actual_size: number; interface: string; bootable: boolean }[];
  /** The guest memory saved (bytes of the VM's memory then), when the VM was up and memory was asked. */
  memory?: number;
}

export interface SimJob {
  id: string;
  description: string;
  status: 'started' | 'finished' | 'failed';
  start_time: number;
  end_time?: number;
  correlation_id?: string;
}
export interface SimEvent {
  id: string;
  index: number;
  code: number;
  severity: 'normal' | 'warning' | 'error';
  time: number;
  description: string;
  vm?: string;
  correlation_id?: string;
}

export interface EngineState {
  name: string;
  datacenters: Named[];
  clusters: (Named & { data_center: string })[];
  hosts: SimHost[];
  storagedomains: (Named & { available: number; used: number; committed: number; type: string; status: string })[];
  templates: SimTemplate[];
  networks: SimNetwork[];
  vnicprofiles: (Named & { network: string })[];
  vms: SimVM[];
  disks: SimDisk[];
  jobs: SimJob[];
  events: SimEvent[];
  tags: Named[];
  nextEvent: number;
}

export const id = () => randomUUID();

let macSeq = 0x100;
/** A MAC from the simulator's own range, unique within the process. */
export function mac(): string {
  const n = macSeq++;
  return `56:6f:${((n >> 24) & 255).toString(16).padStart(2, '0')}:${((n >> 16) & 255).toString(16).padStart(2, '0')}:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
}

export function seedEngine(o: { name: string; hosts: number; templates: string[]; storageGiB?: number }): EngineState {
  const dc = { id: id(), name: 'Default' };
  const cl = { id: id(), name: 'Default', data_center: dc.id };
  const mgmt: SimNetwork = { id: id(), name: 'ovirtmgmt', data_center: dc.id, mtu: 1500, clusters: [{ id: cl.id, required: true }] };
  const blank: SimTemplate = { id: '00000000-0000-0000-0000-000000000000', name: 'Blank', cluster: '', memory: GiB, sockets: 1, cores: 1, status: 'ok', disks: [] };
  return {
    name: o.name,
    datacenters: [dc],
    clusters: [cl],
    hosts: Array.from({ length: o.hosts }, (_, i) => ({ id: id(), name: `host${i + 1}`, cluster: cl.id, memory: 256 * GiB, cores: 32, status: 'up', load: 0.1 * (i + 1) })),
    storagedomains: [{ id: id(), name: 'data1', available: (o.storageGiB ?? 8192) * GiB, used: 0, committed: 0, type: 'data', status: 'active' }],
    templates: [
      blank,
      ...o.templates.map((name) => ({
        id: id(),
        name,
        cluster: cl.id,
        memory: 2 * GiB,
        sockets: 1,
        cores: 2,
        status: 'ok' as const,
        disks: [{ alias: `${name}_disk`, size: 10 * GiB, interface: 'virtio_scsi' }],
      })),
    ],
    networks: [mgmt],
    vnicprofiles: [{ id: id(), name: 'ovirtmgmt', network: mgmt.id }],
    vms: [],
    disks: [],
    jobs: [],
    events: [],
    tags: [],
    nextEvent: 1000,
  };
}
