// Directory mode end to end over the in-memory provider: the real converge loop, the real state
// directory and removal gate; the provider keeps snapshots after the SnapshotClient contract.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KINDS } from '../../controller/api/kinds.ts';
import { renderPlan } from '../../controller/cli/render-plan.ts';
import { renderTable } from '../../controller/cli/render-get.ts';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { MemoryProvider, type MemoryProviderOptions, memoryPool } from '../support/memory-provider.ts';

const hv = `apiVersion: virtkeeper.io/v1alpha1
kind: Hypervisor
metadata: {name: mem}
spec: {type: proxmox, endpoint: http://127.0.0.1:1}
`;
const vm = (name: string, extra = '') => `apiVersion: virtkeeper.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}, labels: {tier: db}}
spec:
  hypervisor: mem
  template: ubuntu-24.04
  memory: 1Gi
  disks: [{name: root, size: 10Gi}]
${extra}`;
const snapshot = (name: string, vmName: string, extra = '') => `apiVersion: virtkeeper.io/v1alpha1
kind: VirtualMachineSnapshot
metadata: {name: ${name}}
spec:
  vm: ${vmName}
${extra}`;
const restore = (name: string, vmName: string, snap: string) => `apiVersion: virtkeeper.io/v1alpha1
kind: VirtualMachineRestore
metadata: {name: ${name}}
spec: {vm: ${vmName}, snapshot: ${snap}}
`;

describe('snapshots, restores and schedules in directory mode (memory provider)', () => {
  let dir: string;
  let state: StateDir;
  let provider: MemoryProvider;
  let opts: ConvergeOptions;
  let clock: number;

  const setup = async (o: MemoryProviderOptions = {}) => {
    provider = new MemoryProvider({ now: () => clock, ...o });
    const hypervisors = memoryPool(provider, () => clock);
    opts = { folder: dir, statuses: state, hypervisors, logger: pino({ level: 'silent' }), now: () => clock, sleep: async () => {}, wait: true, timeoutMs: 5000, maxDeleteShare: 1 };
  };
  const write = (...docs: string[]) => writeFile(join(dir, 'all.yaml'), [hv, ...docs].join('---\n'));
  const status = async (key: string) => (await state.read(key))?.status as Record<string, unknown> & { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
  const cond = async (key: string, type = 'Ready') => (await status(key))?.conditions?.find((c) => c.type === type);

  beforeEach(async () => {
    clock = Date.parse('2026-12-01T10:00:30Z');
    dir = await mkdtemp(join(tmpdir(), 'vk-snap-'));
    state = new StateDir(await mkdtemp(join(tmpdir(), 'vk-snap-state-')));
    await setup();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(state.dir, { recursive: true, force: true });
  });

  it('a snapshot is made and listed, a restore takes back what changed since, once; removing the snapshot deletes it', async () => {
    await write(vm('db', '  updatePolicy: RestartAllowed\n'));
    await converge(opts);
    provider.writeGuestFile('db', '/etc/before', 'kept');
    await write(vm('db', '  updatePolicy: RestartAllowed\n'), snapshot('before-upgrade', 'db', '  description: before the upgrade\n'));
    const r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready)).toEqual([]);
    const st = await status('VirtualMachineSnapshot/default/before-upgrade');
    expect(st).toMatchObject({ phase: 'Ready', hypervisor: 'mem', snapshotName: 'vk-before-upgrade', memory: false, createdAt: new Date(clock).toISOString() });
    expect(st.providerID).toMatch(/^snap-/);
    expect(st.size).toBeDefined();
    const db = provider.byName('db');
    if (!db) throw new Error('no VM');
    expect((await provider.snapshots.list({ providerID: db.providerID, name: 'db', ...(db.owner ? { owner: db.owner } : {}) })).map((s) => s.name)).toEqual(['vk-before-upgrade']);
    // get vksnap shows it.
    const table = renderTable(KINDS.VirtualMachineSnapshot, [(await state.read('VirtualMachineSnapshot/default/before-upgrade')) as NonNullable<Awaited<ReturnType<typeof state.read>>>], {
      wide: false,
      nowMs: clock,
    });
    expect(table.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+VM\s+PHASE\s+MEMORY\s+SIZE\s+CREATED\s+READY\s+AGE$/);
    expect(table.split('\n')[1]).toMatch(/default\s+before-upgrade\s+db\s+Ready\s+false\s+\S+\s+2026-12-01T10:00:30.000Z\s+True/);

    // The VM changes after the snapshot; the restore takes it back (stop, revert, start).
    provider.writeGuestFile('db', '/etc/after', 'gone after restore');
    await write(vm('db', '  updatePolicy: RestartAllowed\n'), snapshot('before-upgrade', 'db'), restore('undo', 'db', 'before-upgrade'));
    const plan = await converge({ ...opts, dryRun: true });
    expect(plan.outcomes.find((o) => o.key === 'VirtualMachineRestore/default/undo')?.intents?.map((i) => i.summary)).toEqual([
      'stop VM db (the hypervisor reverts stopped VMs only)',
      'revert VM db to snapshot vk-before-upgrade',
      'start VM db again (runStrategy)',
    ]);
    expect(renderPlan(plan.outcomes, { color: false, paint: (_f, t) => t })).toMatch(/0 to delete, 1 restore to apply\.$/);
    await converge(opts);
    expect([...(provider.files.get(db.providerID) ?? new Map()).keys()]).toEqual(['/etc/before']);
    expect(provider.byName('db')?.power).toBe('running');
    expect(await status('VirtualMachineRestore/default/undo')).toMatchObject({ phase: 'Succeeded', steps: ['stop', 'revert', 'start'], done: ['stop', 'revert', 'start'] });
    // Done once: later passes never revert again.
    provider.writeGuestFile('db', '/etc/later', 'stays');
    await converge(opts);
    expect(provider.snapshots.calls.revert).toBe(1);
    expect(provider.files.get(db.providerID)?.has('/etc/later')).toBe(true);

    // Removing the resource deletes the snapshot (through the removal gate).
    await write(vm('db', '  updatePolicy: RestartAllowed\n'), restore('undo', 'db', 'before-upgrade'));
    const removal = await converge({ ...opts, dryRun: true });
    expect(removal.outcomes.find((o) => o.key === 'VirtualMachineSnapshot/default/before-upgrade')?.intents).toEqual([{ symbol: '-', summary: 'delete snapshot vk-before-upgrade of VM db' }]);
    expect(renderPlan(removal.outcomes, { color: false, paint: (_f, t) => t })).toMatch(/1 snapshot to remove\.$/);
    expect(provider.snapshots.calls.delete).toBe(0);
    await converge(opts);
    expect(provider.snapshots.calls.delete).toBe(1);
    expect(await provider.snapshots.list({ providerID: db.providerID, name: 'db', ...(db.owner ? { owner: db.owner } : {}) })).toEqual([]);
    expect(await state.read('VirtualMachineSnapshot/default/before-upgrade')).toBeUndefined();
  });

  it('an interrupted restore resumes after its last step done, stopping the VM again if it was started meanwhile; it reverts once', async () => {
    await write(vm('db', '  updatePolicy: RestartAllowed\n'), snapshot('s', 'db'));
    await converge(opts);
    provider.writeGuestFile('db', '/etc/after', 'gone');
    provider.snapshots.failNextRevert = 1;
    await write(vm('db', '  updatePolicy: RestartAllowed\n'), snapshot('s', 'db'), restore('undo', 'db', 's'));
    const first = await converge({ ...opts, wait: false });
    expect(first.outcomes.find((o) => o.key === 'VirtualMachineRestore/default/undo')?.error?.code).toBe('VK_PROVIDER_TRANSIENT');
    expect(await status('VirtualMachineRestore/default/undo')).toMatchObject({ phase: 'InProgress', done: ['stop'] });
    // Someone (or runStrategy Always on another pass) started it again.
    const db = provider.byName('db');
    if (db) db.power = 'running';
    await converge(opts);
    expect(await status('VirtualMachineRestore/default/undo')).toMatchObject({ phase: 'Succeeded', done: ['stop', 'revert', 'start'] });
    expect(provider.files.get(db?.providerID ?? '')?.has('/etc/after')).toBe(false);
    expect(provider.snapshots.calls.revert).toBe(1);
    expect(provider.byName('db')?.power).toBe('running');
  });

  it('a finished restore whose file goes missing for a moment is not applied again when it is back; its record goes after a while', async () => {
    const docs = [vm('db', '  updatePolicy: RestartAllowed\n'), snapshot('s', 'db')];
    await write(...docs);
    await converge(opts);
    await write(...docs, restore('undo', 'db', 's'));
    await converge(opts);
    expect(provider.snapshots.calls.revert).toBe(1);
    // A checkout mid-switch: the file is gone on this pass, back on the next.
    await write(...docs);
    await converge(opts);
    expect(await status('VirtualMachineRestore/default/undo')).toMatchObject({ phase: 'Succeeded', absentSince: new Date(clock).toISOString() });
    await write(...docs, restore('undo', 'db', 's'));
    await converge(opts);
    expect(provider.snapshots.calls.revert).toBe(1);
    expect((await status('VirtualMachineRestore/default/undo'))?.absentSince).toBeUndefined();
    // Gone for good: the record goes once the grace has passed.
    await write(...docs);
    await converge(opts);
    clock += 11 * 60_000;
    await converge(opts);
    expect(await state.read('VirtualMachineRestore/default/undo')).toBeUndefined();
  });

  it('a snapshot removed by hand is reported lost, never made anew under its old name', async () => {
    await write(vm('db'), snapshot('once', 'db'));
    await converge(opts);
    const db = provider.byName('db');
    if (!db?.owner) throw new Error('no VM');
    const t = { providerID: db.providerID, name: 'db', owner: db.owner };
    const [made] = await provider.snapshots.list(t);
    if (!made) throw new Error('no snapshot');
    await provider.snapshots.delete(t, made.id);
    const r = await converge({ ...opts, wait: false });
    expect(r.outcomes.find((o) => o.key === 'VirtualMachineSnapshot/default/once')?.ready).toBe(false);
    expect(await cond('VirtualMachineSnapshot/default/once')).toMatchObject({ status: 'False', reason: 'Lost' });
    expect((await status('VirtualMachineSnapshot/default/once'))?.phase).toBe('Failed');
    expect(provider.snapshots.calls.create).toBe(1);
  });

  it('a suspended schedule makes no snapshot on a due run, and says when the next is', async () => {
    const sched = 'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshotSchedule\nmetadata: {name: paused}\nspec: {vms: [db], schedule: "* * * * *", keep: {last: 2}, suspend: true}\n';
    await write(vm('db'), sched);
    await converge(opts);
    clock += 120_000;
    await converge(opts);
    expect(provider.snapshots.calls.create).toBe(0);
    expect((await status('VirtualMachineSnapshotSchedule/default/paused'))?.nextRunTime).toBe('2026-12-01T10:03:00.000Z');
  });

  it('deletionPolicy Orphan leaves the snapshot on the hypervisor', async () => {
    await write(vm('db'), snapshot('keep-me', 'db', '  deletionPolicy: Orphan\n'));
    await converge(opts);
    await write(vm('db'));
    await converge(opts);
    expect(provider.snapshots.calls.delete).toBe(0);
    expect(await state.read('VirtualMachineSnapshot/default/keep-me')).toBeUndefined();
  });

  it('a restore is refused under updatePolicy Live, for a snapshot of another VM, and for a VM not declared; nothing reverts', async () => {
    await write(vm('a'), vm('b'), snapshot('of-a', 'a'));
    await converge(opts);
    await write(vm('a'), vm('b'), snapshot('of-a', 'a'), restore('live', 'a', 'of-a'), restore('wrong', 'b', 'of-a'), restore('ghost', 'nobody', 'of-a'));
    const r = await converge(opts);
    const refusal = (k: string) => r.outcomes.find((o) => o.key === `VirtualMachineRestore/default/${k}`)?.error?.code;
    expect([refusal('live'), refusal('wrong'), refusal('ghost')]).toEqual(['VK_REFUSED_RESTORE_LIVE', 'VK_REFUSED_OTHER_VM', 'VK_REFUSED_NOT_OWNED']);
    expect((await cond('VirtualMachineRestore/default/live'))?.message).toMatch(/updatePolicy: RestartAllowed/);
    expect((await status('VirtualMachineRestore/default/wrong'))?.phase).toBe('Failed');
    expect(provider.snapshots.calls.revert).toBe(0);
    expect(provider.byName('a')?.power).toBe('running');
  });

  it('a snapshot of a VM that does not carry our marker is refused', async () => {
    provider.plant({ name: 'foreign' });
    await write(vm('foreign'), snapshot('s', 'foreign'));
    const r = await converge(opts);
    expect(r.outcomes.find((o) => o.key === 'VirtualMachineSnapshot/default/s')?.error?.code).toMatch(/^VK_REFUSED/);
    expect(provider.snapshots.calls.create).toBe(0);
  });

  it('quiesce freezes through the guest agent, and says so when the VM has none', async () => {
    await setup({ guestAgent: true });
    provider.silentAgents.add('silent');
    await write(
      vm('agent'),
      vm('noagent', '  guestAgent: false\n'),
      vm('silent'),
      snapshot('q1', 'agent', '  quiesce: true\n'),
      snapshot('q2', 'noagent', '  quiesce: true\n'),
      snapshot('q3', 'silent', '  quiesce: true\n'),
      snapshot('q4', 'agent', '  quiesce: true\n  memory: true\n'),
    );
    await converge(opts);
    expect(provider.calls).toMatchObject({ freezes: 1, thaws: 1 });
    expect(await cond('VirtualMachineSnapshot/default/q1', 'Quiesced')).toMatchObject({ status: 'True', reason: 'Frozen' });
    expect(await status('VirtualMachineSnapshot/default/q1')).toMatchObject({ phase: 'Ready', quiesced: true });
    expect(await cond('VirtualMachineSnapshot/default/q2', 'Quiesced')).toMatchObject({ status: 'False', reason: 'GuestAgentMissing' });
    expect((await cond('VirtualMachineSnapshot/default/q2', 'Quiesced'))?.message).toMatch(/no guest agent/);
    expect(await cond('VirtualMachineSnapshot/default/q3', 'Quiesced')).toMatchObject({ status: 'False', reason: 'GuestAgentMissing' });
    expect((await cond('VirtualMachineSnapshot/default/q3', 'Quiesced'))?.message).toMatch(/guest agent of VM silent did not answer/);
    expect((await status('VirtualMachineSnapshot/default/q3'))?.phase).toBe('Ready');
    // With memory: not frozen (the freeze would come back with the memory on a restore).
    expect(await cond('VirtualMachineSnapshot/default/q4', 'Quiesced')).toMatchObject({ status: 'False', reason: 'WithMemory' });
    expect(await status('VirtualMachineSnapshot/default/q4')).toMatchObject({ phase: 'Ready', memory: true });
  });

  it('a schedule every minute with keep {last: 2} leaves exactly two, names them with their time, prunes only its own, skips a migrating VM, catches up one run', async () => {
    const sched = `apiVersion: virtkeeper.io/v1alpha1
kind: VirtualMachineSnapshotSchedule
metadata: {name: minutely}
spec:
  selector: {matchLabels: {tier: db}}
  schedule: "* * * * *"
  timeZone: Europe/Berlin
  keep: {last: 2}
`;
    await write(vm('db1'), vm('db2'), snapshot('manual', 'db1'), sched);
    await converge(opts);
    expect((await status('VirtualMachineSnapshotSchedule/default/minutely'))?.nextRunTime).toBe('2026-12-01T10:01:00.000Z');
    const names = async (n: string) => {
      const v = provider.byName(n);
      if (!v) throw new Error(`no VM ${n}`);
      return (await provider.snapshots.list({ providerID: v.providerID, name: n, ...(v.owner ? { owner: v.owner } : {}) })).map((s) => s.name).sort();
    };
    for (let i = 1; i <= 4; i++) {
      clock = Date.parse(`2026-12-01T10:0${i}:05Z`);
      await converge(opts);
    }
    expect(await names('db2')).toEqual(['vks-minutely-20261201-1003', 'vks-minutely-20261201-1004']);
    // Between runs the schedule reads no snapshot list (the one read is the manual snapshot's own check).
    const lists = provider.snapshots.calls.list;
    clock = Date.parse('2026-12-01T10:04:40Z');
    await converge(opts);
    expect(provider.snapshots.calls.list).toBe(lists + 1);
    // The manual snapshot is not the schedule's: never pruned.
    expect(await names('db1')).toEqual(['vk-manual', 'vks-minutely-20261201-1003', 'vks-minutely-20261201-1004']);
    const st = await status('VirtualMachineSnapshotSchedule/default/minutely');
    expect(st).toMatchObject({ lastRunTime: '2026-12-01T10:04:00.000Z', nextRunTime: '2026-12-01T10:05:00.000Z', pruned: 4, missedRuns: 0 });
    expect((st.snapshots as unknown[]).length).toBe(4);

    // A migrating VM is skipped with why; the other is snapshotted.
    const db2 = provider.byName('db2');
    if (db2) db2.migration = { from: 'node1', to: 'node2', progress: 40 };
    clock = Date.parse('2026-12-01T10:05:05Z');
    await converge(opts);
    expect((await status('VirtualMachineSnapshotSchedule/default/minutely'))?.skipped).toEqual([
      { vm: 'db2', reason: 'VM db2 is migrating (node1 → node2): skipped the run of 2026-12-01T10:05:00.000Z' },
    ]);
    expect(await names('db2')).toEqual(['vks-minutely-20261201-1003', 'vks-minutely-20261201-1004']);
    if (db2) delete db2.migration;

    // Ten minutes down: one run made (the latest), nine let go.
    clock = Date.parse('2026-12-01T10:15:30Z');
    await converge(opts);
    expect(await names('db2')).toEqual(['vks-minutely-20261201-1004', 'vks-minutely-20261201-1015']);
    expect(await status('VirtualMachineSnapshotSchedule/default/minutely')).toMatchObject({ lastRunTime: '2026-12-01T10:15:00.000Z', missedRuns: 9 });

    // plan shows the next run's snapshots and the prunes, and changes nothing.
    clock = Date.parse('2026-12-01T10:16:01Z');
    const before = provider.snapshots.calls.create;
    const plan = await converge({ ...opts, dryRun: true });
    expect(plan.outcomes.find((o) => o.key === 'VirtualMachineSnapshotSchedule/default/minutely')?.intents?.map((i) => `${i.symbol} ${i.summary}`)).toEqual([
      '+ snapshot VM db1 as vks-minutely-20261201-1016 (run of 2026-12-01T10:16:00.000Z)',
      '+ snapshot VM db2 as vks-minutely-20261201-1016 (run of 2026-12-01T10:16:00.000Z)',
    ]);
    expect(provider.snapshots.calls.create).toBe(before);
    const text = renderPlan(plan.outcomes, { color: false, paint: (_f, t) => t });
    expect(text).toContain('# VirtualMachineSnapshotSchedule default/minutely\n  + snapshot VM db1 as vks-minutely-20261201-1016');
    expect(text).toMatch(/Plan: 0 to create, 0 to change live, 0 needs restart, 0 to delete, 2 snapshots to make\.$/);
  });
});
