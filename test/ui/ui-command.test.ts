// `virtkeeper ui -f DIR`: the same inventory, read-only, without reconciling: it observes the
// folder's Hypervisors itself and creates nothing the folder declares.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, ROOT, startFleet, until } from './fleet.ts';

describe('virtkeeper ui -f', () => {
  let fleet: Fleet;
  let proc: ReturnType<typeof spawn>;
  let out = '';

  beforeAll(async () => {
    fleet = await startFleet();
    proc = spawn(process.execPath, ['bin/virtkeeper.js', '--state-dir', fleet.stateDir, 'ui', '-f', fleet.folder, '--listen', '127.0.0.1:0'], {
      cwd: ROOT,
      env: fleet.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  }, 30_000);
  afterAll(async () => {
    proc?.kill('SIGKILL');
    await fleet?.close();
  });

  it('shows every hypervisor’s VMs, reconciles nothing and takes no requests', async () => {
    const url = await until('the URL on stdout', async () => /inventory: (http:\S+)/.exec(out)?.[1], 20_000);
    const names = await until(
      'both unmanaged VMs',
      async () => {
        const r = (await (await fetch(`${url}api/v1/vms`)).json()) as { items: { name: string }[] };
        const n = r.items.map((v) => v.name);
        return n.includes(fleet.unmanaged.pve) && n.includes(fleet.unmanaged.ovirt) && n;
      },
      30_000,
    );
    expect(names).not.toContain('web-1');
    expect(fleet.pve.dump().vms.some((v) => v.config.name === 'web-1')).toBe(false);
    expect((await fetch(`${url}requests`)).status).toBe(404);
    const hv = (await (await fetch(`${url}api/v1/hypervisors`)).json()) as { items: { name: string; nodes: unknown[] }[] };
    expect(hv.items.find((h) => h.name === 'pve-sim')?.nodes).toHaveLength(3);
  }, 60_000);
});
