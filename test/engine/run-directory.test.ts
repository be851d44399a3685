// `virtkeeper run -f DIR` as a user runs it: a separate process watching a folder, against
// the Proxmox simulator over HTTP; edits and deletions in the folder converge.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateDir } from '../../controller/status/state-dir.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { until } from '../support/until.ts';

const root = join(import.meta.dirname, '..', '..');

describe('virtkeeper run -f (directory mode controller)', () => {
  let sim: RunningProxmoxSimulator;
  let dir: string;
  let state: StateDir;
  let proc: ChildProcess;
  let stderr = '';
  const vm = (mem: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: watched}\nspec:\n  hypervisor: pve\n  template: ubuntu-24.04\n  memory: ${mem}\n  maxMemory: 4Gi\n  disks: [{name: root, size: 10Gi}]\n`;

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 2, templates: ['ubuntu-24.04'], taskDurations: { default: 10, qmclone: 30 } });
    dir = await mkdtemp(join(tmpdir(), 'vk-run-'));
    state = new StateDir(`${dir}-state`);
    await writeFile(
      join(dir, 'hv.yaml'),
      `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}, resyncInterval: 2s}\n`,
    );
    // The only VM may go (--max-delete-share 1), after a grace of 3 s.
    proc = spawn(process.execPath, ['bin/virtkeeper.js', '--state-dir', state.dir, 'run', '-f', dir, '--metrics-port', '0', '--max-delete-share', '1', '--delete-grace', '3s'], {
      cwd: root,
      env: { ...process.env, VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`, VK_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  });
  afterAll(async () => {
    proc?.kill('SIGTERM');
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-outside.yaml`, { force: true });
    await rm(state.dir, { recursive: true, force: true });
  });

  it('creates a VM when its manifest appears, applies an edit, deletes it when the file goes', async () => {
    await writeFile(join(dir, 'vm.yaml'), vm('1Gi'));
    await until('the VM Running in the state dir', async () => (await state.read('VirtualMachine/default/watched'))?.status.phase === 'Running');
    await writeFile(join(dir, 'vm.yaml'), vm('2Gi'));
    await until('memory 2Gi', async () => (await state.read('VirtualMachine/default/watched'))?.status.memory === '2Gi');
    expect(sim.dump().vms.find((v) => v.config.name === 'watched')?.config.memory).toBe('2048');
    // One file past the yaml alias limit, then turned into a link outside the folder: `run` lives
    // on, reports the file, and holds its VM (on main the first killed the process).
    await writeFile(join(dir, 'vm.yaml'), `a: &x [1]\n${Array.from({ length: 101 }, (_, i) => `b${i}: *x`).join('\n')}\n`);
    await until('the alias bomb reported', async () => stderr.includes('invalid manifest: vm.yaml:1: YAML: Excessive alias count'));
    await writeFile(`${dir}-outside.yaml`, vm('3Gi'));
    await unlink(join(dir, 'vm.yaml'));
    await symlink(`${dir}-outside.yaml`, join(dir, 'vm.yaml'));
    await until('the link reported', async () => stderr.includes('invalid manifest: vm.yaml:1: symbolic link to a path outside the folder'));
    expect(proc.exitCode).toBeNull();
    expect(sim.dump().vms.find((v) => v.config.name === 'watched')?.config.memory).toBe('2048');
    await unlink(join(dir, 'vm.yaml'));
    await writeFile(join(dir, 'vm.yaml'), 'kind: [broken');
    await until('the broken file reported', async () => stderr.includes('invalid manifest: vm.yaml:1: YAML syntax'));
    expect(sim.dump().vms.some((v) => v.config.name === 'watched')).toBe(true);
    await unlink(join(dir, 'vm.yaml'));
    const gone = Date.now();
    await until('the removal held by the grace', async () => ((await state.read('VirtualMachine/default/watched'))?.problems ?? []).some((p) => p.includes('--delete-grace 3s')));
    expect(sim.dump().vms.some((v) => v.config.name === 'watched')).toBe(true);
    await until('the VM deleted', async () => !sim.dump().vms.some((v) => v.config.name === 'watched'));
    expect(Date.now() - gone).toBeGreaterThanOrEqual(3000);
    expect(await state.read('VirtualMachine/default/watched')).toBeUndefined();
    expect(stderr).not.toContain(sim.credentials.tokenSecret);
    // Prometheus metrics on the port the log names: the create and the delete were counted.
    const port = stderr
      .split('\n')
      .map((l) => {
        try {
          return (JSON.parse(l) as { metrics?: number }).metrics;
        } catch {
          return undefined;
        }
      })
      .find(Boolean);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/^virtkeeper_actions_total\{action="create",result="success"\} 1$/m);
    expect(text).toMatch(/^virtkeeper_actions_total\{action="delete",result="success"\} 1$/m);
    expect(text).toMatch(/^virtkeeper_reconcile_total\{kind="VirtualMachine",result="success"\} [1-9]/m);
  }, 60_000);
  it('a file missing on one read only (a checkout mid-switch) deletes nothing', async () => {
    await writeFile(join(dir, 'blink.yaml'), vm('1Gi').replace(/watched/g, 'blink'));
    await until('blink Running', async () => (await state.read('VirtualMachine/default/blink'))?.status.phase === 'Running');
    await unlink(join(dir, 'blink.yaml'));
    await until('the removal held by the grace', async () => ((await state.read('VirtualMachine/default/blink'))?.problems ?? []).some((p) => p.includes('held')));
    await writeFile(join(dir, 'blink.yaml'), vm('1Gi').replace(/watched/g, 'blink'));
    await new Promise((r) => setTimeout(r, 4500));
    expect(sim.dump().vms.some((v) => v.config.name === 'blink')).toBe(true);
    expect((await state.read('VirtualMachine/default/blink'))?.status.phase).toBe('Running');
  }, 60_000);
});
