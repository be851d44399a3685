// Live migration with migration.sharedStorage: true on the two real libvirt hosts: both define a
// pool on one directory (as NFS, Ceph RBD or a SAN would be), the VM's volume is made through
// host 1, and the migration finds it on host 2 (whose daemon must refresh its pool first: on main
// it failed with "Storage volume not found"). The disks are not copied and nothing is left behind.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { DomainState } from '../../providers/libvirt/rpc/protocol.ts';
import { loadConnector } from '../../providers/registry.ts';

const run = promisify(execFile);
const uri1 = process.env.VK_LIBVIRT_URI_1 ?? '';
const uri2 = process.env.VK_LIBVIRT_URI_2 ?? '';
const suffix = Math.random().toString(36).slice(2, 6);
const NAME = `vk-shared-${suffix}`;
const POOL = `vkshared-${suffix}`;
// Not under a directory host 2 bind-mounts over: both daemons see the same files here.
const SHARED = `/var/lib/virtkeeper-shared-${suffix}`;

describe.skipIf(!uri1 || !uri2)('libvirt live migration on shared storage (two real hosts)', () => {
  let dir: string;
  let opts: ConvergeOptions;
  let pool: HypervisorPool;
  let h1: LibvirtConnection;
  let h2: LibvirtConnection;
  const hv = `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: kvm-shared}\nspec:\n  type: libvirt\n  hosts: [{name: host1, uri: "${uri1}"}, {name: host2, uri: "${uri2}"}]\n  defaults: {storagePool: ${POOL}}\n  migration: {sharedStorage: true}\n`;
  const vm = (node: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${NAME}}\nspec:\n  hypervisor: kvm-shared\n  cpu: {cores: 1}\n  memory: 256Mi\n  disks: [{name: root, size: 1Gi}]\n  guestAgent: false\n  placement: {node: ${node}}\n`;
  const write = (...docs: string[]) => writeFile(join(dir, 'all.yaml'), [hv, ...docs].join('---\n'));
  const where = async () => {
    for (const [host, c] of [
      ['host1', h1],
      ['host2', h2],
    ] as const) {
      const d = await c.lookupDomain(NAME).catch(() => undefined);
      if (d) return { host, state: (await c.state(d)).state };
    }
    return undefined;
  };

  beforeAll(async () => {
    await mkdir(SHARED, { recursive: true });
    // Persistent and autostarted: a daemon restarted by another suite keeps it.
    for (const uri of [uri1, uri2]) {
      await run('virsh', ['-c', uri, 'pool-define-as', POOL, 'dir', '--target', SHARED]);
      await run('virsh', ['-c', uri, 'pool-autostart', POOL]);
      await run('virsh', ['-c', uri, 'pool-start', POOL]);
    }
    dir = await mkdtemp(join(tmpdir(), 'vk-shared-'));
    const logger = pino({ level: 'silent' });
    pool = new HypervisorPool({ loadConnector, credentials: async () => ({ none: true }), logger, now: Date.now, observeMaxAgeMs: 0 });
    opts = {
      folder: dir,
      statuses: new StateDir(`${dir}-state`),
      hypervisors: pool,
      logger,
      now: Date.now,
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 200))),
      wait: true,
      timeoutMs: 90_000,
      maxDeleteShare: 1,
    };
    h1 = await LibvirtConnection.connect(uri1);
    h2 = await LibvirtConnection.connect(uri2);
  });
  afterAll(async () => {
    await write();
    await converge(opts).catch(() => undefined);
    for (const c of [h1, h2]) {
      const d = await c?.lookupDomain(NAME).catch(() => undefined);
      if (d) {
        await c.destroy(d).catch(() => undefined);
        await c.undefine(d).catch(() => undefined);
      }
    }
    await pool?.closeAll();
    await h1?.close();
    await h2?.close();
    for (const uri of [uri1, uri2]) {
      await run('virsh', ['-c', uri, 'pool-destroy', POOL]).catch(() => undefined);
      await run('virsh', ['-c', uri, 'pool-undefine', POOL]).catch(() => undefined);
    }
    await rm(SHARED, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-state`, { recursive: true, force: true });
  });

  it('moves the running VM to host2 without copying its disk, and removes it from the shared pool', async () => {
    await write(vm('host1'));
    let r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(await where()).toEqual({ host: 'host1', state: DomainState.RUNNING });
    const files = await readdir(SHARED);
    expect(files).toHaveLength(1);

    await write(vm('host2'));
    r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(await where()).toEqual({ host: 'host2', state: DomainState.RUNNING });
    // The same file serves it: not copied, not deleted as a "source copy".
    expect(await readdir(SHARED)).toEqual(files);

    await write();
    r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(await where()).toBeUndefined();
    expect(await readdir(SHARED)).toEqual([]);
  }, 180_000);
});
