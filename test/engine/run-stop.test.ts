// `virtkeeper run -f` stops on SIGTERM while its first reconciles are still waiting on the
// hypervisor (clone tasks in flight), instead of hanging until a SIGKILL. The oVirt engine is
// there for its event poll: on main that loop outlived the client's close and kept the process.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { until } from '../support/until.ts';

const root = join(import.meta.dirname, '..', '..');

describe('virtkeeper run -f stops on SIGTERM', () => {
  let sim: RunningProxmoxSimulator;
  let engine: RunningOvirtSimulator;
  let dir: string;
  beforeAll(async () => {
    // Clones take 20 s: the reconciles are waiting on a task or a lock when the signal comes.
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 10, qmclone: 20_000 } });
    engine = await startOvirtSimulator({ name: 'stop-engine', hosts: 1, templates: ['centos-9'] });
    dir = await mkdtemp(join(tmpdir(), 'vk-stop-'));
    const vms = Array.from(
      { length: 6 },
      (_, i) =>
        `---\napiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: stop${i}}\nspec: {hypervisor: pve, template: ubuntu-24.04, memory: 1Gi, disks: [{name: root, size: 10Gi}]}\n`,
    ).join('');
    await writeFile(
      join(dir, 'fleet.yaml'),
      `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n${vms}---\napiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: engine}\nspec: {type: ovirt, endpoint: "${engine.url}", credentialsRef: {env: ENGINE}, defaults: {cluster: Default, storageDomain: data1, datacenter: Default}}\n---\napiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: stop-ovirt}\nspec: {hypervisor: engine, template: centos-9, memory: 1Gi}\n`,
    );
  });
  let proc: ChildProcess | undefined;
  afterAll(async () => {
    proc?.kill('SIGKILL');
    await sim?.close();
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-state`, { recursive: true, force: true });
  });

  it('exits 0 within a few seconds with clones in flight', async () => {
    proc = spawn(process.execPath, ['bin/virtkeeper.js', '--state-dir', `${dir}-state`, 'run', '-f', dir], {
      cwd: root,
      env: {
        ...process.env,
        VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`,
        VIRTKEEPER_ENGINE_USERNAME: engine.credentials.username,
        VIRTKEEPER_ENGINE_PASSWORD: engine.credentials.password,
        VK_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    // One clone runs (the template is locked while it does), the other five wait on the lock.
    await until('the oVirt VM made', () => stderr.includes('create VM stop-ovirt'), 30_000);
    await until('a clone task running', () => sim.dump().vms.some((v) => v.config.name?.startsWith('stop') && v.lock === 'clone'), 30_000);
    const exited = new Promise<number | null>((r) => proc?.once('exit', (code) => r(code)));
    const at = Date.now();
    proc.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 8000))]);
    if (code === 'hung') proc.kill('SIGKILL');
    expect(code, stderr.slice(-2000)).toBe(0);
    expect(Date.now() - at).toBeLessThan(8000);
  }, 60_000);
});
