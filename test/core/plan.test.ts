import { describe, expect, it } from 'vitest';
import type { ActionType } from '../../controller/core/actions.ts';
import type { Capabilities, DesiredVM, Observation, ObservedVM } from '../../controller/core/model.ts';
import { plan, type PlanInput } from '../../controller/core/plan.ts';
import { contractVM } from '../contract/provider-contract.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const caps: Capabilities = {
  liveCpu: true,
  liveCpuDecrease: false,
  liveCpuSocketsOnly: false,
  liveMemory: true,
  liveMigration: true,
  diskGrow: true,
  liveDiskAttach: true,
  guestAgent: true,
  linkedClone: true,
};
const owner = { kind: 'VirtualMachine', namespace: 'contract', name: 'web' };
const desired = (o: Partial<DesiredVM> = {}): DesiredVM => ({ ...contractVM('web', 'ubuntu', { key: 'VirtualMachine/contract/web' }), ...o });
const observed = (o: Partial<ObservedVM> = {}): ObservedVM => ({
  providerID: 'qemu/100',
  name: 'web',
  node: 'n1',
  power: 'running',
  cpu: { sockets: 1, cores: 1, threads: 1 },
  memoryBytes: 512 * MiB,
  maxMemoryBytes: 2048 * MiB,
  disks: [{ name: 'scsi0', sizeBytes: GiB }],
  nics: [],
  owner,
  isTemplate: false,
  ipAddresses: [],
  pendingRestart: false,
  autostart: false,
  ...o,
});
const obs = (vms: ObservedVM[]): Observation => ({
  vms,
  templates: [{ name: 'ubuntu', providerID: 'qemu/9000' }],
  nodes: [
    { name: 'n1', state: 'online', memoryBytes: 64 * GiB, memoryUsedBytes: 60 * GiB, vms: 5 },
    { name: 'n2', state: 'online', memoryBytes: 64 * GiB, memoryUsedBytes: 10 * GiB, vms: 9 },
  ],
});

const threeDisks = [
  { name: 'scsi0', sizeBytes: GiB },
  { name: 'scsi1', sizeBytes: 50 * GiB },
  { name: 'scsi2', sizeBytes: 50 * GiB },
];
const nic = { name: 'eth0', network: 'vmbr0', model: 'virtio' };
const twoNics = [
  { name: 'net0', network: 'vmbr0', model: 'virtio' },
  { name: 'net1', network: 'vmbr1', model: 'virtio' },
];

interface Case {
  name: string;
  input: PlanInput;
  actions: ActionType[];
  refusal?: string;
  waiting?: boolean;
  restartRequired?: string;
  live?: boolean;
  /** The UnlistedDevices condition: [status, reason]. */
  condition?: [string, string];
}

const cases: Case[] = [
  { name: 'creates and starts a missing VM', input: { desired: desired(), observation: obs([]), capabilities: caps }, actions: ['create', 'start'] },
  { name: 'creates without starting when Halted', input: { desired: desired({ runStrategy: 'Halted' }), observation: obs([]), capabilities: caps }, actions: ['create'] },
  { name: 'waits for a missing template', input: { desired: desired({ template: 'nope' }), observation: obs([]), capabilities: caps }, actions: [], waiting: true },
  {
    name: 'does not wait on a template the provider cannot list',
    input: { desired: desired({ template: 'nope' }), observation: obs([]), capabilities: { ...caps, listsTemplates: false } },
    actions: ['create', 'start'],
  },
  { name: 'nothing to do when converged', input: { desired: desired(), observation: obs([observed()]), capabilities: caps }, actions: [] },
  { name: 'starts a stopped VM (Always)', input: { desired: desired(), observation: obs([observed({ power: 'stopped' })]), capabilities: caps }, actions: ['start'] },
  { name: 'stops a running VM (Halted)', input: { desired: desired({ runStrategy: 'Halted' }), observation: obs([observed()]), capabilities: caps }, actions: ['stop'] },
  { name: 'leaves power alone (Manual)', input: { desired: desired({ runStrategy: 'Manual' }), observation: obs([observed({ power: 'stopped' })]), capabilities: caps }, actions: [] },
  { name: 'memory up live', input: { desired: desired({ memoryBytes: 1024 * MiB }), observation: obs([observed()]), capabilities: caps }, actions: ['reconfigure'], live: true },
  { name: 'cpu up live', input: { desired: desired({ cpu: { sockets: 2, cores: 1, threads: 1 } }), observation: obs([observed()]), capabilities: caps }, actions: ['reconfigure'], live: true },
  {
    name: 'cpu down needs restart (Live policy → RestartRequired, nothing done)',
    input: { desired: desired({ cpu: { sockets: 1, cores: 1, threads: 1 }, updatePolicy: 'Live' }), observation: obs([observed({ cpu: { sockets: 2, cores: 1, threads: 1 } })]), capabilities: caps },
    actions: [],
    restartRequired: 'LiveUpdateNotPossible',
  },
  {
    name: 'cpu down staged (NextBoot)',
    input: { desired: desired({ updatePolicy: 'NextBoot' }), observation: obs([observed({ cpu: { sockets: 2, cores: 1, threads: 1 } })]), capabilities: caps },
    actions: ['reconfigure'],
    restartRequired: 'PendingNextBoot',
  },
  {
    name: 'a change already staged is not staged again',
    input: {
      desired: desired({ updatePolicy: 'NextBoot' }),
      observation: obs([observed({ cpu: { sockets: 2, cores: 1, threads: 1 }, pendingRestart: true, pending: { cpu: { sockets: 1, cores: 1, threads: 1 } } })]),
      capabilities: caps,
    },
    actions: [],
    restartRequired: 'PendingChanges',
  },
  {
    name: 'cpu down staged then restart (RestartAllowed)',
    input: { desired: desired({ updatePolicy: 'RestartAllowed' }), observation: obs([observed({ cpu: { sockets: 2, cores: 1, threads: 1 } })]), capabilities: caps },
    actions: ['reconfigure', 'restart'],
  },
  {
    name: 'memory above the hot-plug ceiling is staged',
    input: { desired: desired({ memoryBytes: 4096 * MiB, updatePolicy: 'NextBoot' }), observation: obs([observed()]), capabilities: caps },
    actions: ['reconfigure'],
    restartRequired: 'PendingNextBoot',
  },
  {
    name: 'memory not in the live step is not live (oVirt 256 MiB)',
    input: { desired: desired({ memoryBytes: 600 * MiB, updatePolicy: 'Live' }), observation: obs([observed()]), capabilities: { ...caps, liveMemoryStepBytes: 256 * MiB } },
    actions: [],
    restartRequired: 'LiveUpdateNotPossible',
  },
  {
    name: 'cores change is not live on sockets-only hypervisors',
    input: { desired: desired({ cpu: { sockets: 1, cores: 2, threads: 1 }, updatePolicy: 'Live' }), observation: obs([observed()]), capabilities: { ...caps, liveCpuSocketsOnly: true } },
    actions: [],
    restartRequired: 'LiveUpdateNotPossible',
  },
  {
    name: 'stopped VM is reconfigured offline then started',
    input: { desired: desired({ memoryBytes: 4096 * MiB }), observation: obs([observed({ power: 'stopped' })]), capabilities: caps },
    actions: ['reconfigure', 'start'],
  },
  {
    name: 'grows a disk',
    input: { desired: desired({ disks: [{ name: 'root', sizeBytes: 10 * GiB, interface: 'virtio', bootable: true }] }), observation: obs([observed()]), capabilities: caps },
    actions: ['growDisk'],
  },
  {
    name: 'refuses a disk shrink and touches nothing',
    input: { desired: desired({ memoryBytes: 1024 * MiB, disks: [{ name: 'root', sizeBytes: GiB / 2, interface: 'virtio', bootable: true }] }), observation: obs([observed()]), capabilities: caps },
    actions: [],
    refusal: 'VK_REFUSED_SHRINK',
  },
  {
    name: 'refuses a grow the hypervisor cannot do',
    input: { desired: desired({ disks: [{ name: 'root', sizeBytes: 10 * GiB, interface: 'virtio', bootable: true }] }), observation: obs([observed()]), capabilities: { ...caps, diskGrow: false } },
    actions: [],
    refusal: 'VK_REFUSED_UNSUPPORTED',
  },
  {
    name: 'attaches a new disk',
    input: {
      desired: desired({
        disks: [
          { name: 'root', sizeBytes: GiB, interface: 'virtio', bootable: true },
          { name: 'data', sizeBytes: 5 * GiB, interface: 'virtio', bootable: false },
        ],
      }),
      observation: obs([observed()]),
      capabilities: caps,
    },
    actions: ['attachDisk'],
  },
  {
    name: 'detaches a disk removed from the spec',
    input: {
      desired: desired(),
      observation: obs([
        observed({
          disks: [
            { name: 'scsi0', sizeBytes: GiB },
            { name: 'scsi1', sizeBytes: GiB },
          ],
        }),
      ]),
      capabilities: caps,
    },
    actions: ['detachDisk'],
  },
  {
    name: 'leaves a standalone VirtualDisk attached to the VM alone',
    input: {
      desired: desired(),
      observation: obs([
        observed({
          disks: [
            { name: 'scsi0', sizeBytes: GiB },
            { name: 'vdb', sizeBytes: 5 * GiB, standalone: true },
          ],
        }),
      ]),
      capabilities: caps,
    },
    actions: [],
  },
  {
    name: 'adds a NIC',
    input: { desired: desired({ nics: [{ name: 'eth0', network: 'vmbr0', vlan: 100, model: 'virtio' }] }), observation: obs([observed()]), capabilities: caps },
    actions: ['attachNic'],
  },
  {
    name: 'changes a NIC VLAN',
    input: {
      desired: desired({ nics: [{ name: 'eth0', network: 'vmbr0', vlan: 200, model: 'virtio' }] }),
      observation: obs([observed({ nics: [{ name: 'net0', network: 'vmbr0', vlan: 100, model: 'virtio' }] })]),
      capabilities: caps,
    },
    actions: ['updateNic'],
  },
  {
    name: 'removes a NIC',
    input: {
      desired: desired({ nics: [{ name: 'eth0', network: 'vmbr0', model: 'virtio' }] }),
      observation: obs([
        observed({
          nics: [
            { name: 'net0', network: 'vmbr0', model: 'virtio' },
            { name: 'net1', network: 'vmbr1', model: 'virtio' },
          ],
        }),
      ]),
      capabilities: caps,
    },
    actions: ['detachNic'],
  },
  {
    name: 'migrates when the pinned node changes',
    input: { desired: desired({ placement: { strategy: 'Pinned', node: 'n2' } }), observation: obs([observed()]), capabilities: caps },
    actions: ['migrate'],
  },
  {
    name: 'refuses live migration where unsupported',
    input: { desired: desired({ placement: { strategy: 'Pinned', node: 'n2' } }), observation: obs([observed()]), capabilities: { ...caps, liveMigration: false } },
    actions: [],
    refusal: 'VK_REFUSED_UNSUPPORTED',
  },
  { name: 'toggles autostart', input: { desired: desired({ autostart: true }), observation: obs([observed()]), capabilities: caps }, actions: ['setAutostart'] },
  {
    name: 'restarts for pending changes when allowed',
    input: { desired: desired({ updatePolicy: 'RestartAllowed' }), observation: obs([observed({ pendingRestart: true })]), capabilities: caps },
    actions: ['restart'],
  },
  { name: 'waits while the VM is busy', input: { desired: desired({ memoryBytes: GiB }), observation: obs([observed({ busy: 'clone' })]), capabilities: caps }, actions: [], waiting: true },
  {
    name: 'refuses a foreign VM with the same name',
    input: { desired: desired(), observation: obs([observed({ owner: undefined })]), capabilities: caps },
    actions: [],
    refusal: 'VK_REFUSED_FOREIGN',
  },
  {
    name: 'finishes its own unfinished create (pending-create record, no marker yet)',
    input: {
      desired: desired(),
      observation: obs([observed({ owner: undefined, power: 'stopped' })]),
      capabilities: caps,
      pendingCreate: { name: 'web', hypervisor: 'contract', requestedAt: '2026-01-01T00:00:00Z' },
    },
    actions: ['create', 'start'],
  },
  {
    name: 'finishes a marked but unconfigured create once more while the record is there',
    input: { desired: desired(), observation: obs([observed()]), capabilities: caps, pendingCreate: { name: 'web', hypervisor: 'contract', requestedAt: '2026-01-01T00:00:00Z' } },
    actions: ['create'],
  },
  {
    name: 'a record for another hypervisor does not make a VM ours',
    input: { desired: desired(), observation: obs([observed({ owner: undefined })]), capabilities: caps, pendingCreate: { name: 'web', hypervisor: 'other', requestedAt: '2026-01-01T00:00:00Z' } },
    actions: [],
    refusal: 'VK_REFUSED_FOREIGN',
  },
  {
    name: 'the record never takes a VM another resource owns',
    input: {
      desired: desired(),
      observation: obs([observed({ owner: { kind: 'VirtualMachine', namespace: 'x', name: 'y' } })]),
      capabilities: caps,
      pendingCreate: { name: 'web', hypervisor: 'contract', requestedAt: '2026-01-01T00:00:00Z' },
    },
    actions: [],
    refusal: 'VK_REFUSED_OWNED_ELSEWHERE',
  },
  {
    name: 'waits on its own unfinished create while it is locked',
    input: {
      desired: desired(),
      observation: obs([observed({ owner: undefined, busy: 'clone' })]),
      capabilities: caps,
      pendingCreate: { name: 'web', hypervisor: 'contract', requestedAt: '2026-01-01T00:00:00Z' },
    },
    actions: [],
    waiting: true,
  },
  {
    name: 'a marker from before instances is ours and is upgraded first',
    input: { desired: desired({ owner: { ...owner, instance: 'a' } }), observation: obs([observed({ power: 'stopped' })]), capabilities: caps },
    actions: ['mark', 'start'],
  },
  {
    name: 'the same instance needs no upgrade',
    input: { desired: desired({ owner: { ...owner, instance: 'a' } }), observation: obs([observed({ owner: { ...owner, instance: 'a' } })]), capabilities: caps },
    actions: [],
  },
  {
    name: 'a VM of another controller instance is owned elsewhere',
    input: { desired: desired({ owner: { ...owner, instance: 'a' } }), observation: obs([observed({ owner: { ...owner, instance: 'b' } })]), capabilities: caps },
    actions: [],
    refusal: 'VK_REFUSED_OWNED_ELSEWHERE',
  },
  {
    name: 'a VM whose marker could not be read is waited on, not refused',
    input: { desired: desired(), observation: obs([observed({ owner: undefined, ownerUnknown: true })]), capabilities: caps },
    actions: [],
    waiting: true,
  },
  {
    name: 'refuses a VM owned by another resource',
    input: { desired: desired(), observation: obs([observed({ owner: { kind: 'VirtualMachine', namespace: 'other', name: 'web' } })]), capabilities: caps },
    actions: [],
    refusal: 'VK_REFUSED_OWNED_ELSEWHERE',
  },
  {
    name: 'adopts a foreign VM when asked',
    input: { desired: desired({ adopt: { prune: false } }), observation: obs([observed({ owner: undefined })]), capabilities: caps },
    actions: ['adopt'],
    condition: ['False', 'AllListed'],
  },
  {
    name: 'adoption is a pass of its own: a VM with three disks adopted by a spec listing one is only marked',
    input: { desired: desired({ adopt: { prune: false } }), observation: obs([observed({ owner: undefined, disks: threeDisks, nics: twoNics, power: 'stopped' })]), capabilities: caps },
    actions: ['adopt'],
    condition: ['True', 'Kept'],
  },
  {
    name: 'an adopted VM keeps the disks and NICs its spec does not list',
    input: { desired: desired({ adopt: { prune: false }, nics: [nic] }), observation: obs([observed({ adopted: true, disks: threeDisks, nics: twoNics })]), capabilities: caps },
    actions: [],
    condition: ['True', 'Kept'],
  },
  {
    name: 'an adopted VM keeps them after spec.adopt is dropped',
    input: { desired: desired({ nics: [nic] }), observation: obs([observed({ adopted: true, disks: threeDisks, nics: twoNics })]), capabilities: caps },
    actions: [],
    condition: ['True', 'Kept'],
  },
  {
    name: 'an adopted VM is pruned only with adopt: {prune: true}',
    input: { desired: desired({ adopt: { prune: true }, nics: [nic] }), observation: obs([observed({ adopted: true, disks: threeDisks, nics: twoNics })]), capabilities: caps },
    actions: ['detachDisk', 'detachDisk', 'detachNic'],
    condition: ['True', 'Pruning'],
  },
  {
    name: 'an adopted VM whose spec lists everything says so',
    input: { desired: desired({ adopt: { prune: false } }), observation: obs([observed({ adopted: true })]), capabilities: caps },
    actions: [],
    condition: ['False', 'AllListed'],
  },
  {
    name: 'an adopted VM still gets what its spec adds',
    input: { desired: desired({ adopt: { prune: false }, memoryBytes: 1024 * MiB }), observation: obs([observed({ adopted: true, disks: threeDisks })]), capabilities: caps },
    actions: ['reconfigure'],
    live: true,
    condition: ['True', 'Kept'],
  },
  {
    name: 'refuses adoption the Hypervisor does not allow for the namespace',
    input: { desired: desired({ adopt: { prune: false } }), observation: obs([observed({ owner: undefined })]), capabilities: caps, rights: { use: true, adopt: false, grantPools: true } },
    actions: [],
    refusal: 'VK_REFUSED_ADOPTION',
  },
  {
    name: 'refuses a namespace the Hypervisor does not allow, even for its own VM',
    input: { desired: desired({ memoryBytes: 1024 * MiB }), observation: obs([observed()]), capabilities: caps, rights: { use: false, adopt: false, grantPools: false } },
    actions: [],
    refusal: 'VK_REFUSED_NAMESPACE',
  },
  {
    name: 'refuses to remove from a namespace the Hypervisor does not allow',
    input: {
      removed: { key: 'VirtualMachine/contract/web', hypervisor: 'h', owner, name: 'web', deletionPolicy: 'Delete', protection: false },
      observation: obs([observed()]),
      capabilities: caps,
      rights: { use: false, adopt: false, grantPools: false },
    },
    actions: [],
    refusal: 'VK_REFUSED_NAMESPACE',
  },
  {
    name: 'refuses a pool grant the Hypervisor does not allow',
    input: {
      desired: desired({ pool: 'prod', metadata: { owner: 'mallory@pve' } }),
      observation: obs([]),
      capabilities: { ...caps, poolAcls: true },
      rights: { use: true, adopt: true, grantPools: false },
    },
    actions: [],
    refusal: 'VK_REFUSED_POOL_GRANT',
  },
  {
    name: 'a pool without a user to grant is no grant',
    input: {
      desired: desired({ pool: 'prod', metadata: { owner: 'ops team' } }),
      observation: obs([]),
      capabilities: { ...caps, poolAcls: true },
      rights: { use: true, adopt: true, grantPools: false },
    },
    actions: ['create', 'start'],
  },
  {
    name: 'deletes an owned VM whose resource is gone',
    input: { removed: { key: 'VirtualMachine/contract/web', hypervisor: 'h', owner, name: 'web', deletionPolicy: 'Delete', protection: false }, observation: obs([observed()]), capabilities: caps },
    actions: ['delete'],
  },
  {
    name: 'orphans per deletionPolicy',
    input: { removed: { key: 'k', hypervisor: 'h', owner, name: 'web', deletionPolicy: 'Orphan', protection: false }, observation: obs([observed()]), capabilities: caps },
    actions: [],
  },
  {
    name: 'refuses to delete a protected VM',
    input: { removed: { key: 'k', hypervisor: 'h', owner, name: 'web', deletionPolicy: 'Delete', protection: true }, observation: obs([observed()]), capabilities: caps },
    actions: [],
    refusal: 'VK_REFUSED_PROTECTED',
  },
  // A host that did not answer may hold the VM: never a second one, never a random pick.
  { name: 'waits instead of creating while a node cannot be read', input: { desired: desired(), observation: { ...obs([]), unreachable: ['n2'] }, capabilities: caps }, actions: [], waiting: true },
  {
    name: 'an unreadable node does not hold up a VM that is found',
    input: { desired: desired({ memoryBytes: 1024 * MiB }), observation: { ...obs([observed()]), unreachable: ['n2'] }, capabilities: caps },
    actions: ['reconfigure'],
    live: true,
  },
  {
    name: 'does not migrate while a node cannot be read',
    input: { desired: desired({ placement: { strategy: 'Pinned', node: 'n2' } }), observation: { ...obs([observed()]), unreachable: ['n3'] }, capabilities: caps },
    actions: [],
    waiting: true,
  },
  {
    name: 'finishes a create cut short where it began',
    input: { desired: desired(), observation: obs([observed({ node: 'n1', power: 'stopped', incomplete: true, busy: 'creating' })]), capabilities: caps },
    actions: ['create', 'start'],
  },
  {
    name: 'deletes a create cut short whose resource is gone',
    input: {
      removed: { key: 'k', hypervisor: 'h', owner, name: 'web', deletionPolicy: 'Delete', protection: false },
      observation: obs([observed({ incomplete: true, busy: 'creating' })]),
      capabilities: caps,
    },
    actions: ['delete'],
  },
  {
    name: 'refuses two VMs with the same marker',
    input: { desired: desired(), observation: obs([observed(), observed({ providerID: 'qemu/101', node: 'n2' })]), capabilities: caps },
    actions: [],
    refusal: 'VK_REFUSED_DUPLICATE',
  },
  {
    name: 'refuses to delete either of two VMs with the same marker',
    input: {
      removed: { key: 'k', hypervisor: 'h', owner, name: 'web', deletionPolicy: 'Delete', protection: false },
      observation: obs([observed(), observed({ providerID: 'qemu/101', node: 'n2' })]),
      capabilities: caps,
    },
    actions: [],
    refusal: 'VK_REFUSED_DUPLICATE',
  },
  {
    name: 'waits instead of deleting while a node cannot be read',
    input: { removed: { key: 'k', hypervisor: 'h', owner, name: 'web', deletionPolicy: 'Delete', protection: false }, observation: { ...obs([observed()]), unreachable: ['n2'] }, capabilities: caps },
    actions: [],
    waiting: true,
  },
  {
    name: 'waits for a removed VM not seen while a node cannot be read',
    input: { removed: { key: 'k', hypervisor: 'h', owner, name: 'web', deletionPolicy: 'Delete', protection: false }, observation: { ...obs([]), unreachable: ['n2'] }, capabilities: caps },
    actions: [],
    waiting: true,
  },
  {
    name: 'never deletes a foreign VM of the same name',
    input: { removed: { key: 'k', hypervisor: 'h', owner, name: 'web', deletionPolicy: 'Delete', protection: false }, observation: obs([observed({ owner: undefined })]), capabilities: caps },
    actions: [],
  },
];

describe('plan', () => {
  it.each(cases)('$name', (c) => {
    const r = plan(c.input);
    expect(r.steps.map((s) => s.action.type)).toEqual(c.actions);
    expect(r.refusals[0]?.code).toBe(c.refusal);
    expect(!!r.waiting).toBe(c.waiting ?? false);
    expect(r.restartRequired?.reason).toBe(c.restartRequired);
    if (c.live !== undefined) expect(r.steps.every((s) => s.live === c.live)).toBe(true);
    const unlisted = r.conditions?.find((x) => x.type === 'UnlistedDevices');
    expect(unlisted ? [unlisted.status, unlisted.reason] : undefined).toEqual(c.condition);
  });

  it('says which devices adoption keeps, and that the adopting pass changes nothing else', () => {
    const r = plan({ desired: desired({ adopt: { prune: false }, memoryBytes: 4096 * MiB }), observation: obs([observed({ owner: undefined, disks: threeDisks })]), capabilities: caps });
    expect(r.steps.map((s) => s.action.type)).toEqual(['adopt']);
    expect(r.conditions?.[0]?.message).toBe(
      'disk scsi1 (50Gi) is not in the spec; kept; disk scsi2 (50Gi) is not in the spec; kept; list them in the spec, or set spec.adopt: {prune: true} to detach them',
    );
    expect(r.steps[0]?.changes).toEqual([
      { field: 'disk scsi1', from: '50Gi', to: 'kept, not in the spec' },
      { field: 'disk scsi2', from: '50Gi', to: 'kept, not in the spec' },
    ]);
  });

  it('names the resource, the Hypervisor and the field to change in a namespace refusal', () => {
    const r = plan({ desired: desired({ hypervisor: 'pve' }), observation: obs([]), capabilities: caps, rights: { use: false, adopt: false, grantPools: false } });
    expect(r.refusals[0]?.message).toBe(
      'VirtualMachine contract/web may not use Hypervisor pve: namespace contract is not in its spec.allowedNamespaces; add it there (or use another Hypervisor). Nothing was changed',
    );
  });

  it('finishes a cut-short create on its own node, not where placement would put a new one', () => {
    const r = plan({ desired: desired(), observation: obs([observed({ node: 'n1', power: 'stopped', incomplete: true, busy: 'creating' })]), capabilities: caps });
    expect(r.steps[0]?.action).toMatchObject({ type: 'create', node: 'n1' });
  });

  it('places new VMs on the node with the most free memory, spreading a burst', () => {
    const r = plan({ desired: desired(), observation: obs([]), capabilities: caps });
    expect(r.steps[0]?.action).toMatchObject({ type: 'create', node: 'n2' });
    const spread = plan({ desired: desired({ placement: { strategy: 'Spread' } }), observation: obs([]), capabilities: caps });
    expect(spread.steps[0]?.action).toMatchObject({ node: 'n1' });
  });

  it('every action type is covered by the table', () => {
    const covered = new Set(cases.flatMap((c) => c.actions));
    const all: ActionType[] = [
      'create',
      'adopt',
      'reconfigure',
      'growDisk',
      'attachDisk',
      'detachDisk',
      'attachNic',
      'updateNic',
      'detachNic',
      'migrate',
      'start',
      'stop',
      'restart',
      'setAutostart',
      'delete',
    ];
    expect(all.filter((a) => !covered.has(a))).toEqual([]);
  });
});
