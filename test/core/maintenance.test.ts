import { describe, expect, it } from 'vitest';
import type { MaintenanceEntry, MaintenanceStatus } from '../../controller/api/types.ts';
import { applyCordons, maintenanceCondition, planDrain, type DrainInput, type ManagedVM } from '../../controller/core/maintenance.ts';
import type { Capabilities, DesiredVM, Observation, ObservedNode, ObservedVM } from '../../controller/core/model.ts';
import { chooseNode } from '../../controller/core/placement.ts';
import { plan } from '../../controller/core/plan.ts';
import { KINDS } from '../../controller/api/kinds.ts';
import { renderTable } from '../../controller/cli/render-get.ts';
import type { StatusRecord } from '../../controller/status/writer.ts';
import { formatProblem, loadTexts } from '../../controller/sources/load-folder.ts';
import { contractVM } from '../contract/provider-contract.ts';

const GiB = 2 ** 30;
const owner = (name: string) => ({ kind: 'VirtualMachine', namespace: 'm', name });
const desired = (name: string, placement: Partial<DesiredVM['placement']> = {}, memoryBytes = GiB): ManagedVM => ({
  key: `VirtualMachine/m/${name}`,
  desired: { ...contractVM(name, 'ubuntu', { key: `VirtualMachine/m/${name}` }), owner: owner(name), memoryBytes, placement: { strategy: 'LeastLoaded', ...placement } },
});
const vm = (name: string, node: string, o: Partial<ObservedVM> = {}): ObservedVM => ({
  providerID: `id-${name}`,
  name,
  node,
  power: 'running',
  cpu: { sockets: 1, cores: 1, threads: 1 },
  memoryBytes: GiB,
  disks: [],
  nics: [],
  owner: owner(name),
  isTemplate: false,
  ipAddresses: [],
  pendingRestart: false,
  ...o,
});
const node = (name: string, usedGiB = 0, o: Partial<ObservedNode> = {}): ObservedNode => ({ name, state: 'online', memoryBytes: 64 * GiB, memoryUsedBytes: usedGiB * GiB, vms: 0, ...o });
const obs = (vms: ObservedVM[], nodes = [node('n1', 10), node('n2', 20), node('n3', 40)]): Observation => ({ vms, nodes, templates: [] });
const base = (o: Partial<DrainInput> & Pick<DrainInput, 'observation' | 'managed'>): DrainInput => ({
  entries: [{ node: 'n1', reason: 'kernel update' }],
  liveMigration: true,
  maxConcurrent: 2,
  hostMaintenance: false,
  ...o,
});
const moves = (input: DrainInput) => planDrain(input).moves.map((m) => `${m.action.target.name}→${m.action.to}`);

describe('planDrain', () => {
  it.each<{ name: string; input: DrainInput; moves: string[]; phase: MaintenanceStatus['phase']; message?: RegExp }>([
    {
      name: 'moves a running VM to the least loaded eligible node',
      input: base({ observation: obs([vm('a', 'n1')]), managed: [desired('a')] }),
      moves: ['a→n2'],
      phase: 'Draining',
      message: /n1: 0 of 1 VM moved, 1 migrating/,
    },
    {
      name: 'spreads a burst by memory promised in the pass',
      input: base({ observation: obs([vm('a', 'n1'), vm('b', 'n1')], [node('n1'), node('n2', 62), node('n3', 61)]), managed: [desired('a', {}, 2 * GiB), desired('b', {}, 2 * GiB)] }),
      moves: ['a→n3', 'b→n2'],
      phase: 'Draining',
    },
    {
      name: 'at most maxConcurrent at a time; the rest are queued',
      input: base({ observation: obs(['a', 'b', 'c'].map((n) => vm(n, 'n1'))), managed: ['a', 'b', 'c'].map((n) => desired(n)), maxConcurrent: 2 }),
      moves: ['a→n2', 'b→n2'],
      phase: 'Draining',
      message: /waiting: c \(queued\)/,
    },
    {
      name: 'migrations already in flight take the slots',
      input: base({ observation: obs([vm('a', 'n1', { migration: { progress: 40, from: 'n1', to: 'n2' } }), vm('b', 'n1')]), managed: [desired('a'), desired('b')], maxConcurrent: 1 }),
      moves: [],
      phase: 'Draining',
      message: /1 migrating \(40 %\), waiting: b \(queued\)/,
    },
    {
      name: 'a pinned VM stays and is reported',
      input: base({ observation: obs([vm('a', 'n1'), vm('p', 'n1')]), managed: [desired('a'), desired('p', { node: 'n1', strategy: 'Pinned' })] }),
      moves: ['a→n2'],
      phase: 'Draining',
      message: /1 pinned/,
    },
    {
      name: 'evictPinned moves a pinned VM too',
      input: base({ entries: [{ node: 'n1', evictPinned: true }], observation: obs([vm('p', 'n1')]), managed: [desired('p', { node: 'n1', strategy: 'Pinned' })] }),
      moves: ['p→n2'],
      phase: 'Draining',
    },
    {
      name: 'allowedNodes are respected',
      input: base({ observation: obs([vm('a', 'n1')]), managed: [desired('a', { allowedNodes: ['n1', 'n3'] })] }),
      moves: ['a→n3'],
      phase: 'Draining',
    },
    {
      name: 'no eligible node with room: blocked, and says why',
      input: base({ observation: obs([vm('a', 'n1')], [node('n1'), node('n2', 63.5)]), managed: [desired('a')] }),
      moves: [],
      phase: 'Blocked',
      message: /a \(no eligible node with 1024 MiB free\)/,
    },
    {
      name: 'never onto another cordoned node',
      input: base({ entries: [{ node: 'n1' }, { node: 'n2' }], observation: obs([vm('a', 'n1')]), managed: [desired('a')] }),
      moves: ['a→n3'],
      phase: 'Draining',
    },
    {
      name: 'stopped, unmanaged and template VMs are not moved',
      input: base({
        observation: obs([vm('s', 'n1', { power: 'stopped' }), vm('x', 'n1', { owner: undefined }), vm('t', 'n1', { isTemplate: true })]),
        managed: [desired('s')],
      }),
      moves: [],
      phase: 'Drained',
      message: /0 of 0 VMs moved, 1 VM not managed by virtkeeper still running/,
    },
    {
      name: 'a VM of another controller instance is not ours to move',
      input: base({
        observation: obs([vm('a', 'n1', { owner: { ...owner('a'), instance: 'other' } })]),
        managed: [{ ...desired('a'), desired: { ...desired('a').desired, owner: { ...owner('a'), instance: 'me' } } }],
      }),
      moves: [],
      phase: 'Drained',
    },
    {
      name: 'no live migration: waits and says so',
      input: base({ observation: obs([vm('a', 'n1')]), managed: [desired('a')], liveMigration: false }),
      moves: [],
      phase: 'Blocked',
      message: /cannot live-migrate/,
    },
    {
      name: 'a busy VM waits',
      input: base({ observation: obs([vm('a', 'n1', { busy: 'snapshot' })]), managed: [desired('a')] }),
      moves: [],
      phase: 'Blocked',
      message: /busy: snapshot/,
    },
  ])('$name', ({ input, moves: want, phase, message }) => {
    expect(moves(input)).toEqual(want);
    const st = planDrain(input).status[0];
    expect(st?.phase).toBe(phase);
    if (message) expect(st?.message).toMatch(message);
  });

  it('counts what the last pass moved: "7 of 9 VMs moved, 2 pinned"', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const managed = [...names.map((n) => desired(n)), desired('p', { node: 'n1' }), desired('q', { node: 'n1' })];
    const previous: MaintenanceStatus[] = [{ node: 'n1', phase: 'Draining', moved: ['a', 'b', 'c', 'd', 'e'], migrating: ['f', 'g'] }];
    const r = planDrain(base({ observation: obs([...names.map((n) => vm(n, 'n2')), vm('p', 'n1'), vm('q', 'n1')]), managed, previous }));
    expect(r.moves).toEqual([]);
    expect(r.status[0]).toMatchObject({ phase: 'Drained', moved: names, remaining: 2, pinned: ['p', 'q'], message: 'n1: 7 of 9 VMs moved, 2 pinned' });
    expect(r.settled).toBe(true);
    expect(maintenanceCondition(r.status)).toEqual({ status: 'True', reason: 'DrainedExceptPinned', message: 'n1: 7 of 9 VMs moved, 2 pinned' });
  });

  it('host maintenance: asked once the node is empty, reported once reached, lifted with the entry', () => {
    const entries: MaintenanceEntry[] = [{ node: 'n1', hostMaintenance: true }];
    const busy = planDrain(base({ entries, hostMaintenance: true, observation: obs([vm('a', 'n1')]), managed: [desired('a')] }));
    expect(busy.host).toEqual([]);
    expect(busy.status[0]?.host).toBe('waiting');
    const empty = planDrain(base({ entries, hostMaintenance: true, observation: obs([vm('a', 'n2')]), managed: [desired('a')], previous: busy.status }));
    expect(empty.host).toEqual([{ node: 'n1', on: true }]);
    expect(maintenanceCondition(empty.status).reason).toBe('HostMaintenancePending');
    const reached = planDrain(
      base({ entries, hostMaintenance: true, observation: obs([vm('a', 'n2')], [node('n1', 0, { state: 'maintenance' }), node('n2')]), managed: [desired('a')], previous: empty.status }),
    );
    expect(reached.host).toEqual([]);
    expect(reached.status[0]).toMatchObject({ phase: 'HostMaintenance', host: 'maintenance', moved: ['a'] });
    expect(reached.settled).toBe(true);
    const lifted = planDrain(base({ entries: [], hostMaintenance: true, observation: obs([], [node('n1', 0, { state: 'maintenance' }), node('n2')]), managed: [], previous: reached.status }));
    expect(lifted.host).toEqual([{ node: 'n1', on: false }]);
    expect(lifted.status[0]?.host).toBe('activating');
    const back = planDrain(base({ entries: [], hostMaintenance: true, observation: obs([]), managed: [], previous: lifted.status }));
    expect(back.host).toEqual([]);
    expect(back.status).toEqual([]);
    expect(maintenanceCondition(back.status).reason).toBe('NoMaintenance');
  });

  it('a move that failed is held back a minute, said why, then tried again', () => {
    const now = Date.parse('2026-12-01T20:00:30Z');
    const previous: MaintenanceStatus[] = [{ node: 'n1', phase: 'Draining', migrating: ['a'], failures: [{ vm: 'a', message: "can't migrate local disk", at: '2026-12-01T20:00:00Z' }] }];
    const held = planDrain(base({ observation: obs([vm('a', 'n1')]), managed: [desired('a')], previous, now }));
    expect(held.moves).toEqual([]);
    expect(held.status[0]).toMatchObject({ phase: 'Blocked', failures: previous[0]?.failures });
    expect(held.status[0]?.message).toMatch(/waiting: a \(migration failed: can't migrate local disk; tried again after 2026-12-01T20:01:00.000Z\)/);
    const later = planDrain(base({ observation: obs([vm('a', 'n1')]), managed: [desired('a')], previous, now: now + 31_000 }));
    expect(later.moves.map((m) => m.action.to)).toEqual(['n2']);
    expect(later.status[0]?.failures).toBeUndefined();
  });

  it('unmanaged VMs left on the node hold the host maintenance back', () => {
    const r = planDrain(base({ entries: [{ node: 'n1', hostMaintenance: true }], hostMaintenance: true, observation: obs([vm('x', 'n1', { owner: undefined })]), managed: [] }));
    expect(r.host).toEqual([]);
    expect(r.status[0]?.message).toMatch(/1 VM not managed by virtkeeper still running, host maintenance once empty/);
  });
});

describe('placement around cordoned nodes', () => {
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
  const cordoned = applyCordons(obs([], [node('n1'), node('n2', 30), node('n3', 50)]), [{ node: 'n1', reason: 'rack move' }]);

  it('never places a new VM on a node in maintenance, even the least loaded', () => {
    expect(chooseNode({ vm: desired('a').desired, nodes: cordoned.nodes })).toBe('n2');
    expect(plan({ desired: desired('a').desired, observation: { ...cordoned, templates: [{ name: 'ubuntu', providerID: 't' }] }, capabilities: caps }).steps[0]?.action).toMatchObject({
      type: 'create',
      node: 'n2',
    });
  });

  it('a new VM pinned to a node in maintenance waits, naming the reason', () => {
    const r = plan({ desired: desired('p', { node: 'n1' }).desired, observation: { ...cordoned, templates: [{ name: 'ubuntu', providerID: 't' }] }, capabilities: caps });
    expect(r.steps).toEqual([]);
    expect(r.waiting).toMatch(/node n1 is in maintenance \(rack move\); p is pinned there/);
  });

  it('an evicted pinned VM is not migrated back while the cordon holds, and is once it is lifted', () => {
    const d = { ...desired('p', { node: 'n1' }).desired, disks: [], nics: [], autostart: undefined };
    const running = vm('p', 'n2', { memoryBytes: d.memoryBytes, cpu: d.cpu });
    const held = plan({ desired: d, observation: { ...cordoned, vms: [running] }, capabilities: caps });
    expect(held.steps.map((s) => s.action.type)).toEqual([]);
    const lifted = plan({ desired: d, observation: { ...obs([running]) }, capabilities: caps });
    expect(lifted.steps.map((s) => s.action)).toMatchObject([{ type: 'migrate', to: 'n1' }]);
  });

  it('a VM with allowedNodes outside its node goes to an allowed node not in maintenance', () => {
    const d = { ...desired('a', { allowedNodes: ['n1', 'n3'] }).desired, disks: [], nics: [], autostart: undefined };
    const r = plan({ desired: d, observation: { ...cordoned, vms: [vm('a', 'n2', { memoryBytes: d.memoryBytes, cpu: d.cpu })] }, capabilities: caps });
    expect(r.steps.map((s) => s.action)).toMatchObject([{ type: 'migrate', to: 'n3' }]);
  });
});

describe('spec.maintenance is validated', () => {
  const hv = (spec: string) => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: x}\nspec:\n${spec}`;
  const lines = (text: string) => loadTexts(new Map([['in.yaml', text]])).problems.map(formatProblem);

  it.each([
    [
      'a node listed twice',
      hv('  type: proxmox\n  endpoint: https://pve:8006\n  maintenance: [{node: pve2}, {node: pve2, reason: again}]\n'),
      /spec\.maintenance\[1\]\.node: node "pve2" is listed twice/,
    ],
    [
      'hostMaintenance outside oVirt',
      hv('  type: proxmox\n  endpoint: https://pve:8006\n  maintenance: [{node: pve2, hostMaintenance: true}]\n'),
      /spec\.maintenance\[0\]\.hostMaintenance: only oVirt has a host maintenance mode/,
    ],
    [
      'a libvirt node that is not a host',
      hv('  type: libvirt\n  hosts: [{name: h1, uri: "qemu:///system"}]\n  maintenance: [{node: h9}]\n'),
      /spec\.maintenance\[0\]\.node: "h9" is not one of spec\.hosts \(h1\)/,
    ],
    ['an unknown field', hv('  type: ovirt\n  endpoint: https://e/ovirt-engine/api\n  maintenance: [{node: host1, drain: true}]\n'), /drain/],
  ])('%s', (_what, text, pattern) => {
    const got = lines(text);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(pattern);
  });

  it('an oVirt entry with hostMaintenance and a reason is fine', () => {
    expect(
      lines(hv('  type: ovirt\n  endpoint: https://e/ovirt-engine/api\n  migration: {maxConcurrent: 3}\n  maintenance: [{node: host1, reason: firmware, hostMaintenance: true, evictPinned: true}]\n')),
    ).toEqual([]);
  });
});

describe('get hv -o wide', () => {
  it('shows the nodes in maintenance and how far the drain is', () => {
    const record: StatusRecord = {
      key: 'Hypervisor/pve',
      kind: 'Hypervisor' as const,
      name: 'pve',
      updatedAt: '2026-12-01T20:00:00Z',
      lastApplied: {
        apiVersion: 'virtkeeper.io/v1alpha1',
        kind: 'Hypervisor' as const,
        metadata: { name: 'pve' },
        spec: { type: 'proxmox' as const, maintenance: [{ node: 'pve2' }, { node: 'pve3' }] },
      },
      status: {
        conditions: [
          { type: 'Maintenance', status: 'False', reason: 'Draining', message: 'pve2: 7 of 9 VMs moved, 2 pinned; pve3: 0 of 1 VM moved, 1 migrating', lastTransitionTime: '2026-12-01T20:00:00Z' },
        ],
      },
    };
    const wide = renderTable(KINDS.Hypervisor, [record], { wide: true, nowMs: Date.parse('2026-12-01T20:01:00Z') });
    expect(wide.split('\n')[0]).toMatch(/MAINTENANCE\s+DRAIN/);
    expect(wide).toContain('pve2,pve3');
    expect(wide).toContain('pve2: 7 of 9 VMs moved, 2 pinned; pve3: 0 of 1 VM moved, 1 migrating');
    expect(renderTable(KINDS.Hypervisor, [record], { wide: false, nowMs: 0 })).not.toContain('DRAIN');
  });
});

describe('drain progress in the Maintenance condition', () => {
  const managed = ['a', 'b', 'c', 'd'].map((n) => desired(n));
  const observation = obs([vm('a', 'n2'), vm('b', 'n1'), vm('c', 'n1'), vm('d', 'n1', { migration: { from: 'n1', progress: 75 } })]);
  const previous: MaintenanceStatus[] = [{ node: 'n1', phase: 'Draining', moved: ['a'], migrating: ['d'] }];

  it('says how far each migrating VM is: what the moves report, else what the list showed', () => {
    const input = base({ observation, managed, previous, maxConcurrent: 2 });
    expect(planDrain(input).status[0]?.message).toBe('n1: 1 of 4 VMs moved, 2 migrating (75 %), waiting: c (queued)');
    // The same input with the moves' progress: the same plan, the percents in the message.
    const again = planDrain({ ...input, progress: new Map([['b', 40]]) });
    expect(again.moves).toEqual(planDrain(input).moves);
    expect(again.status[0]?.message).toBe('n1: 1 of 4 VMs moved, 2 migrating (40 %, 75 %), waiting: c (queued)');
    expect(maintenanceCondition(again.status)).toMatchObject({ reason: 'Draining', message: 'n1: 1 of 4 VMs moved, 2 migrating (40 %, 75 %), waiting: c (queued)' });
  });
});
