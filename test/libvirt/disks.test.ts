// VirtualDisk on a real libvirtd: a disk with its own life, hot-plugged into a running VM,
// grown, moved to a second VM, deleted; the VMs' own disk lists leave it alone.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { loadConnector } from '../../providers/registry.ts';
import { diskVolumeName } from '../../controller/core/disk-name.ts';

const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
const s = Math.random().toString(36).slice(2, 6);
const D1 = `vk-test-d1-${s}`;
const D2 = `vk-test-d2-${s}`;
// The volume takes the VirtualDisk's hypervisor-side name (controller/core/disk-name.ts).
const VOL = `${diskVolumeName('default', `data-${s}`)}.qcow2`;

describe.skipIf(!uri)('VirtualDisk on libvirt', () => {
  let dir: string;
  let opts: ConvergeOptions;
  let pool: HypervisorPool;
  let c: LibvirtConnection;
  const hv = `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: kvm}\nspec: {type: libvirt, hosts: [{name: host1, uri: "${uri}"}]}\n`;
  const vm = (name: string, run = 'Always') =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec: {hypervisor: kvm, memory: 128Mi, disks: [{name: root, size: 256Mi}], guestAgent: false, runStrategy: ${run}}\n`;
  const disk = (size: string, vmName: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualDisk\nmetadata: {name: data-${s}}\nspec: {hypervisor: kvm, size: ${size}, attachTo: {vm: ${vmName}}}\n`;
  const write = (...docs: string[]) => writeFile(join(dir, 'all.yaml'), [hv, ...docs].join('---\n'));
  const xmlOf = async (name: string) => c.xmlDesc(await c.lookupDomain(name));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vk-vdisk-'));
    pool = new HypervisorPool({ loadConnector, credentials: async () => ({ none: true }), logger: pino({ level: 'silent' }), now: Date.now, observeMaxAgeMs: 0 });
    opts = {
      folder: dir,
      statuses: new StateDir(`${dir}-state`),
      hypervisors: pool,
      logger: pino({ level: 'silent' }),
      now: Date.now,
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 200))),
      wait: true,
      timeoutMs: 60_000,
      maxDeleteShare: 1,
    };
    c = await LibvirtConnection.connect(uri);
  });
  afterAll(async () => {
    await write();
    await converge(opts).catch(() => undefined);
    await pool.closeAll();
    await c.close();
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-state`, { recursive: true, force: true });
  });

  it('hot-plugs into a running VM, grows, moves to another VM, and goes away', async () => {
    await write(vm(D1), vm(D2), disk('1Gi', D1));
    let r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(await xmlOf(D1)).toContain(VOL);
    const st = await opts.statuses.read(`VirtualDisk/default/data-${s}`);
    expect(st?.status).toMatchObject({ phase: 'Attached', attachedTo: D1, actualSize: '1Gi' });

    // A second pass leaves everything alone: the VM does not detach a disk it does not own.
    r = await converge(opts);
    expect(r.outcomes.flatMap((o) => o.plan?.steps.map((x) => x.action.type) ?? [])).toEqual([]);

    await write(vm(D1), vm(D2), disk('2Gi', D1));
    await converge(opts);
    const stats = (await c.allDomainStats(32)).find((x) => x.domain.name === D1);
    const idx = Array.from({ length: Number(stats?.params.get('block.count') ?? 0) }, (_, i) => i).find((i) => String(stats?.params.get(`block.${i}.path`)).endsWith(VOL));
    expect(Number(stats?.params.get(`block.${idx}.capacity`))).toBe(2 * 2 ** 30);

    // A live detach needs a guest that lets go; these test VMs have no OS, so the move is made
    // with the source VM stopped (the disk is then hot-plugged into the running second VM).
    await write(vm(D1, 'Halted'), vm(D2), disk('2Gi', D2));
    r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(await xmlOf(D1)).not.toContain(VOL);
    expect(await xmlOf(D2)).toContain(VOL);
    expect((await opts.statuses.read(`VirtualDisk/default/data-${s}`))?.status).toMatchObject({ attachedTo: D2 });

    await write(vm(D1, 'Halted'), vm(D2, 'Halted'));
    await converge(opts);
    expect(await xmlOf(D2)).not.toContain(VOL);
    expect(
      await c.lookupVolume(await c.lookupPool('default'), VOL).then(
        () => 'left',
        () => 'gone',
      ),
    ).toBe('gone');
  }, 120_000);
});
