// The kinds beyond Hypervisor and VirtualMachine: disks, networks, templates, sets.
import { Type, type Static } from 'typebox';
import { Conditions, Immutable, DeletionPolicy, DiskFormat, DiskInterface, ImageRef, Name, Quantity, Resource, SafeName } from './common.ts';
import { VirtualMachineSpec } from './virtualmachine.ts';

export const VirtualDiskSpec = Type.Object(
  {
    hypervisor: Immutable(Name('The Hypervisor this disk lives on; immutable.')),
    size: {
      ...Quantity('Disk size; disks only grow.'),
      'x-kubernetes-validations': [{ rule: 'quantity(self).compareTo(quantity(oldSelf)) >= 0', message: 'a disk size may never decrease (disks only grow)' }],
    },
    storage: Type.Optional(SafeName('Proxmox storage, oVirt storage domain or libvirt pool.')),
    format: Type.Optional(DiskFormat),
    interface: Type.Optional(DiskInterface),
    attachTo: Type.Optional(Type.Object({ vm: SafeName('The VM (its name on the hypervisor) the disk is attached to.'), bootable: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
    deletionPolicy: Type.Optional(DeletionPolicy),
  },
  { additionalProperties: false },
);
export const VirtualDiskStatus = Type.Object(
  {
    phase: Type.Optional(Type.String()),
    conditions: Type.Optional(Conditions),
    providerID: Type.Optional(Type.String()),
    attachedTo: Type.Optional(Type.String()),
    actualSize: Type.Optional(Type.String()),
    observedGeneration: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);
export const VirtualDisk = Resource('VirtualDisk', VirtualDiskSpec, VirtualDiskStatus);

export const NetworkBinding = Type.Object(
  {
    hypervisor: Name('The Hypervisor this binding applies to.'),
    bridge: Type.Optional(SafeName('Proxmox VLAN-aware bridge (vmbr0) or alias form vmbr0.100; libvirt host bridge.')),
    sdn: Type.Optional(Type.Object({ zone: SafeName('Proxmox SDN zone.'), vnet: SafeName('Proxmox SDN vnet.') }, { additionalProperties: false })),
    datacenter: Type.Optional(SafeName('oVirt data center.')),
    clusters: Type.Optional(Type.Array(Type.Object({ name: SafeName('oVirt cluster.'), required: Type.Optional(Type.Boolean()) }, { additionalProperties: false }))),
    vnicProfile: Type.Optional(SafeName('oVirt vNIC profile.')),
    openvswitch: Type.Optional(Type.Boolean({ description: 'libvirt: an Open vSwitch port group instead of a VLAN-tagged bridge.' })),
    nodes: Type.Optional(Type.Array(SafeName('A node the binding applies to.'))),
  },
  { additionalProperties: false },
);
export const VirtualNetworkSpec = Type.Object(
  {
    vlanId: Type.Integer({ minimum: 1, maximum: 4094 }),
    mtu: Type.Optional(Type.Integer({ minimum: 576, maximum: 9216 })),
    cidr: Type.Optional(Type.String({ pattern: '^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$' })),
    gateway: Type.Optional(Type.String({ format: 'ipv4' })),
    hypervisors: Type.Array(NetworkBinding, { minItems: 1 }),
    deletionPolicy: Type.Optional(DeletionPolicy),
  },
  { additionalProperties: false },
);
export const VirtualNetworkStatus = Type.Object(
  {
    conditions: Type.Optional(Conditions),
    hypervisors: Type.Optional(
      Type.Array(
        Type.Object({ name: Type.String(), present: Type.Boolean(), providerIDs: Type.Optional(Type.Array(Type.String())), message: Type.Optional(Type.String()) }, { additionalProperties: false }),
      ),
    ),
    observedGeneration: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);
export const VirtualNetwork = Resource('VirtualNetwork', VirtualNetworkSpec, VirtualNetworkStatus);

export const VMTemplateSpec = Type.Object(
  {
    hypervisor: Name('The Hypervisor this template lives on.'),
    name: Type.Optional(SafeName('Name on the hypervisor; defaults to metadata.name.')),
    node: Type.Optional(SafeName('The node the template is made on.')),
    storage: Type.Optional(SafeName('Proxmox storage, oVirt storage domain or libvirt pool.')),
    source: Type.Object(
      {
        existing: Type.Optional(SafeName('Adopt and validate a template of this name.')),
        fromVirtualMachine: Type.Optional(Type.String({ description: 'Turn this owned, stopped VirtualMachine into the template.' })),
        image: Type.Optional(ImageRef('A qcow2/raw image path or URL to import.')),
      },
      { additionalProperties: false, minProperties: 1, maxProperties: 1 },
    ),
    require: Type.Optional(
      Type.Object(
        { guestAgent: Type.Optional(Type.Boolean()), cloudInit: Type.Optional(Type.Boolean()), minDisk: Type.Optional(Quantity('Smallest acceptable disk.')) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export const VMTemplateStatus = Type.Object(
  {
    conditions: Type.Optional(Conditions),
    providerID: Type.Optional(Type.String()),
    availability: Type.Optional(Type.Array(Type.Object({ node: Type.String(), storage: Type.Optional(Type.String()) }, { additionalProperties: false }))),
    progress: Type.Optional(Type.Integer()),
    observedGeneration: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);
export const VMTemplate = Resource('VMTemplate', VMTemplateSpec, VMTemplateStatus);

export const VirtualMachineSetSpec = Type.Object(
  {
    replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })),
    users: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+$' }))),
    namePattern: Type.Optional(Type.String({ description: 'e.g. {user}-{name} or {name}-{index}' })),
    template: VirtualMachineSpec,
    placement: Type.Optional(Type.Object({ strategy: Type.Optional(Type.Union([Type.Literal('LeastLoaded'), Type.Literal('Spread'), Type.Literal('Pinned')])) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export const VirtualMachineSetStatus = Type.Object(
  {
    conditions: Type.Optional(Conditions),
    desired: Type.Optional(Type.Integer()),
    ready: Type.Optional(Type.Integer()),
    members: Type.Optional(Type.Array(Type.Object({ name: Type.String(), phase: Type.Optional(Type.String()), user: Type.Optional(Type.String()) }, { additionalProperties: false }))),
    observedGeneration: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);
export const VirtualMachineSet = Resource('VirtualMachineSet', VirtualMachineSetSpec, VirtualMachineSetStatus);

export type VirtualDisk = Static<typeof VirtualDisk>;
export type VirtualNetwork = Static<typeof VirtualNetwork>;
export type VMTemplate = Static<typeof VMTemplate>;
export type VirtualMachineSet = Static<typeof VirtualMachineSet>;
