import { Type, type Static } from 'typebox';
import { Conditions, Immutable, DeletionPolicy, DiskFormat, DiskInterface, Name, Quantity, Resource, SafeName, UpdatePolicy } from './common.ts';

export const Placement = Type.Object(
  {
    cluster: Type.Optional(SafeName('oVirt cluster.')),
    node: Type.Optional(SafeName('Pin to this node/host; changing it live-migrates the VM.')),
    strategy: Type.Optional(Type.Union([Type.Literal('LeastLoaded'), Type.Literal('Spread'), Type.Literal('Pinned')])),
    nodeSelector: Type.Optional(Type.Record(Type.String(), Type.String())),
    allowedNodes: Type.Optional(Type.Array(SafeName('A node the VM may be placed on.'))),
  },
  { additionalProperties: false },
);

export const VMDisk = Type.Object(
  {
    name: { ...SafeName("The disk's name in the spec (part of its volume name on libvirt)."), maxLength: 63 },
    size: Quantity('Disk size; disks only grow.'),
    storage: Type.Optional(SafeName('Proxmox storage, oVirt storage domain or libvirt pool.')),
    interface: Type.Optional(DiskInterface),
    bootable: Type.Optional(Type.Boolean()),
    format: Type.Optional(DiskFormat),
    mountPoint: Type.Optional(Type.String()),
  },
  {
    additionalProperties: false,
    'x-kubernetes-validations': [{ rule: 'quantity(self.size).compareTo(quantity(oldSelf.size)) >= 0', message: 'a disk size may never decrease (disks only grow)' }],
  },
);

export const IPv4 = Type.Object(
  {
    address: Type.String({ description: 'CIDR, e.g. 10.0.0.5/24', pattern: '^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$' }),
    gateway: Type.Optional(Type.String({ format: 'ipv4' })),
  },
  { additionalProperties: false },
);

export const VMNetwork = Type.Object(
  {
    name: { ...SafeName("The NIC's name in the spec."), maxLength: 63 },
    network: Type.Optional(SafeName('A VirtualNetwork name or a raw bridge / vNIC profile.')),
    vlan: Type.Optional(Type.Integer({ minimum: 1, maximum: 4094 })),
    model: Type.Optional(Type.Union([Type.Literal('virtio'), Type.Literal('e1000'), Type.Literal('rtl8139'), Type.Literal('vmxnet3')])),
    mac: Type.Optional(Type.String({ pattern: '^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$' })),
    ipv4: Type.Optional(IPv4),
    dnsServers: Type.Optional(Type.Array(Type.String({ format: 'ipv4' }))),
  },
  { additionalProperties: false },
);

export const CloudInit = Type.Object(
  {
    hostname: Type.Optional(Type.String()),
    user: Type.Optional(Type.String()),
    sshAuthorizedKeys: Type.Optional(Type.Array(Type.String())),
    dnsServers: Type.Optional(Type.Array(Type.String({ format: 'ipv4' }))),
    dnsSearch: Type.Optional(Type.Array(Type.String())),
    userData: Type.Optional(Type.String()),
    timezone: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const RunStrategy = Type.Union([Type.Literal('Always'), Type.Literal('Halted'), Type.Literal('Manual')]);

export const VirtualMachineSpec = Type.Object(
  {
    hypervisor: Immutable(Name('The Hypervisor this VM lives on; immutable.')),
    name: Type.Optional({ ...SafeName('Name on the hypervisor; defaults to metadata.name.'), maxLength: 63 }),
    placement: Type.Optional(Placement),
    template: Type.Optional(SafeName('A VMTemplate name or a provider template name.')),
    clone: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('linked')])),
    cpu: Type.Optional(
      Type.Object(
        {
          sockets: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, default: 1 })),
          cores: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, default: 1 })),
          threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 8, default: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    memory: Quantity('Memory, e.g. 2Gi.'),
    maxMemory: Type.Optional(Quantity('Hot-plug ceiling for memory.')),
    disks: Type.Optional(Type.Array(VMDisk, { maxItems: 24, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })),
    networks: Type.Optional(Type.Array(VMNetwork, { maxItems: 16, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })),
    cloudInit: Type.Optional(CloudInit),
    runStrategy: Type.Optional(RunStrategy),
    autostart: Type.Optional(Type.Boolean()),
    guestAgent: Type.Optional(Type.Boolean()),
    protection: Type.Optional(Type.Boolean({ description: 'Refuse to delete this VM.' })),
    deletionPolicy: Type.Optional(DeletionPolicy),
    updatePolicy: Type.Optional(UpdatePolicy),
    adopt: Type.Optional(
      Type.Union([Type.Boolean(), Type.Object({ prune: Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false })], {
        description:
          'Take ownership of an existing VM with this name that carries no marker. The adopting pass only marks the VM; afterwards the disks and NICs the spec does not list are kept (condition UnlistedDevices) unless {prune: true}. The Hypervisor decides which namespaces may adopt (spec.allowAdoption).',
      }),
    ),
    owner: Type.Optional(Type.String()),
    environment: Type.Optional(Type.String()),
    documentNumber: Type.Optional(Type.String()),
    informationSystem: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    pool: Type.Optional(SafeName('Proxmox pool (set by a VirtualMachineSet for per-user stands).')),
  },
  { additionalProperties: false },
);

export const Phase = Type.Union([
  Type.Literal('Pending'),
  Type.Literal('Provisioning'),
  Type.Literal('Starting'),
  Type.Literal('Running'),
  Type.Literal('Stopped'),
  Type.Literal('Migrating'),
  Type.Literal('Updating'),
  Type.Literal('Deleting'),
  Type.Literal('Failed'),
]);

export const PlannedAction = Type.Object({ type: Type.String(), description: Type.String(), disruptive: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

export const VirtualMachineStatus = Type.Object(
  {
    phase: Type.Optional(Phase),
    conditions: Type.Optional(Conditions),
    providerID: Type.Optional(Type.String()),
    node: Type.Optional(Type.String()),
    cpus: Type.Optional(Type.Integer()),
    memory: Type.Optional(Type.String()),
    ipAddresses: Type.Optional(Type.Array(Type.String())),
    ip: Type.Optional(Type.String({ description: 'First address, for the printer column.' })),
    guestOS: Type.Optional(Type.String()),
    createdAt: Type.Optional(Type.String()),
    lastAction: Type.Optional(Type.String()),
    plannedActions: Type.Optional(Type.Array(PlannedAction)),
    migration: Type.Optional(
      Type.Object(
        {
          progress: Type.Optional(Type.Integer()),
          from: Type.Optional(Type.String()),
          to: Type.Optional(Type.String()),
          reason: Type.Optional(Type.String({ description: 'Why it moves, when virtkeeper moved it (a node maintenance drain).' })),
          bytesDone: Type.Optional(Type.Integer({ description: 'Memory (and disk, where copied) sent so far, where the hypervisor counts bytes.' })),
          bytesTotal: Type.Optional(Type.Integer()),
          phase: Type.Optional(Type.String({ description: "The hypervisor's word for the stage, where it gives one." })),
          startedAt: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    progress: Type.Optional(Type.Object({ action: Type.String(), percent: Type.Optional(Type.Integer()) }, { additionalProperties: false })),
    pendingCreate: Type.Optional(
      Type.Object(
        { name: Type.String(), hypervisor: Type.String(), requestedAt: Type.String() },
        { additionalProperties: false, description: 'A create asked of the hypervisor and not yet seen finished; while set, a VM of this name without a marker is this one, unfinished.' },
      ),
    ),
    observedGeneration: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

export const VirtualMachine = Resource('VirtualMachine', VirtualMachineSpec, VirtualMachineStatus);
export type VirtualMachine = Static<typeof VirtualMachine>;
export type VirtualMachineSpec = Static<typeof VirtualMachineSpec>;
export type VirtualMachineStatus = Static<typeof VirtualMachineStatus>;
export type VMDisk = Static<typeof VMDisk>;
export type VMNetwork = Static<typeof VMNetwork>;
export type CloudInit = Static<typeof CloudInit>;
export type Phase = Static<typeof Phase>;
