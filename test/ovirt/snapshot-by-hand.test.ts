// A snapshot an admin made by hand (through the oVirt simulator's API directly, no marker) on a
// VM virtkeeper owns: listed, but never pruned by a schedule, not removed with the VM's
// VirtualMachineSnapshots, and a restore to it is refused (restore.ts reverts only to snapshots
// virtkeeper made) with a condition that says so and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { arr, OvirtClient } from '../../providers/ovirt/client.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';
import { until } from '../support/until.ts';

describe('oVirt: a snapshot made by hand on a VM virtkeeper owns', () => {
  let sim: RunningOvirtSimulator;
  let f: ConvergeFolder;
  let api: OvirtClient;
  let clock = Date.parse('2026-12-01T10:00:30Z');
  const hv = () =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ov-hand}\nspec:\n  type: ovirt\n  endpoint: ${sim.url}\n  credentialsRef: {env: OV_HAND}\n  defaults: {cluster: Default, storageDomain: data1}\n`;
  const vm =
    'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: hand-db}\nspec:\n  hypervisor: ov-hand\n  template: centos-9\n  memory: 1Gi\n  disks: [{name: root, size: 10Gi}]\n  updatePolicy: RestartAllowed\n';
  const snap = 'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshot\nmetadata: {name: ours}\nspec: {vm: hand-db}\n';
  const sched = 'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshotSchedule\nmetadata: {name: minutely}\nspec: {vms: [hand-db], schedule: "* * * * *", keep: {last: 1}}\n';
  const restore = 'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineRestore\nmetadata: {name: back}\nspec: {vm: hand-db, snapshot: before-upgrade}\n';
  const vmID = () => sim.dump().vms.find((v) => v.name === 'hand-db')?.id ?? '';
  const onEngine = async () => arr((await api.get(`/vms/${vmID()}/snapshots`)).snapshot).filter((s) => s.snapshot_type !== 'active');
  const descriptions = async () => (await onEngine()).map((s) => String(s.description ?? '')).sort();

  beforeAll(async () => {
    sim = await startOvirtSimulator({ name: 'ov-hand', templates: ['centos-9'], imageCopyMs: 40, bootStepMs: 10, migrateMs: 40, diskResizeMs: 10 });
    api = new OvirtClient({ endpoint: sim.url, credentials: sim.credentials });
    f = await convergeFolder({
      prefix: 'vk-ov-hand-',
      header: hv,
      credentials: directoryCredentials({ VIRTKEEPER_OV_HAND_USERNAME: sim.credentials.username, VIRTKEEPER_OV_HAND_PASSWORD: sim.credentials.password }),
    });
    f.opts.now = () => clock;
  });
  afterAll(async () => {
    await f?.close();
    await api?.close();
    await sim?.close();
  });

  it('is listed, never pruned, not removed with the VM’s snapshots, and a restore to it is refused', async () => {
    await f.write(vm, snap);
    expect((await converge(f.opts)).outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    // The admin's snapshot, as the engine's API takes it: a description, no marker.
    await api.call('POST', `/vms/${vmID()}/snapshots`, { body: { description: 'before-upgrade', persist_memorystate: false } });
    await until('the admin’s snapshot to be ok', async () => (await onEngine()).some((s) => s.description === 'before-upgrade' && s.snapshot_status === 'ok'));

    // A schedule keeping one: its runs prune its own, never the admin's.
    await f.write(vm, snap, sched);
    await converge(f.opts);
    for (const minute of [1, 2, 3]) {
      clock = Date.parse(`2026-12-01T10:0${minute}:02Z`);
      expect((await converge(f.opts)).outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    }
    const all = await descriptions();
    expect(all).toContain('before-upgrade');
    expect(all.filter((d) => d.includes('virtkeeper.io/snapshot=vks-minutely-'))).toEqual([expect.stringContaining('virtkeeper.io/snapshot=vks-minutely-20261201-1003')]);
    expect((await f.opts.statuses.read('VirtualMachineSnapshotSchedule/default/minutely'))?.status).toMatchObject({ pruned: 2 });

    // The provider lists it, as no one's.
    const conn = (await f.pool.connections()).find((c) => c.name === 'ov-hand');
    const observed = (await conn?.client.vms.observe())?.vms.find((v) => v.name === 'hand-db');
    if (!observed || !conn?.client.snapshots) throw new Error('not observed');
    const listed = await conn.client.snapshots.list({ providerID: observed.providerID, name: observed.name, ...(observed.owner ? { owner: observed.owner } : {}) });
    expect(listed.find((s) => s.name === 'before-upgrade')).toMatchObject({ state: 'ready' });
    expect(listed.find((s) => s.name === 'before-upgrade')?.owner).toBeUndefined();

    // A restore to it is refused, saying why, and nothing changes (the VM stays up).
    await f.write(vm, snap, sched, restore);
    const r = await converge({ ...f.opts, timeoutMs: 5000 });
    const out = r.outcomes.find((o) => o.key === 'VirtualMachineRestore/default/back');
    expect(out?.error?.code).toBe('VK_REFUSED_FOREIGN_SNAPSHOT');
    const st = (await f.opts.statuses.read('VirtualMachineRestore/default/back'))?.status as { phase?: string; conditions?: { type: string; status: string; reason: string; message: string }[] };
    expect(st.phase).toBe('Failed');
    expect(st.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'VK_REFUSED_FOREIGN_SNAPSHOT',
      message: expect.stringMatching(/before-upgrade of VM hand-db was not made by virtkeeper/),
    });
    expect(sim.dump().vms.find((v) => v.name === 'hand-db')?.status).toBe('up');

    // Removing the VM's snapshot resources (and the schedule) removes theirs, never the admin's.
    expect((await descriptions()).filter((d) => d.includes('VirtualMachineSnapshot/default/ours'))).toHaveLength(1);
    await f.write(vm);
    await converge(f.opts);
    expect((await descriptions()).filter((d) => d.includes('VirtualMachineSnapshot/default/ours'))).toEqual([]);
    expect(await descriptions()).toContain('before-upgrade');
  }, 60_000);
});
