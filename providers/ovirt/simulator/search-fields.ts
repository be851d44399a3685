// What each collection's search can name, as the engine's condition-field tables define it
// (a subset: the fields the simulator has), and how a simulated object answers each field.
import type { EngineState, SimDisk, SimEvent, SimHost, SimJob, SimTemplate, SimVM } from './model.ts';
import { MiB } from './model.ts';
import type { FieldSpec, SearchRecord, SearchSchema } from './search.ts';

const str: FieldSpec = { type: 'string' };
const int: FieldSpec = { type: 'int' };
const idf: FieldSpec = { type: 'id' };
const bool: FieldSpec = { type: 'bool' };
const en = (...values: string[]): FieldSpec => ({ type: 'enum', values: values.map((v) => v.toUpperCase()) });

// The engine's enum names (VMStatus, VDSStatus, …), not the REST API's snake_case.
const VM_STATUS = en(
  'Unassigned',
  'Down',
  'Up',
  'PoweringUp',
  'Paused',
  'MigratingFrom',
  'MigratingTo',
  'Unknown',
  'NotResponding',
  'WaitForLaunch',
  'RebootInProgress',
  'SavingState',
  'RestoringState',
  'Suspended',
  'ImageIllegal',
  'ImageLocked',
  'PoweringDown',
);
const HOST_STATUS = en(
  'Unassigned',
  'Down',
  'Maintenance',
  'Up',
  'NonResponsive',
  'Error',
  'Installing',
  'InstallFailed',
  'Reboot',
  'PreparingForMaintenance',
  'NonOperational',
  'PendingApproval',
  'Initializing',
  'Connecting',
  'InstallingOS',
  'Kdumping',
);

const hosts: SearchSchema = {
  object: 'Hosts',
  defaultSort: 'NAME',
  fields: { NAME: str, COMMENT: str, STATUS: HOST_STATUS, CLUSTER: str, DATACENTER: str, ADDRESS: str, MEMORY: int, CPUS: int, ACTIVE_VMS: int, TAG: str, ID: idf },
};
const templates: SearchSchema = {
  object: 'Template',
  defaultSort: 'NAME',
  fields: { NAME: str, COMMENT: str, DESCRIPTION: str, STATUS: en('OK', 'Locked', 'Illegal'), CLUSTER: str, DATACENTER: str, MEM: int, VMT_ID: idf, TAG: str },
};

const vmFields = {
  NAME: str,
  COMMENT: str,
  DESCRIPTION: str,
  STATUS: VM_STATUS,
  CLUSTER: str,
  DATACENTER: str,
  TAG: str,
  MEMORY: int,
  GUARANTEED_MEMORY: int,
  VCPUS: int,
  ID: idf,
  TYPE: en('Desktop', 'Server', 'HighPerformance'),
  NEXT_RUN_CONFIG_EXISTS: bool,
  ON_HOST: str,
};

export const SCHEMAS: Readonly<Record<string, SearchSchema>> = {
  vms: { object: 'VMs', defaultSort: 'NAME', fields: vmFields, refs: { HOST: hosts, TEMPLATE: templates } },
  hosts,
  clusters: { object: 'Clusters', defaultSort: 'NAME', fields: { NAME: str, DESCRIPTION: str, COMMENT: str, ARCHITECTURE: en('undefined', 'x86_64', 'ppc64', 'x86', 'ppc', 's390x') } },
  datacenters: {
    object: 'Datacenter',
    defaultSort: 'NAME',
    fields: { NAME: str, DESCRIPTION: str, COMMENT: str, STATUS: en('Uninitialized', 'Up', 'Maintenance', 'NotOperational', 'NonResponsive', 'Contend'), LOCAL: bool },
  },
  storagedomains: {
    object: 'Storage',
    defaultSort: 'NAME',
    fields: {
      NAME: str,
      STATUS: en('Unknown', 'Uninitialized', 'Unattached', 'Active', 'Inactive', 'Locked', 'Maintenance', 'PreparingForMaintenance', 'Detaching', 'Activating'),
      DATACENTER: str,
      TYPE: en('UNKNOWN', 'NFS', 'FCP', 'ISCSI', 'LOCALFS', 'POSIXFS', 'GLUSTERFS', 'GLANCE', 'CINDER', 'MANAGED_BLOCK_STORAGE', 'UNMANAGED'),
      FREE_SIZE: int,
      USED_SIZE: int,
      COMMENT: str,
      DESCRIPTION: str,
    },
  },
  // `vm.name=web-1` finds the template a VM was made from (the ovirt.ovirt collection asks so).
  templates: { ...templates, refs: { VM: { object: 'VMs', fields: vmFields } } },
  networks: { object: 'Networks', defaultSort: 'NAME', fields: { NAME: str, DESCRIPTION: str, COMMENT: str, VLAN_ID: int, MTU: int, VM_NETWORK: bool, DATA_CENTER: str } },
  disks: {
    object: 'Disks',
    defaultSort: 'ALIAS',
    fields: {
      ALIAS: str,
      NAME: str,
      DESCRIPTION: str,
      PROVISIONED_SIZE: int,
      SIZE: int,
      ACTUAL_SIZE: int,
      STATUS: en('Unassigned', 'OK', 'LOCKED', 'ILLEGAL'),
      NUMBER_OF_VMS: int,
      VM_NAMES: str,
      ID: idf,
      SHAREABLE: bool,
    },
  },
  events: { object: 'Events', fields: { TYPE: int, SEVERITY: en('NORMAL', 'WARNING', 'ERROR', 'ALERT'), MESSAGE: str, EVENT_VM: str, EVENT_HOST: str, CORRELATION_ID: str, ORIGIN: str } },
  jobs: { object: 'Jobs', fields: { CORRELATION_ID: idf } },
};

/** REST status → the engine's enum name (`image_locked` → `ImageLocked`; a migrating VM is `MigratingFrom`). */
const enumName = (rest: string) =>
  rest === 'migrating'
    ? 'MigratingFrom'
    : rest
        .split('_')
        .map((w) => (w[0] ?? '').toUpperCase() + w.slice(1))
        .join('');

type Values = Record<string, string | number | boolean | readonly string[] | undefined>;
const rec = (v: Values, refs: Record<string, () => SearchRecord[]> = {}): SearchRecord => ({ field: (n) => v[n], ref: (n) => refs[n]?.() ?? [] });

export function hostRecord(s: EngineState, h: SimHost): SearchRecord {
  const cl = s.clusters.find((c) => c.id === h.cluster);
  return rec({
    NAME: h.name,
    STATUS: enumName(h.status),
    CLUSTER: cl?.name,
    DATACENTER: s.datacenters.find((d) => d.id === cl?.data_center)?.name,
    ADDRESS: h.name,
    MEMORY: Math.floor(h.memory / MiB),
    CPUS: h.cores,
    ACTIVE_VMS: s.vms.filter((v) => v.host === h.id && v.status === 'up').length,
    ID: h.id,
    COMMENT: '',
  });
}

export function templateRecord(s: EngineState, t: SimTemplate): SearchRecord {
  const cl = s.clusters.find((c) => c.id === t.cluster);
  // Blank belongs to no cluster, so to no data center either (its row has none).
  const dc = s.datacenters.find((d) => d.id === cl?.data_center)?.name;
  return rec(
    { NAME: t.name, STATUS: t.status, CLUSTER: cl?.name, DATACENTER: dc, MEM: Math.floor(t.memory / MiB), VMT_ID: t.id, DESCRIPTION: t.description ?? '', COMMENT: '' },
    { VM: () => s.vms.filter((v) => v.template === t.id).map((v) => vmRecord(s, v)) },
  );
}

export function vmRecord(s: EngineState, v: SimVM): SearchRecord {
  const cl = s.clusters.find((c) => c.id === v.cluster);
  const host = s.hosts.find((h) => h.id === v.host);
  const tpl = s.templates.find((t) => t.id === v.template);
  return rec(
    {
      NAME: v.name,
      COMMENT: v.config.comment,
      DESCRIPTION: v.config.description,
      STATUS: enumName(v.status),
      CLUSTER: cl?.name,
      DATACENTER: s.datacenters.find((d) => d.id === cl?.data_center)?.name,
      TAG: v.tags.map((t) => s.tags.find((x) => x.id === t)?.name ?? ''),
      MEMORY: Math.floor(v.config.memory / MiB),
      GUARANTEED_MEMORY: Math.floor(v.config.memory / MiB),
      VCPUS: v.config.sockets * v.config.cores * v.config.threads,
      ID: v.id,
      TYPE: 'Server',
      NEXT_RUN_CONFIG_EXISTS: !!v.next_run,
      ON_HOST: host?.name,
    },
    { HOST: () => (host ? [hostRecord(s, host)] : []), TEMPLATE: () => (tpl ? [templateRecord(s, tpl)] : []) },
  );
}

export function diskRecord(s: EngineState, d: SimDisk): SearchRecord {
  const holders = s.vms.filter((v) => v.attachments.some((a) => a.disk === d.id));
  return rec({
    ALIAS: d.name,
    NAME: d.name,
    DESCRIPTION: d.description ?? '',
    PROVISIONED_SIZE: d.provisioned_size,
    SIZE: d.provisioned_size,
    ACTUAL_SIZE: d.actual_size,
    STATUS: d.status,
    NUMBER_OF_VMS: holders.length,
    VM_NAMES: holders.map((v) => v.name),
    ID: d.id,
    SHAREABLE: false,
  });
}

export function eventRecord(s: EngineState, e: SimEvent): SearchRecord {
  return rec({ TYPE: e.code, SEVERITY: e.severity, MESSAGE: e.description, EVENT_VM: s.vms.find((v) => v.id === e.vm)?.name, CORRELATION_ID: e.correlation_id, ORIGIN: 'oVirt' });
}

export const jobRecord = (j: SimJob): SearchRecord => rec({ CORRELATION_ID: j.correlation_id });

/** The record builder for a collection's plain objects (data centers, clusters, storage domains, networks). */
export interface NamedLike {
  id: string;
  name: string;
  status?: string;
  available?: number;
  used?: number;
  description?: string;
  vlan?: number;
  mtu?: number;
  data_center?: string;
}

export function namedRecord(s: EngineState, collection: string, o: NamedLike): SearchRecord {
  const dc = (id: unknown) => s.datacenters.find((d) => d.id === id)?.name;
  switch (collection) {
    case 'datacenters':
      return rec({ NAME: o.name, STATUS: 'Up', DESCRIPTION: '', COMMENT: '', LOCAL: false });
    case 'clusters':
      return rec({ NAME: o.name, DESCRIPTION: '', COMMENT: '', ARCHITECTURE: 'x86_64' });
    case 'storagedomains':
      return rec({
        NAME: o.name,
        STATUS: enumName(String(o.status ?? 'active')),
        DATACENTER: s.datacenters[0]?.name,
        TYPE: 'NFS',
        FREE_SIZE: Math.floor(Number(o.available ?? 0) / 2 ** 30),
        USED_SIZE: Math.floor(Number(o.used ?? 0) / 2 ** 30),
        COMMENT: '',
        DESCRIPTION: '',
      });
    case 'networks':
      return rec({ NAME: o.name, DESCRIPTION: String(o.description ?? ''), COMMENT: '', VLAN_ID: o.vlan, MTU: o.mtu, VM_NETWORK: true, DATA_CENTER: dc(o.data_center) });
    default:
      return rec({ NAME: o.name });
  }
}
