import { Type, type Static } from 'typebox';
import { Conditions, Resource, SafeName } from './common.ts';

export const HypervisorType = Type.Union([Type.Literal('ovirt'), Type.Literal('proxmox'), Type.Literal('libvirt')]);

export const CredentialsRef = Type.Object(
  {
    name: Type.Optional(Type.String({ description: 'Kubernetes: the Secret name (keys username/password or token).' })),
    namespace: Type.Optional(Type.String({ description: 'Kubernetes: the Secret namespace.' })),
    env: Type.Optional(
      Type.String({
        description:
          'Directory mode: a name; reads VIRTKEEPER_<NAME>_TOKEN, or VIRTKEEPER_<NAME>_USERNAME and _PASSWORD (other prefixes only when the operator admits them with --allow-credential-env).',
        pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
        maxLength: 64,
        'x-vk-expected': 'an environment variable name such as PVE',
      }),
    ),
    file: Type.Optional(
      Type.String({
        description:
          'Directory mode: a JSON file with username/password or token, inside the credentials directory (--credentials-dir, default /etc/virtkeeper/credentials); a relative name is taken there.',
        minLength: 1,
      }),
    ),
  },
  { additionalProperties: false },
);

const NamespaceList = (description: string) =>
  Type.Object(
    { namespaces: Type.Array(Type.String({ minLength: 1, maxLength: 63 }), { description: 'Namespaces (directory mode: metadata.namespace, default "default").' }) },
    { additionalProperties: false, description },
  );

export const MaintenanceEntry = Type.Object(
  {
    node: SafeName('The node (Proxmox node, oVirt host, libvirt host name) to drain.'),
    reason: Type.Optional(Type.String({ maxLength: 256, description: 'Why, for the Maintenance condition and the events (e.g. "kernel update").' })),
    evictPinned: Type.Optional(Type.Boolean({ default: false, description: 'Also move VMs pinned to this node (placement.node); they return when the entry is removed, as their spec says.' })),
    hostMaintenance: Type.Optional(
      Type.Boolean({ default: false, description: "oVirt: once no managed VM runs on the host, put it in the engine's own maintenance (and activate it when the entry is removed)." }),
    ),
  },
  { additionalProperties: false },
);

export const HypervisorSpec = Type.Object(
  {
    type: HypervisorType,
    allowedNamespaces: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 63 }), {
        description:
          'Namespaces whose VirtualMachines, VirtualDisks and VirtualMachineSets may use this Hypervisor. Unset: every namespace (directory mode, where one operator owns the folder). Set: only those listed, in both modes; set it in Kubernetes, where namespaces are tenants. A resource of another namespace is refused (VK_REFUSED_NAMESPACE) and nothing on the hypervisor is touched.',
      }),
    ),
    allowAdoption: Type.Optional(
      NamespaceList(
        'Which namespaces may take over (spec.adopt) an existing VM that no virtkeeper resource owns. Unset: every allowed namespace in directory mode, none in Kubernetes. Set: only those listed. Others are refused (VK_REFUSED_ADOPTION).',
      ),
    ),
    allowPoolGrants: Type.Optional(
      NamespaceList(
        'Proxmox: which namespaces may give a user access to a pool (a VirtualMachineSet with users, or spec.owner user@realm with spec.pool). Unset: every allowed namespace in directory mode, none in Kubernetes. Set: only those listed. Access is only ever granted on a pool virtkeeper created and marked for that namespace.',
      ),
    ),
    endpoint: Type.Optional(
      Type.String({
        description: 'oVirt API URL or Proxmox URL, without user or password (those go in credentialsRef).',
        format: 'uri',
        // The same refusal as validate's, by the API server in Kubernetes mode.
        'x-kubernetes-validations': [
          {
            rule: "!self.matches('^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*@')",
            message: 'the URL carries a user name or password (user:password@host); remove it and name the credentials in credentialsRef',
          },
        ],
      }),
    ),
    hosts: Type.Optional(
      Type.Array(Type.Object({ name: SafeName('The host as a placement node.'), uri: Type.String({ minLength: 1 }) }, { additionalProperties: false }), {
        description: 'libvirt: one entry per host, each a placement node.',
      }),
    ),
    credentialsRef: Type.Optional(CredentialsRef),
    tls: Type.Optional(
      Type.Object(
        {
          caBundle: Type.Optional(Type.String()),
          caRef: Type.Optional(Type.Object({ name: Type.String(), namespace: Type.Optional(Type.String()), key: Type.Optional(Type.String()) }, { additionalProperties: false })),
          insecureSkipVerify: Type.Optional(Type.Boolean({ default: false })),
        },
        { additionalProperties: false },
      ),
    ),
    defaults: Type.Optional(
      Type.Object(
        {
          cluster: Type.Optional(SafeName('oVirt cluster.')),
          storageDomain: Type.Optional(SafeName('oVirt storage domain.')),
          datacenter: Type.Optional(SafeName('oVirt data center.')),
          node: Type.Optional(SafeName('Proxmox node.')),
          storage: Type.Optional(SafeName('Proxmox storage.')),
          pool: Type.Optional(SafeName('Proxmox pool.')),
          bridge: Type.Optional(SafeName('Proxmox bridge.')),
          storagePool: Type.Optional(SafeName('libvirt storage pool.')),
          network: Type.Optional(SafeName('libvirt network.')),
        },
        { additionalProperties: false },
      ),
    ),
    limits: Type.Optional(
      Type.Object(
        {
          maxConcurrentActions: Type.Optional(Type.Integer({ minimum: 1, default: 8 })),
          maxRequestsPerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          cloneConcurrencyPerNode: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    resyncInterval: Type.Optional(Type.String({ pattern: '^[0-9]+(ms|s|m|h)$', description: 'Drift check period, e.g. 60s.' })),
    fullResyncInterval: Type.Optional(
      Type.String({
        pattern: '^[0-9]+(ms|s|m|h)$',
        description:
          "How long what a per-VM read learned (a Proxmox guest config) serves while the VM list row is unchanged, before it is read again: a change made behind virtkeeper's back that the list does not show is found within this time (default 1h, spread ±25% per VM).",
      }),
    ),
    migration: Type.Optional(
      Type.Object(
        {
          sharedStorage: Type.Optional(Type.Boolean({ default: false })),
          maxDowntime: Type.Optional(Type.String({ pattern: '^[0-9]+(ms|s)$' })),
          bandwidth: Type.Optional(Type.Integer({ minimum: 1, description: 'MiB/s' })),
          network: Type.Optional(Type.String()),
          maxConcurrent: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'How many VMs a node maintenance drain migrates at a time on this hypervisor (default 2).' })),
        },
        { additionalProperties: false },
      ),
    ),
    maintenance: Type.Optional(
      Type.Array(MaintenanceEntry, {
        maxItems: 256,
        description:
          'Nodes in maintenance: nothing new is placed there, and every managed running VM on them is live-migrated to another eligible node (placement rules and load respected, migration.maxConcurrent at a time). A VM pinned there (placement.node) stays and is reported unless evictPinned. Removing an entry lifts the cordon; VMs are not moved back.',
      }),
    ),
    cascade: Type.Optional(
      Type.Union([Type.Literal('Orphan'), Type.Literal('Delete')], {
        default: 'Orphan',
        description:
          'Kubernetes: what a namespace or a CustomResourceDefinition being deleted does to the VMs, disks and networks of its resources on this hypervisor. Orphan (default) leaves them and releases the finalizers; Delete removes them per their deletionPolicy, through the deletion guard.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const HypervisorNodeStatus = Type.Object(
  {
    name: Type.String(),
    state: Type.String(),
    cpu: Type.Optional(Type.Number()),
    cpus: Type.Optional(Type.Integer()),
    memory: Type.Optional(Type.Integer()),
    memoryUsed: Type.Optional(Type.Integer()),
    load: Type.Optional(Type.Number()),
    vms: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

export const MaintenanceStatus = Type.Object(
  {
    node: Type.String(),
    reason: Type.Optional(Type.String()),
    phase: Type.Union([Type.Literal('Draining'), Type.Literal('Drained'), Type.Literal('Blocked'), Type.Literal('HostMaintenance')]),
    /** VMs moved off the node since the drain began (names on the hypervisor). */
    moved: Type.Optional(Type.Array(Type.String())),
    /** Managed running VMs left on the node: migrating now, pinned, or waiting for a target. */
    remaining: Type.Optional(Type.Integer()),
    migrating: Type.Optional(Type.Array(Type.String())),
    pinned: Type.Optional(Type.Array(Type.String())),
    /** Moves that failed, not tried again before `at` + a minute (the hypervisor's reason in `message`). */
    failures: Type.Optional(Type.Array(Type.Object({ vm: Type.String(), message: Type.String(), at: Type.String() }, { additionalProperties: false }))),
    /** The engine's own host maintenance (oVirt), as far as it got. */
    host: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const HypervisorStatus = Type.Object(
  {
    conditions: Type.Optional(Conditions),
    maintenance: Type.Optional(Type.Array(MaintenanceStatus)),
    version: Type.Optional(Type.String()),
    nodes: Type.Optional(Type.Array(HypervisorNodeStatus)),
    observedVMs: Type.Optional(Type.Integer()),
    lastSyncTime: Type.Optional(Type.String()),
    observedGeneration: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

export const Hypervisor = Resource('Hypervisor', HypervisorSpec, HypervisorStatus);
export type Hypervisor = Static<typeof Hypervisor>;
export type HypervisorSpec = Static<typeof HypervisorSpec>;
export type HypervisorStatus = Static<typeof HypervisorStatus>;
export type MaintenanceEntry = Static<typeof MaintenanceEntry>;
export type MaintenanceStatus = Static<typeof MaintenanceStatus>;
