// Chaos: `virtkeeper run -f` on 200 declared VMs, killed with SIGKILL at random moments while it
// creates them, against the Proxmox simulator over HTTP answering 10% of requests with a 500 and
// 10% of guest writes with the config-lock timeout; then restarted without faults. The end state
// must be exactly the 200 VMs, each owned by its resource, none refused, no volume left behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateDir } from '../../controller/status/state-dir.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

const root = join(import.meta.dirname, '..', '..');
const COUNT = 200;

async function until(what: string, fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A deterministic sequence, so a failing run can be repeated. */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('chaos: run killed mid-create, with faults', () => {
  let sim: RunningProxmoxSimulator | undefined;
  let dir = '';
  let proc: ChildProcess | undefined;
  afterEach(async () => {
    proc?.kill('SIGKILL');
    await sim?.close();
    if (dir) {
      await rm(dir, { recursive: true, force: true });
      await rm(`${dir}-state`, { recursive: true, force: true });
    }
  });

  it.each([
    { clone: 0, seed: 7 },
    { clone: 200, seed: 11 },
  ])('clone $clone ms: exactly 200 VMs, all owned, none refused, no orphan volume', async ({ clone, seed }) => {
    const rnd = random(seed);
    sim = await startProxmoxSimulator({ nodes: 3, templates: ['ubuntu-24.04'], taskDurations: { default: 0, qmclone: clone }, agentDelayMs: 0 });
    dir = await mkdtemp(join(tmpdir(), 'vk-chaos-'));
    const state = new StateDir(`${dir}-state`);
    const s = sim;
    await writeFile(join(dir, 'hv.yaml'), `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${s.url}", credentialsRef: {env: PVE}, resyncInterval: 2s}\n`);
    const docs = Array.from({ length: COUNT }, (_, i) => `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: c-${i}}\nspec: {hypervisor: pve, template: ubuntu-24.04, memory: 512Mi, disks: [{name: root, size: 8Gi}]}\n`);
    await writeFile(join(dir, 'vms.yaml'), docs.join('---\n'));
    let stderr = '';
    const start = () => {
      const p = spawn(process.execPath, ['bin/virtkeeper.js', '--state-dir', state.dir, 'run', '-f', dir, '--workers', '8'], {
        cwd: root, env: { ...process.env, PVE_TOKEN: `${s.credentials.tokenId}=${s.credentials.tokenSecret}`, VIRTKEEPER_PVE_TOKEN: `${s.credentials.tokenId}=${s.credentials.tokenSecret}`, VK_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'],
      });
      p.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
      return p;
    };
    const guests = () => s.dump().vms.filter((v) => !v.template);

    s.setFaults({ error500Share: 0.1, lockTimeoutShare: 0.1 });
    for (let kill = 0; kill < 3; kill++) {
      proc = start();
      // Let it get some way into the creates, then kill it at a random moment.
      const before = guests().length;
      await until('some progress', async () => guests().length > before, 60_000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200 + rnd() * 1500));
      proc.kill('SIGKILL');
      await new Promise((r) => proc?.once('exit', r));
    }
    s.setFaults({});
    proc = start();
    await until(`${COUNT} VMs Running`, async () => {
      const records = (await state.list()).filter((r) => r.kind === 'VirtualMachine');
      return records.length === COUNT && records.every((r) => r.status.phase === 'Running');
    }, 240_000).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}; VMs ${guests().length}; log tail: ${stderr.slice(-2000)}`);
    });

    const vms = guests();
    const names = vms.map((v) => v.config.name ?? '');
    expect(vms).toHaveLength(COUNT);
    expect(new Set(names).size).toBe(COUNT);
    for (const v of vms) expect(v.config.description ?? '').toMatch(new RegExp(`virtkeeper\\.io/owner=VirtualMachine/default/${v.config.name}\\b`));
    const records = (await state.list()).filter((r) => r.kind === 'VirtualMachine');
    const refused = records.filter((r) => JSON.stringify(r.status).includes('VK_REFUSED'));
    expect(refused.map((r) => r.key)).toEqual([]);
    // No volume outside a VM: a create that was cut short left nothing behind.
    expect(Object.keys(s.dump().volumeSizes ?? {})).toEqual([]);
  }, 420_000);
});
