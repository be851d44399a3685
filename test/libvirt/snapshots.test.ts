// Snapshots on a real libvirtd (libvirt 9.0, QEMU 7.2, qcow2): a stopped VM's disk snapshot
// undoes data written into its image afterwards; a running VM's snapshot carries its memory
// and a revert brings it back running; what libvirt cannot do is refused saying what to do.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Target } from '../../controller/core/actions.ts';
import type { DesiredSnapshot } from '../../controller/core/provider.ts';
import { parseDomain } from '../../providers/libvirt/domain-xml.ts';
import { LibvirtProvider } from '../../providers/libvirt/provider.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { DomainState } from '../../providers/libvirt/rpc/protocol.ts';
import { contractVM } from '../contract/provider-contract.ts';

const run = promisify(execFile);
const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
const s = Math.random().toString(36).slice(2, 6);
const MiB = 2 ** 20;

/** Whether 64 KiB at offset 0 of the image hold this byte (qemu-io reads the qcow2's active state). */
const holds = async (path: string, byte: number) =>
  run('qemu-io', ['-f', 'qcow2', '-r', '-c', `read -P 0x${byte.toString(16)} 0 64k`, path]).then(
    (r) => !/Pattern verification failed/.test(r.stdout + r.stderr),
    () => false,
  );
const write = (path: string, byte: number) => run('qemu-io', ['-f', 'qcow2', '-c', `write -P 0x${byte.toString(16)} 0 64k`, path]);

describe.skipIf(!uri)('libvirt snapshots', () => {
  let p: LibvirtProvider;
  let c: LibvirtConnection;
  let target: Target;
  let image = '';
  const name = `vk-snap-${s}`;
  const owner = { kind: 'VirtualMachineSnapshot', namespace: 'contract', name: `${name}-s` };
  const snap = (n: string, extra: Partial<DesiredSnapshot> = {}): DesiredSnapshot => ({ name: n, owner: { ...owner, name: n }, memory: false, quiesce: false, ...extra });
  const state = async () => (await c.state(await c.lookupDomain(name))).state;

  beforeAll(async () => {
    p = new LibvirtProvider({ hosts: [{ name: 'host1', uri }], logger: pino({ level: 'silent' }) });
    c = await LibvirtConnection.connect(uri);
    const vm = contractVM(name, undefined, {
      runStrategy: 'Halted',
      memoryBytes: 64 * MiB,
      maxMemoryBytes: 64 * MiB,
      disks: [{ name: 'root', sizeBytes: 16 * MiB, interface: 'virtio', bootable: true }],
    });
    await p.vms.execute({ type: 'create', vm, node: 'host1' });
    const seen = (await p.vms.observe()).vms.find((v) => v.name === name);
    target = { providerID: seen?.providerID ?? '', name, node: 'host1', owner: vm.owner };
    const disk = parseDomain(await c.xmlDesc(await c.lookupDomain(name))).disks[0];
    image = await c.volumePath(await c.lookupVolume(await c.lookupPool('default'), disk?.volume ?? ''));
  }, 60_000);
  afterAll(async () => {
    await p.vms.execute({ type: 'delete', target }).catch(() => undefined);
    await p.close();
    await c.close();
  }, 60_000);

  it('of a stopped VM: data written into the image after the snapshot is gone after the revert; then removed', async () => {
    await write(image, 0xaa);
    const made = await p.snapshots.create(target, snap('before', { description: 'before the change' }));
    expect(made).toMatchObject({ id: 'before', name: 'before', memory: false, state: 'ready', owner: { kind: 'VirtualMachineSnapshot', name: 'before' }, description: 'before the change' });
    expect(Date.parse(made.createdAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
    // Made again: the same snapshot, not a second one.
    await p.snapshots.create(target, snap('before'));
    expect((await p.snapshots.list(target)).map((x) => x.name)).toEqual(['before']);

    await write(image, 0xbb);
    expect(await holds(image, 0xbb)).toBe(true);
    await p.snapshots.revert(target, 'before');
    expect([await holds(image, 0xaa), await holds(image, 0xbb)]).toEqual([true, false]);
    expect(await state()).toBe(DomainState.SHUTOFF);

    await p.snapshots.delete(target, 'before');
    await p.snapshots.delete(target, 'before'); // a missing one succeeds
    expect(await p.snapshots.list(target)).toEqual([]);
    expect((await run('qemu-img', ['snapshot', '-l', '-U', image])).stdout).not.toContain('before');
  }, 60_000);

  it('of a running VM: with its memory, reverted back to running; without memory, or quiesced without an agent, refused', async () => {
    await p.vms.execute({ type: 'start', target });
    await expect(p.snapshots.create(target, snap('disks-only'))).rejects.toThrow(/only together with its memory .*set memory: true on snapshot disks-only, or stop VM/);
    await expect(p.snapshots.create(target, snap('quiet', { memory: true, quiesce: true }))).rejects.toMatchObject({
      code: 'VK_GUEST_AGENT_MISSING',
      message: expect.stringMatching(/has no guest agent channel, which a quiesced snapshot needs; install and start qemu-guest-agent .* or set quiesce: false/),
    });
    const made = await p.snapshots.create(target, snap('live', { memory: true }));
    expect(made).toMatchObject({ name: 'live', memory: true });
    await p.vms.execute({ type: 'stop', target });
    expect(await state()).toBe(DomainState.SHUTOFF);
    await p.snapshots.revert(target, 'live');
    expect(await state()).toBe(DomainState.RUNNING);
    await p.snapshots.delete(target, 'live');
    expect(await p.snapshots.list(target)).toEqual([]);
    await p.vms.execute({ type: 'stop', target });
  }, 90_000);

  it('refuses a VM it does not own, and never deletes a snapshot it did not make', async () => {
    const stranger = { ...target, owner: { kind: 'VirtualMachine', namespace: 'other', name } };
    await expect(p.snapshots.list(stranger)).rejects.toThrow(/is not owned by this resource; its snapshots are not listed/);
    await expect(p.snapshots.create(stranger, snap('x'))).rejects.toThrow(/no snapshot is made of it/);
    await expect(p.snapshots.revert(stranger, 'x')).rejects.toThrow(/it is not reverted/);
    const d = await c.lookupDomain(name);
    await c.createSnapshot(d, '<domainsnapshot><name>by-hand</name></domainsnapshot>', 0);
    try {
      await expect(p.snapshots.delete(target, 'by-hand')).rejects.toThrow(/was not made by virtkeeper .*it is not deleted/);
      await expect(p.snapshots.create(target, snap('by-hand'))).rejects.toThrow(/already has a snapshot named by-hand that virtkeeper did not make/);
    } finally {
      await c.deleteSnapshot(await c.lookupSnapshot(d, 'by-hand'));
    }
  }, 60_000);
});
