// The registry of kinds: schema, scope, names and printer columns. The CRDs, ajv and the
// CLI's `get` all read this one table.
import { Hypervisor } from './hypervisor.ts';
import { KIND_NAMES, type KindInfo, type KindName, type PrinterColumn } from './kind-info.ts';
import { VirtualDisk, VirtualMachineSet, VirtualNetwork, VMTemplate } from './others.ts';
import { VirtualMachine } from './virtualmachine.ts';
import { SNAPSHOT_KINDS } from './snapshot-kinds.ts';

// Re-exported so callers keep one import for the registry; defined apart so snapshot-kinds.ts
// can use the types without importing this file (no cycle).
export { KIND_NAMES, type KindInfo, type KindName, type PrinterColumn };

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const ready: PrinterColumn = { name: 'Ready', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].status" };
/** Why it is (not) Ready: a template's failed requirement, a network's missing piece. */
const reason: PrinterColumn = { name: 'Reason', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].reason" };

export const KINDS: Record<KindName, KindInfo> = {
  Hypervisor: {
    kind: 'Hypervisor',
    plural: 'hypervisors',
    singular: 'hypervisor',
    shortNames: ['hv'],
    scope: 'Cluster',
    schema: Hypervisor,
    columns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.type' },
      { name: 'Endpoint', type: 'string', jsonPath: '.spec.endpoint' },
      { name: 'VMs', type: 'integer', jsonPath: '.status.observedVMs' },
      { name: 'Version', type: 'string', jsonPath: '.status.version', priority: 1 },
      { name: 'Maintenance', type: 'string', jsonPath: '.spec.maintenance[*].node', priority: 1 },
      { name: 'Drain', type: 'string', jsonPath: ".status.conditions[?(@.type=='Maintenance')].message", priority: 1 },
      ready,
      age,
    ],
  },
  VirtualNetwork: {
    kind: 'VirtualNetwork',
    plural: 'virtualnetworks',
    singular: 'virtualnetwork',
    shortNames: ['vknet'],
    scope: 'Cluster',
    schema: VirtualNetwork,
    columns: [
      { name: 'VLAN', type: 'integer', jsonPath: '.spec.vlanId' },
      { name: 'MTU', type: 'integer', jsonPath: '.spec.mtu', priority: 1 },
      ready,
      reason,
      { name: 'Hypervisors', type: 'string', jsonPath: '.status.hypervisors[*].name', priority: 1 },
      age,
    ],
  },
  VMTemplate: {
    kind: 'VMTemplate',
    plural: 'vmtemplates',
    singular: 'vmtemplate',
    shortNames: ['vktpl'],
    scope: 'Cluster',
    schema: VMTemplate,
    columns: [
      { name: 'Hypervisor', type: 'string', jsonPath: '.spec.hypervisor' },
      { name: 'ID', type: 'string', jsonPath: '.status.providerID' },
      ready,
      reason,
      { name: 'Progress', type: 'integer', jsonPath: '.status.progress', priority: 1 },
      { name: 'Nodes', type: 'string', jsonPath: '.status.availability[*].node', priority: 1 },
      age,
    ],
  },
  VirtualDisk: {
    kind: 'VirtualDisk',
    plural: 'virtualdisks',
    singular: 'virtualdisk',
    shortNames: ['vkdisk'],
    scope: 'Namespaced',
    schema: VirtualDisk,
    columns: [
      { name: 'Hypervisor', type: 'string', jsonPath: '.spec.hypervisor' },
      { name: 'Size', type: 'string', jsonPath: '.spec.size' },
      { name: 'Attached', type: 'string', jsonPath: '.status.attachedTo' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      ready,
      age,
      { name: 'ID', type: 'string', jsonPath: '.status.providerID', priority: 1 },
    ],
  },
  VirtualMachine: {
    kind: 'VirtualMachine',
    plural: 'virtualmachines',
    singular: 'virtualmachine',
    shortNames: ['vkvm'],
    scope: 'Namespaced',
    schema: VirtualMachine,
    columns: [
      { name: 'Hypervisor', type: 'string', jsonPath: '.spec.hypervisor' },
      { name: 'Node', type: 'string', jsonPath: '.status.node' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'CPU', type: 'integer', jsonPath: '.status.cpus' },
      { name: 'Memory', type: 'string', jsonPath: '.status.memory' },
      { name: 'IP', type: 'string', jsonPath: '.status.ip' },
      ready,
      age,
      { name: 'ID', type: 'string', jsonPath: '.status.providerID', priority: 1 },
    ],
  },
  VirtualMachineSet: {
    kind: 'VirtualMachineSet',
    plural: 'virtualmachinesets',
    singular: 'virtualmachineset',
    shortNames: ['vkvmset'],
    scope: 'Namespaced',
    schema: VirtualMachineSet,
    columns: [{ name: 'Desired', type: 'integer', jsonPath: '.status.desired' }, { name: 'Ready', type: 'integer', jsonPath: '.status.ready' }, age],
  },
  ...SNAPSHOT_KINDS,
};

/** Resolves a kind from any of the names kubectl accepts (kind, plural, singular, short name). */
export function resolveKind(name: string): KindInfo | undefined {
  const n = name.toLowerCase();
  return Object.values(KINDS).find((k) => k.kind.toLowerCase() === n || k.plural === n || k.singular === n || k.shortNames.includes(n));
}
