// `virtkeeper quickstart --keep` prints the inventory's URL and keeps it up while it runs: the
// quickstart's VMs are in the API and on the page, and the page goes when the quickstart ends.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT, until } from './fleet.ts';

describe('quickstart inventory', () => {
  it('prints the inventory URL and serves the quickstart fleet until Ctrl-C', async () => {
    const proc = spawn(process.execPath, ['bin/virtkeeper.js', 'quickstart', '--keep'], {
      cwd: ROOT,
      env: { ...process.env, VIRTKEEPER_QUICKSTART_LIBVIRT: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await until('the inventory URL', async () => /Inventory: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1], 30_000);
      await until('the quickstart to converge', async () => out.includes('Ctrl-C to stop'), 90_000);
      // The page reads the status records every few seconds: wait for the last ones to show.
      const want = ['db-1:in sync', 'web-1:in sync'];
      let got: string[] = [];
      await until(
        'both VMs in sync on the page',
        async () => {
          const { items } = (await (await fetch(`${url}api/v1/vms`)).json()) as { items: { name: string; plan: string; hypervisor: string }[] };
          got = items
            .filter((v) => v.hypervisor === 'pve-sim')
            .map((v) => `${v.name}:${v.plan}`)
            .sort();
          return JSON.stringify(got) === JSON.stringify(want);
        },
        20_000,
      ).catch(() => expect(got).toEqual(want));
      expect(await (await fetch(url)).text()).toContain('web-1');
      expect(out).toContain(`The inventory stays up at ${url}`);
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGINT');
      await exited;
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  }, 150_000);
});
