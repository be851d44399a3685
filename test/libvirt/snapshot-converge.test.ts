// Snapshots and restores end to end on a real libvirtd: the real converge loop makes a
// VirtualMachineSnapshot of a stopped VM (marker in its description), data written into the
// guest image afterwards is gone after a VirtualMachineRestore, done once; removing the
// snapshot resource removes the snapshot. A running VM's snapshot carries its memory.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { parseDomain } from '../../providers/libvirt/domain-xml.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { DomainState } from '../../providers/libvirt/rpc/protocol.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

const run = promisify(execFile);
const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
const s = Math.random().toString(36).slice(2, 6);
const VM = `vk-snapc-${s}`;

const holds = (path: string, byte: number) =>
  run('qemu-io', ['-f', 'qcow2', '-r', '-U', '-c', `read -P 0x${byte.toString(16)} 0 64k`, path]).then(
    (r) => !/Pattern verification failed/.test(r.stdout + r.stderr),
    () => false,
  );
const vm = (run: 'Halted' | 'Always') =>
  `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${VM}}\nspec: {hypervisor: kvm, memory: 64Mi, disks: [{name: root, size: 16Mi}], guestAgent: false, runStrategy: ${run}, updatePolicy: RestartAllowed}\n`;
const snapshot = (name: string, memory = false) =>
  `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshot\nmetadata: {name: ${name}}\nspec: {vm: ${VM}, memory: ${memory}, description: before the change}\n`;
const restore = (name: string, snap: string) => `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineRestore\nmetadata: {name: ${name}}\nspec: {vm: ${VM}, snapshot: ${snap}}\n`;

describe.skipIf(!uri)('snapshots end to end on libvirt', () => {
  let f: ConvergeFolder;
  let c: LibvirtConnection;
  let image = '';
  const notReady = async () => (await converge(f.opts)).outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key);
  const status = async (key: string) => (await f.opts.statuses.read(key))?.status as Record<string, unknown> | undefined;
  const snapshots = async () => (await c.listSnapshots(await c.lookupDomain(VM))).map((x) => x.name).sort();

  beforeAll(async () => {
    c = await LibvirtConnection.connect(uri);
    f = await convergeFolder({
      prefix: 'vk-lv-snap-',
      header: () => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: kvm}\nspec: {type: libvirt, hosts: [{name: host1, uri: "${uri}"}]}\n`,
    });
  });
  afterAll(async () => {
    await f.write();
    await converge(f.opts).catch(() => undefined);
    await f.close();
    await c.close();
  }, 60_000);

  it('snapshots a stopped VM, restores it once (data written since is gone), removes the snapshot with its resource', async () => {
    await f.write(vm('Halted'));
    expect(await notReady()).toEqual([]);
    const disk = parseDomain(await c.xmlDesc(await c.lookupDomain(VM))).disks[0];
    image = await c.volumePath(await c.lookupVolume(await c.lookupPool('default'), disk?.volume ?? ''));
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xaa 0 64k', image]);

    await f.write(vm('Halted'), snapshot('before'));
    expect(await notReady()).toEqual([]);
    expect(await status('VirtualMachineSnapshot/default/before')).toMatchObject({ phase: 'Ready', memory: false });
    const [name] = await snapshots();
    const xml = await c.snapshotXml(await c.lookupSnapshot(await c.lookupDomain(VM), name ?? ''));
    expect(xml).toContain('virtkeeper.io/owner=VirtualMachineSnapshot/default/before');

    // A file written into the guest image after the snapshot.
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xbb 0 64k', image]);
    await f.write(vm('Halted'), snapshot('before'), restore('undo', 'before'));
    expect(await notReady()).toEqual([]);
    expect(await status('VirtualMachineRestore/default/undo')).toMatchObject({ phase: 'Succeeded' });
    expect([await holds(image, 0xaa), await holds(image, 0xbb)]).toEqual([true, false]);
    // Done once: data written again stays.
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xcc 0 64k', image]);
    expect(await notReady()).toEqual([]);
    expect(await holds(image, 0xcc)).toBe(true);

    await f.write(vm('Halted'), restore('undo', 'before'));
    await converge(f.opts);
    expect(await snapshots()).toEqual([]);
  }, 120_000);

  it('a running VM: the snapshot carries its memory, and a restore leaves it running', async () => {
    await f.write(vm('Always'));
    expect(await notReady()).toEqual([]);
    await f.write(vm('Always'), snapshot('hot', true));
    expect(await notReady()).toEqual([]);
    expect(await status('VirtualMachineSnapshot/default/hot')).toMatchObject({ phase: 'Ready', memory: true });
    await f.write(vm('Always'), snapshot('hot', true), restore('warm', 'hot'));
    expect(await notReady()).toEqual([]);
    expect(await status('VirtualMachineRestore/default/warm')).toMatchObject({ phase: 'Succeeded' });
    expect((await c.state(await c.lookupDomain(VM))).state).toBe(DomainState.RUNNING);
    await f.write(vm('Always'));
    await converge(f.opts);
    expect(await snapshots()).toEqual([]);
  }, 120_000);
});
