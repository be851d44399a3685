// The quickstart, run as a user runs it (its own process, output piped): the simulated
// Proxmox VMs and, with a libvirtd here, a small local VM go from Pending to Running, and the
// local VM is removed at the end.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';

const root = join(import.meta.dirname, '..', '..');
const libvirt = process.env.VK_LIBVIRT_URI_1;

describe('virtkeeper quickstart', () => {
  it('converges the example and shows VMs going from Pending to Running', async () => {
    const { code, out } = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, ['bin/virtkeeper.js', 'quickstart'], { cwd: root, env: { ...process.env, VIRTKEEPER_QUICKSTART_LIBVIRT: libvirt ?? 'off' }, timeout: 60_000 }, (e, stdout, stderr) => {
        resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
      });
    });
    expect(code, out).toBe(0);
    expect(out).toMatch(/vm\/default\/web-1 {2}phase Pending/);
    expect(out).toMatch(/vm\/default\/web-1 {2}phase Running \(Ready\)/);
    expect(out).toMatch(/converged in [\d.]+s: (\d+)\/\1 Ready/);
    expect(out).toMatch(/default +web-1 +pve-sim +pve\d +Running/);
    if (libvirt) {
      expect(out).toMatch(/vm\/default\/quickstart-kvm {2}phase Running \(Ready\)/);
      const name = /removed (vk-quickstart-\w+) from/.exec(out)?.[1];
      expect(name, out).toBeDefined();
      const c = await LibvirtConnection.connect(libvirt);
      try {
        expect(
          await c.lookupDomain(name ?? '').then(
            () => 'left',
            () => 'gone',
          ),
        ).toBe('gone');
      } finally {
        await c.close();
      }
    } else expect(out).not.toMatch(/Local libvirt/);
  }, 90_000);
});
