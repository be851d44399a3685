// `virtkeeper sim proxmox --tls --write-hypervisor` as a person uses it: the written manifest
// (with the simulator's CA) is applied by `virtkeeper apply`, over verified HTTPS.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

it('the manifest the simulator writes is applied over HTTPS with its CA', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vk-simcli-'));
  const sim = spawn(process.execPath, ['bin/virtkeeper.js', 'sim', 'proxmox', '--tls', '--nodes', '2', '--task-ms', '10', '--write-hypervisor', join(dir, 'hv.yaml')], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      sim.stdout.once('data', (d: Buffer) => resolve(d.toString()));
      sim.once('exit', (code) => reject(new Error(`simulator exited ${code}`)));
    });
    const announced = JSON.parse(line) as { url: string; username: string };
    expect(announced.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await readFile(join(dir, 'hv.yaml'), 'utf8')).toContain('BEGIN CERTIFICATE');
    await writeFile(join(dir, 'vm.yaml'), 'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: tls-vm}\nspec: {hypervisor: pve-sim, template: ubuntu-24.04, memory: 1Gi}\n');
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, ['bin/virtkeeper.js', '--state-dir', `${dir}-state`, '--credentials-dir', dir, 'apply', '-f', dir, '--wait', '-o', 'json'], { cwd: root }, (e, out) =>
        resolve({ code: e ? 1 : 0, out }),
      );
    });
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out.trim().split('\n').pop() ?? '{}') as { summary: { resources: { resource: string; ready: boolean }[] } };
    expect(summary.summary.resources).toEqual([
      { resource: 'Hypervisor/pve-sim', ready: true },
      { resource: 'VirtualMachine/default/tls-vm', ready: true },
    ]);
  } finally {
    sim.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-state`, { recursive: true, force: true });
  }
}, 60_000);
