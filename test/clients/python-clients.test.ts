// The simulators driven by clients no one here wrote: proxmoxer and the official oVirt SDK.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { startProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

const python = process.env.VK_PYTHON;
const run = promisify(execFile);

describe.skipIf(!python)('simulators under third-party clients', () => {
  it('proxmoxer: login, nodes, nextid, clone task, digest, errors, API token (over HTTPS)', async () => {
    const sim = await startProxmoxSimulator({ nodes: 2, templates: ['ubuntu-24.04'], tls: true, taskDurations: { default: 10, qmclone: 50 } });
    try {
      const host = sim.url.replace('https://', '');
      const [tokenUser, tokenName] = sim.credentials.tokenId.split('!');
      const { stdout } = await run(python ?? '', [
        join(import.meta.dirname, 'proxmoxer_drive.py'),
        host,
        sim.credentials.username,
        sim.credentials.password,
        tokenName ?? '',
        sim.credentials.tokenSecret,
      ]);
      expect(tokenUser).toBe(sim.credentials.username);
      expect(JSON.parse(stdout)).toEqual({
        nodes: ['pve1', 'pve2'],
        nextid: '100',
        clone_exit: 'OK',
        name: 'from-proxmoxer',
        stale_digest: [500, 'detected modified configuration - file changed by other user? Try again.'],
        missing: [500, "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist"],
        memory_via_token: '2048',
        attached: 'local-lvm:vm-100-extra,size=1G',
        unused: 'local-lvm:vm-100-extra',
        reassign_exit: 'OK',
        reassigned: 'local-lvm:vm-101-disk-0,size=1G',
        content: ['local-lvm:vm-101-disk-0'],
        template_exit: 'OK',
        is_template: [1],
      });
    } finally {
      await sim.close();
    }
  }, 60_000);

  it('ovirt-engine-sdk-python: SSO, add from template (image_locked), start, search, refusal, remove', async () => {
    const sim = await startOvirtSimulator({ name: 'e15', templates: ['centos-9'], imageCopyMs: 100, bootStepMs: 20 });
    try {
      const { stdout } = await run(python ?? '', [join(import.meta.dirname, 'ovirt_sdk_drive.py'), sim.url, sim.credentials.username, sim.credentials.password]);
      expect(JSON.parse(stdout)).toEqual({
        first_status: 'image_locked',
        names: ['from-sdk'],
        status: 'up',
        memory: 2 * 2 ** 30,
        sockets: 1,
        hosts: ['host1', 'host2'],
        disks: [true],
        attached: [false, true],
        after_detach: [1, 'from the SDK'],
        disk_gone: true,
        remove_running: [409, true],
        template: ['sdk-golden'],
        template_disks: 1,
        after_remove: [],
      });
    } finally {
      await sim.close();
    }
  }, 60_000);
});
