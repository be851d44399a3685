// Directory mode over real HTTP on the oVirt simulator (snapshots by description and marker,
// snapshot_status locked → ok, a revert only of a stopped VM): a restore of a running VM under
// updatePolicy Live is refused and changes nothing, under RestartAllowed it stops, reverts and
// starts; a per-minute schedule with keep {last: 2} leaves exactly two (injected clock).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { arr, OvirtClient } from '../../providers/ovirt/client.ts';
import * as ovirt from '../../providers/ovirt/index.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

// Runs once the oVirt connector has its day-2 clients (ovirtDay2, on the oVirt day-2 branch).
describe.skipIf(!('ovirtDay2' in ovirt))('snapshot kinds on the oVirt simulator (directory mode, over HTTP)', () => {
  let sim: RunningOvirtSimulator;
  let f: ConvergeFolder;
  let clock = Date.parse('2026-12-01T10:00:30Z');
  const hv = () =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ov}\nspec:\n  type: ovirt\n  endpoint: ${sim.url}\n  credentialsRef: {env: OV_SNAPK}\n  defaults: {cluster: Default, storageDomain: data1}\n`;
  const vm = (name: string, policy: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec:\n  hypervisor: ov\n  template: centos-9\n  memory: 1Gi\n  disks: [{name: root, size: 10Gi}]\n  updatePolicy: ${policy}\n`;
  const snap = (name: string, of: string) => `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshot\nmetadata: {name: ${name}}\nspec: {vm: ${of}}\n`;
  const restore = (name: string, of: string, s: string) => `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineRestore\nmetadata: {name: ${name}}\nspec: {vm: ${of}, snapshot: ${s}}\n`;
  const simVM = (name: string) => sim.dump().vms.find((v) => v.name === name);
  const status = async (key: string) => (await f.opts.statuses.read(key))?.status;

  beforeAll(async () => {
    sim = await startOvirtSimulator({ name: 'ov', templates: ['centos-9'], imageCopyMs: 40, bootStepMs: 10, migrateMs: 40, diskResizeMs: 10 });
    f = await convergeFolder({
      prefix: 'vk-snap-ov-',
      header: hv,
      credentials: directoryCredentials({ VIRTKEEPER_OV_SNAPK_USERNAME: sim.credentials.username, VIRTKEEPER_OV_SNAPK_PASSWORD: sim.credentials.password }),
    });
    f.opts.now = () => clock;
  });
  afterAll(async () => {
    await f?.close();
    await sim?.close();
  });

  it('a restore of a running VM under updatePolicy Live is refused and nothing changes; under RestartAllowed it stops, reverts and starts', async () => {
    await f.write(vm('live', 'Live'), vm('allowed', 'RestartAllowed'), snap('s-live', 'live'), snap('s-allowed', 'allowed'));
    let r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => [o.key, o.error])).toEqual([]);
    await f.write(
      vm('live', 'Live'),
      vm('allowed', 'RestartAllowed'),
      snap('s-live', 'live'),
      snap('s-allowed', 'allowed'),
      restore('r-live', 'live', 's-live'),
      restore('r-allowed', 'allowed', 's-allowed'),
    );
    r = await converge(f.opts);
    expect(r.outcomes.find((o) => o.key === 'VirtualMachineRestore/default/r-live')?.error?.code).toBe('VK_REFUSED_RESTORE_LIVE');
    expect(simVM('live')?.status).toBe('up');
    expect(await status('VirtualMachineRestore/default/r-allowed')).toMatchObject({ phase: 'Succeeded', steps: ['stop', 'revert', 'start'] });
    expect(simVM('allowed')?.status).toBe('up');
  }, 60_000);

  it('a schedule every minute with keep {last: 2} leaves exactly two', async () => {
    const sched = 'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshotSchedule\nmetadata: {name: minutely}\nspec: {vms: [sched-db], schedule: "* * * * *", keep: {last: 2}}\n';
    await f.write(vm('sched-db', 'Live'), sched);
    await converge(f.opts);
    for (let i = 1; i <= 4; i++) {
      clock = Date.parse(`2026-12-01T10:0${i}:02Z`);
      await converge(f.opts);
    }
    // Asked of the engine's API itself, not of the provider.
    const api = new OvirtClient({ endpoint: sim.url, credentials: sim.credentials });
    const listed = arr((await api.get(`/vms/${simVM('sched-db')?.id ?? ''}/snapshots`)).snapshot);
    await api.close();
    const names = listed.flatMap((s) => /virtkeeper\.io\/snapshot=(\S+)/.exec(String(s.description ?? ''))?.[1] ?? []).sort();
    expect(names).toEqual(['vks-minutely-20261201-1003', 'vks-minutely-20261201-1004']);
    expect(await status('VirtualMachineSnapshotSchedule/default/minutely')).toMatchObject({ lastRunTime: '2026-12-01T10:04:00.000Z', pruned: 2 });
  }, 60_000);
});
