// Snapshots, restores and schedules end to end on the Proxmox simulator over HTTP: the real
// converge loop and state directory, the connector's SnapshotClient, the simulator's snapshot
// tasks and VM lock. A change made since the snapshot is gone after the restore (Proxmox rolls
// the config back; it stops the VM itself, virtkeeper starts it again); a schedule every minute
// with keep {last: 2} leaves exactly two snapshots on the VM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { ProxmoxClient } from '../../providers/proxmox/client.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

const vm = (name: string) =>
  `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}, labels: {tier: db}}\nspec: {hypervisor: pve, template: ubuntu-24.04, memory: 1Gi, updatePolicy: RestartAllowed, disks: [{name: root, size: 8Gi}]}\n`;
const snapshot = (name: string, of: string) => `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshot\nmetadata: {name: ${name}}\nspec: {vm: ${of}, description: before the upgrade}\n`;
const restore = (name: string, of: string, snap: string) => `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineRestore\nmetadata: {name: ${name}}\nspec: {vm: ${of}, snapshot: ${snap}}\n`;
const schedule = `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshotSchedule\nmetadata: {name: minutely}\nspec:\n  selector: {matchLabels: {tier: db}}\n  schedule: "* * * * *"\n  keep: {last: 2}\n`;

describe('snapshots end to end on the Proxmox simulator', () => {
  let sim: RunningProxmoxSimulator;
  let f: ConvergeFolder;
  let api: ProxmoxClient;
  let clock = Date.parse('2026-12-01T10:00:30Z');
  let opts: ConvergeOptions;
  const guest = (name: string) => sim.dump().vms.find((v) => v.config.name === name);
  const snapNames = (name: string) => Object.keys(guest(name)?.snapshots ?? {}).sort();
  const status = async (key: string) => (await opts.statuses.read(key))?.status as Record<string, unknown> | undefined;

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5, qmclone: 10 }, agentDelayMs: 0, clock: () => clock });
    const token = `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`;
    api = new ProxmoxClient({ endpoint: sim.url, credentials: { token } });
    f = await convergeFolder({
      prefix: 'vk-pve-snap-',
      header: () => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n`,
      credentials: directoryCredentials({ VIRTKEEPER_PVE_TOKEN: token }),
      timeoutMs: 30_000,
      sleepCapMs: 50,
    });
    opts = { ...f.opts, now: () => clock };
  });
  afterAll(async () => {
    await f?.close();
    await api?.close();
    await sim?.close();
  });

  it('makes the snapshot, restores the VM to it once (the change since is gone), and deletes it with its resource', async () => {
    await f.write(vm('db'));
    expect((await converge(opts)).outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    await f.write(vm('db'), snapshot('before', 'db'));
    let r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(await status('VirtualMachineSnapshot/default/before')).toMatchObject({ phase: 'Ready', snapshotName: 'vk-before', providerID: 'vk-before', memory: false });
    const snap = guest('db')?.snapshots?.['vk-before'];
    expect(snap?.description).toContain('virtkeeper.io/owner=VirtualMachineSnapshot/default/before');

    // A change made on the hypervisor after the snapshot (a key virtkeeper does not manage).
    const vmid = guest('db')?.vmid;
    await api.waitForTask(await api.post<string>(`/nodes/pve1/qemu/${vmid}/config`, { startup: 'order=3' }));
    expect(guest('db')?.config.startup).toBe('order=3');

    await f.write(vm('db'), snapshot('before', 'db'), restore('undo', 'db', 'before'));
    const plan = await converge({ ...opts, dryRun: true });
    expect(plan.outcomes.find((o) => o.key === 'VirtualMachineRestore/default/undo')?.intents?.map((i) => i.summary)).toEqual([
      'revert VM db to snapshot vk-before',
      'start VM db again (runStrategy)',
    ]);
    r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(guest('db')?.config.startup).toBeUndefined();
    expect(guest('db')?.status).toBe('running');
    expect(await status('VirtualMachineRestore/default/undo')).toMatchObject({ phase: 'Succeeded' });
    const rollbacks = sim.stats()['POST /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback'];
    await converge(opts);
    expect(sim.stats()['POST /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback']).toBe(rollbacks);

    await f.write(vm('db'), restore('undo', 'db', 'before'));
    await converge(opts);
    expect(snapNames('db')).toEqual([]);
    expect(await opts.statuses.read('VirtualMachineSnapshot/default/before')).toBeUndefined();
  }, 60_000);

  it('a snapshot with memory of the running VM: restored, Proxmox resumes it from the saved RAM', async () => {
    const memSnap = `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshot\nmetadata: {name: hot}\nspec: {vm: db, memory: true}\n`;
    await f.write(vm('db'), memSnap);
    expect((await converge(opts)).outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(await status('VirtualMachineSnapshot/default/hot')).toMatchObject({ phase: 'Ready', memory: true });
    expect(guest('db')?.snapshots?.['vk-hot']?.vmstate).toBe(`local-lvm:vm-${guest('db')?.vmid}-state-vk-hot`);
    await f.write(vm('db'), memSnap, restore('warm', 'db', 'hot'));
    const starts = sim.stats()['POST /nodes/{node}/qemu/{vmid}/status/start'] ?? 0;
    expect((await converge(opts)).outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(await status('VirtualMachineRestore/default/warm')).toMatchObject({ phase: 'Succeeded' });
    expect(guest('db')?.status).toBe('running');
    // Running again from the rollback itself: no start was asked.
    expect(sim.stats()['POST /nodes/{node}/qemu/{vmid}/status/start'] ?? 0).toBe(starts);
    await f.write(vm('db'));
    await converge(opts);
    expect(snapNames('db')).toEqual([]);
  }, 60_000);

  it('a schedule every minute with keep {last: 2} leaves exactly two snapshots', async () => {
    await f.write(vm('db'), schedule);
    await converge(opts);
    for (let i = 1; i <= 4; i++) {
      clock = Date.parse(`2026-12-01T10:0${i}:05Z`);
      const r = await converge(opts);
      expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    }
    expect(snapNames('db')).toEqual(['vks-minutely-20261201-1003', 'vks-minutely-20261201-1004']);
  }, 60_000);
});
