// Directory mode over real HTTP: folder → converge → Proxmox provider → Proxmox simulator, for
// the snapshot kinds. The simulator keeps snapshots as qemu-server does (tasks, the VM lock,
// rollback of the config); the schedule runs on an injected clock shared with the simulator.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { loadConnector } from '../../providers/registry.ts';

const vm = (name: string, extra = '') => `apiVersion: virtkeeper.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}, labels: {tier: db}}
spec:
  hypervisor: pve
  template: ubuntu-24.04
  memory: 1Gi
  disks: [{name: root, size: 10Gi}]
${extra}`;

const root = join(import.meta.dirname, '..', '..');

/** `virtkeeper ARGS` as a user runs it (its own process). */
function cli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['bin/virtkeeper.js', ...args], { cwd: root, timeout: 30_000 }, (e, stdout, stderr) => (e ? reject(new Error(`${stderr}${stdout}`)) : resolve(stdout)));
  });
}

describe('snapshot kinds on the Proxmox simulator (directory mode, over HTTP)', () => {
  let sim: RunningProxmoxSimulator;
  let dir: string;
  let state: StateDir;
  let opts: ConvergeOptions;
  let pool: HypervisorPool;
  let clock: number;

  beforeEach(async () => {
    clock = Date.parse('2026-12-01T10:00:30Z');
    sim = await startProxmoxSimulator({
      nodes: 1,
      templates: ['ubuntu-24.04'],
      taskDurations: { default: 5, qmclone: 20, qmsnapshot: 20, qmrollback: 10, qmdelsnapshot: 10 },
      agentDelayMs: 0,
      clock: () => clock,
    });
    dir = await mkdtemp(join(tmpdir(), 'vk-snap-pve-'));
    state = new StateDir(`${dir}-state`);
    const logger = pino({ level: 'silent' });
    pool = new HypervisorPool({
      loadConnector,
      credentials: directoryCredentials({ VIRTKEEPER_PVE_SNAP_USERNAME: sim.credentials.username, VIRTKEEPER_PVE_SNAP_PASSWORD: sim.credentials.password }),
      logger,
      now: () => clock,
      observeMaxAgeMs: 0,
    });
    opts = {
      folder: dir,
      statuses: state,
      hypervisors: pool,
      logger,
      now: () => clock,
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
      wait: true,
      timeoutMs: 30_000,
      maxDeleteShare: 1,
    };
  });
  afterEach(async () => {
    await pool.closeAll();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-state`, { recursive: true, force: true });
  });

  const header = `apiVersion: virtkeeper.io/v1alpha1
kind: Hypervisor
metadata: {name: pve}
spec:
  type: proxmox
  endpoint: URL
  credentialsRef: {env: PVE_SNAP}
  defaults: {node: pve1, storage: local-lvm, bridge: vmbr0}
`;
  const write = (...docs: string[]) => writeFile(join(dir, 'all.yaml'), [header.replace('URL', sim.url), ...docs].join('---\n'));
  const status = async (key: string) => (await state.read(key))?.status as Record<string, unknown>;
  const simVM = (name: string) => sim.dump().vms.find((v) => v.config.name === name && !v.template);
  const snapNames = (name: string) => Object.keys(simVM(name)?.snapshots ?? {}).sort();
  /** Changes the VM behind virtkeeper's back, in a key the spec does not manage. */
  const changeByHand = (name: string) => {
    const s = sim.dump();
    const v = s.vms.find((x) => x.config.name === name && !x.template);
    if (v) v.config.args = '-changed-after-the-snapshot';
    sim.load(s);
  };

  it('a snapshot is made, listed, restored after the VM changed, and removed', async () => {
    await write(vm('db'), 'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshot\nmetadata: {name: before}\nspec: {vm: db, description: before the change}\n');
    const r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => [o.key, o.error])).toEqual([]);
    expect(await status('VirtualMachineSnapshot/default/before')).toMatchObject({
      phase: 'Ready',
      hypervisor: 'pve',
      providerID: 'vk-before',
      snapshotName: 'vk-before',
      memory: false,
      createdAt: '2026-12-01T10:00:30.000Z',
    });
    expect(snapNames('db')).toEqual(['vk-before']);
    // `virtkeeper get vksnap` shows it from the state directory, as kubectl get would.
    const table = await cli(['--state-dir', `${dir}-state`, 'get', 'vksnap', '-f', dir, '-o', 'wide']);
    expect(table.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+VM\s+PHASE\s+MEMORY\s+SIZE\s+CREATED\s+READY\s+AGE\s+HYPERVISOR\s+ID\s+QUIESCED\s+REASON$/);
    expect(table.split('\n')[1]).toMatch(/^default\s+before\s+db\s+Ready\s+false\s+<none>\s+2026-12-01T10:00:30\.000Z\s+True\s+\S+\s+pve\s+vk-before\s+<none>\s+Ready$/);
    expect(simVM('db')?.snapshots?.['vk-before']?.description).toMatch(/virtkeeper\.io\/owner=VirtualMachineSnapshot\/default\/before/);

    changeByHand('db');
    expect(simVM('db')?.config.args).toBe('-changed-after-the-snapshot');
    await write(
      vm('db'),
      'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshot\nmetadata: {name: before}\nspec: {vm: db, description: before the change}\n',
      'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineRestore\nmetadata: {name: undo}\nspec: {vm: db, snapshot: before}\n',
    );
    const rollbacks = sim.stats()['POST /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback'] ?? 0;
    await converge(opts);
    // Proxmox stops a running VM itself for a rollback: revert, then start (runStrategy Always).
    expect(await status('VirtualMachineRestore/default/undo')).toMatchObject({ phase: 'Succeeded', steps: ['revert', 'start'], snapshotID: 'vk-before' });
    expect(simVM('db')?.config.args).toBeUndefined();
    expect(simVM('db')?.status).toBe('running');
    await converge(opts);
    expect(sim.stats()['POST /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback']).toBe(rollbacks + 1);

    await write(vm('db'), 'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineRestore\nmetadata: {name: undo}\nspec: {vm: db, snapshot: before}\n');
    await converge(opts);
    expect(snapNames('db')).toEqual([]);
    expect(await state.read('VirtualMachineSnapshot/default/before')).toBeUndefined();
  }, 60_000);

  it('a snapshot with memory of the running VM saves its RAM', async () => {
    await write(vm('ram'), 'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshot\nmetadata: {name: withram}\nspec: {vm: ram, memory: true}\n');
    await converge(opts);
    expect(await status('VirtualMachineSnapshot/default/withram')).toMatchObject({ phase: 'Ready', memory: true });
  }, 60_000);

  it('a schedule every minute with keep {last: 2} leaves exactly two', async () => {
    const sched = 'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshotSchedule\nmetadata: {name: minutely}\nspec: {vms: [db], schedule: "* * * * *", keep: {last: 2}}\n';
    await write(vm('db'), sched);
    await converge(opts);
    for (let i = 1; i <= 4; i++) {
      clock = Date.parse(`2026-12-01T10:0${i}:02Z`);
      await converge(opts);
    }
    expect(snapNames('db')).toEqual(['vks-minutely-20261201-1003', 'vks-minutely-20261201-1004']);
    expect(await status('VirtualMachineSnapshotSchedule/default/minutely')).toMatchObject({ lastRunTime: '2026-12-01T10:04:00.000Z', pruned: 2 });
  }, 60_000);
});
