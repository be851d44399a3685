// VirtualDisk data safety on the Proxmox simulator over HTTP (issue 12). The simulator destroys
// as a node does (destroy_vm frees every volume the VM owns, attached or unused; another VM id's
// volume stays), so: removing a VM keeps the VirtualDisk attached to it and it attaches to
// another VM; `x-y/a` and `x/y-a` get two volumes; a volume main made is found by the line on
// its VM, upgraded, never taken by its old namesake, and never destroyed with its VM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskVolumeName } from '../../controller/core/disk-name.ts';
import { DISK_OWNER_VMID } from '../../providers/proxmox/disks/index.ts';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import type { ProxmoxClient } from '../../providers/proxmox/client.ts';
import type { RunningProxmoxSimulator, SimState } from '../../providers/proxmox/simulator/index.ts';
import type { ConvergeFolder } from '../support/converge-folder.ts';
import { type ProxmoxDiskFixture, proxmoxDiskFixture, pveDisk as disk, pveVM as vm, pveVolid as volid } from '../support/proxmox-disks.ts';

const GiB = 2 ** 30;
describe('Proxmox VirtualDisk data safety', () => {
  let sim: RunningProxmoxSimulator;
  let opts: ConvergeOptions;
  let folder: ConvergeFolder;
  let raw: ProxmoxClient;
  let fx: ProxmoxDiskFixture;
  const guest = (name: string) => sim.dump().vms.find((v) => v.config.name === name);
  /** The VMs whose config references the volume, as the simulator holds them. */
  const holders = (id: string) =>
    sim
      .dump()
      .vms.filter((v) => Object.entries(v.config).some(([k, x]) => /^(scsi|virtio|sata|ide|unused)\d+$/.test(k) && x.split(',')[0] === id))
      .map((v) => v.config.name);
  /** The volume as the node lists it (`GET …/storage/local-lvm/content`), attached or not. */
  const inStorage = async (id: string) => (await raw.get<{ volid: string }[]>('/nodes/pve1/storage/local-lvm/content')).some((v) => v.volid === id);
  /** Every volume of the node whose name carries this one, whatever VM id it is named for. */
  const named = async (name: string) => (await raw.get<{ volid: string }[]>('/nodes/pve1/storage/local-lvm/content')).map((v) => v.volid).filter((v) => v.includes(name));
  const notReady = async () => (await converge(opts)).outcomes.filter((o) => !o.ready).map((o) => o.error?.message ?? o.key);
  const putState = (s: SimState) => fx.putState(s);

  beforeAll(async () => {
    fx = await proxmoxDiskFixture({ prefix: 'vk-pdsafe-', nodes: 1 });
    ({ sim, raw, folder } = fx);
    ({ opts } = folder);
  });
  afterAll(async () => {
    await fx?.close();
  });

  it("the simulator destroys as a node does: a VM's own volumes (attached or unused) go, another id's stay", async () => {
    const vmid = Number(await raw.get<string>('/cluster/nextid'));
    await raw.waitForTask(await raw.post<string>('/nodes/pve1/qemu', { vmid, name: 'sim-destroy', memory: 512, scsi0: 'local-lvm:4', scsi1: 'local-lvm:1' }));
    const shared = await raw.post<string>('/nodes/pve1/storage/local-lvm/content', { vmid: String(DISK_OWNER_VMID), filename: `vm-${DISK_OWNER_VMID}-sim-kept`, size: '1G' });
    const stray = await raw.post<string>('/nodes/pve1/storage/local-lvm/content', { vmid: String(vmid), filename: `vm-${vmid}-stray`, size: '1G' });
    await raw.waitForTask(await raw.post<string>(`/nodes/pve1/qemu/${vmid}/config`, { scsi2: shared }));
    // scsi1 unplugged: an unused volume of the VM, which destroy frees all the same.
    await raw.waitForTask(await raw.post<string>(`/nodes/pve1/qemu/${vmid}/config`, { delete: 'scsi1' }));
    expect(Object.values(guest('sim-destroy')?.config ?? {})).toContain(`local-lvm:vm-${vmid}-disk-1`);
    await raw.waitForTask(await raw.delete<string>(`/nodes/pve1/qemu/${vmid}`, { purge: 1, 'destroy-unreferenced-disks': 1 }));
    const left = (await raw.get<{ volid: string }[]>('/nodes/pve1/storage/local-lvm/content')).map((v) => v.volid);
    expect(
      left.filter((v) => v.includes(`vm-${vmid}-`)),
      'own volumes, unused and unreferenced ones too',
    ).toEqual([]);
    expect(left).toContain(shared);
    expect(left).not.toContain(stray);
    await raw.waitForTask(await raw.delete<string>(`/nodes/pve1/storage/local-lvm/content/${encodeURIComponent(shared)}`));
    expect(await inStorage(shared)).toBe(false);
  });

  it('removing a VM keeps the VirtualDisk attached to it, and it attaches to another VM', async () => {
    const id = volid('s1', 'data');
    await folder.write(vm('s1', 'keep-a'), vm('s1', 'keep-b'), disk('s1', 'data', 'keep-a'));
    expect(await notReady()).toEqual([]);
    expect(holders(id)).toEqual(['keep-a']);
    expect(await named(diskVolumeName('s1', 'data'))).toEqual([id]);

    // The VM leaves the folder; the disk's resource still names it.
    await folder.write(vm('s1', 'keep-b'), disk('s1', 'data', 'keep-a'));
    await converge(opts);
    expect(guest('keep-a'), 'the VM is gone').toBeUndefined();
    expect(await named(diskVolumeName('s1', 'data')), 'the node still has the volume').toEqual([id]);
    expect(holders(id)).toEqual([]);

    await folder.write(vm('s1', 'keep-b'), disk('s1', 'data', 'keep-b'));
    expect(await notReady()).toEqual([]);
    expect(holders(id)).toEqual(['keep-b']);
    expect(guest('keep-b')?.config.description).toContain(`virtkeeper.io/disk=${id} VirtualDisk/s1/data`);
    expect(sim.dump().volumeSizes ?? {}).toEqual({});

    // And with the disk attached, the VM goes, the disk stays (detached first, every time).
    await folder.write(disk('s1', 'data', 'keep-b'));
    await converge(opts);
    expect(guest('keep-b')).toBeUndefined();
    expect(sim.dump().volumeSizes?.[id]).toBe(GiB);
    await folder.write();
    await converge(opts);
    expect(await inStorage(id)).toBe(false);
  }, 60_000);

  it('x-y/a and x/y-a are two volumes, each on its own VM; removing one leaves the other', async () => {
    await folder.write(vm('x-y', 'col-1'), vm('x', 'col-2'), disk('x-y', 'a', 'col-1'), disk('x', 'y-a', 'col-2'));
    expect(await notReady()).toEqual([]);
    expect([holders(volid('x-y', 'a')), holders(volid('x', 'y-a'))]).toEqual([['col-1'], ['col-2']]);
    expect((await named('vkdisk-x-y-a')).sort(), 'two volumes').toEqual([volid('x-y', 'a'), volid('x', 'y-a')].sort());

    await folder.write(vm('x-y', 'col-1'), vm('x', 'col-2'), disk('x-y', 'a', 'col-1'));
    expect(await notReady()).toEqual([]);
    expect(await inStorage(volid('x', 'y-a'))).toBe(false);
    expect(holders(volid('x-y', 'a'))).toEqual(['col-1']);
    expect(await inStorage(volid('x-y', 'a'))).toBe(true);
    await folder.write();
    await converge(opts);
  }, 60_000);

  it('a resource made again (another UID) never takes the volume of the one before', async () => {
    const id = volid('s2', 'data');
    const before = '0b7c9a1e-1111-4a2b-8c3d-000000000001';
    await folder.write(vm('s2', 'uid-1'), disk('s2', 'data', 'uid-1', `, uid: ${before}`));
    expect(await notReady()).toEqual([]);
    expect(guest('uid-1')?.config.description).toContain(`virtkeeper.io/disk=${id} VirtualDisk/s2/data uid=${before}`);
    await folder.write(vm('s2', 'uid-1'), disk('s2', 'data', 'uid-1', ', uid: 0b7c9a1e-2222-4a2b-8c3d-000000000002'));
    await opts.statuses.remove('VirtualDisk/s2/data');
    const r = await converge({ ...opts, timeoutMs: 1500 });
    expect(r.outcomes.find((o) => o.key === 'VirtualDisk/s2/data')?.ready).toBe(false);
    expect(JSON.stringify((await opts.statuses.read('VirtualDisk/s2/data'))?.status)).toMatch(/attached to VM uid-1, whose line names another VirtualDisk of this name/);
    expect(holders(id)).toEqual(['uid-1']);
    expect(
      sim
        .dump()
        .vms.flatMap((v) => Object.values(v.config))
        .filter((v) => v.startsWith(id)),
    ).toHaveLength(1);
    // Removing the resource made again does not delete the other one's volume either.
    await folder.write(vm('s2', 'uid-1'));
    const gone = await converge({ ...opts, timeoutMs: 1500 });
    expect(gone.outcomes.find((o) => o.key === 'VirtualDisk/s2/data')?.error?.message).toMatch(/it is not deleted/);
    expect(holders(id)).toEqual(['uid-1']);
    // Clean up: the first one comes back and goes with its volume.
    await opts.statuses.remove('VirtualDisk/s2/data');
    await folder.write(vm('s2', 'uid-1'), disk('s2', 'data', 'uid-1', `, uid: ${before}`));
    expect(await notReady()).toEqual([]);
    await folder.write();
    await converge(opts);
    expect(await inStorage(id)).toBe(false);
  }, 60_000);

  it('a volume main made is found by its line and upgraded, never taken by its namesake, never destroyed with its VM', async () => {
    await folder.write(vm('x-y', 'old-1'), vm('x', 'old-2'), vm('x-y', 'old-3'));
    expect(await notReady()).toEqual([]);
    // As main made it for x-y/b: named after its VM (`vm-<id>-vkdisk-x-y-b`, which x/y-b shared), a line without UID.
    const s = sim.dump();
    const one = s.vms.find((v) => v.config.name === 'old-1');
    if (!one) throw new Error('old-1 missing');
    const legacy = `local-lvm:vm-${one.vmid}-vkdisk-x-y-b`;
    one.config.virtio1 = `${legacy},size=1G`;
    one.config.description = `${one.config.description ?? ''}\nvirtkeeper.io/disk=${legacy} VirtualDisk/x-y/b`;
    await putState(s);

    // x/y-b, its namesake under the old names, gets a volume of its own.
    await folder.write(vm('x-y', 'old-1'), vm('x', 'old-2'), vm('x-y', 'old-3'), disk('x', 'y-b', 'old-2'));
    expect(await notReady()).toEqual([]);
    expect(holders(legacy)).toEqual(['old-1']);
    expect(holders(volid('x', 'y-b'))).toEqual(['old-2']);

    // x-y/b, now with a UID, takes up its volume where it is: the line gets the UID, nothing is made.
    const uid = '6f1c3c2e-0d3e-4c1a-9b7e-3f1f2a9d0c11';
    const docs = [vm('x-y', 'old-1'), vm('x', 'old-2'), vm('x-y', 'old-3'), disk('x', 'y-b', 'old-2')];
    await folder.write(...docs, disk('x-y', 'b', 'old-1', `, uid: ${uid}`));
    expect(await notReady()).toEqual([]);
    expect(holders(legacy)).toEqual(['old-1']);
    expect(
      guest('old-1')
        ?.config.description?.split('\n')
        .filter((l) => l.startsWith('virtkeeper.io/disk=')),
    ).toEqual([`virtkeeper.io/disk=${legacy} VirtualDisk/x-y/b uid=${uid}`]);
    expect(await inStorage(volid('x-y', 'b'))).toBe(false);

    // Its VM leaves the folder: Proxmox would destroy the volume with it (it is named for that
    // VM), so the removal stops and says what to do; nothing is lost.
    await folder.write(vm('x', 'old-2'), vm('x-y', 'old-3'), disk('x', 'y-b', 'old-2'), disk('x-y', 'b', 'old-1', `, uid: ${uid}`));
    expect(await notReady()).toEqual([
      expect.stringMatching(
        new RegExp(
          `VM old-1 holds ${legacy} \\(VirtualDisk x-y/b\\), made by an earlier virtkeeper under this VM's id: Proxmox would destroy it with the VM\\. The VM is not removed: attach the VirtualDisk to another VM`,
        ),
      ),
    ]);
    expect(holders(legacy)).toEqual(['old-1']);
    // As it says: attached to another VM (reassigned, as main's volumes move), then the VM goes.
    await folder.write(vm('x', 'old-2'), vm('x-y', 'old-3'), disk('x', 'y-b', 'old-2'), disk('x-y', 'b', 'old-3', `, uid: ${uid}`));
    expect(await notReady()).toEqual([]);
    expect(guest('old-1')).toBeUndefined();
    const three = guest('old-3');
    const moved = Object.entries(three?.config ?? {}).find(([k, v]) => /^virtio[1-9]$/.test(k) && v.startsWith(`local-lvm:vm-${three?.vmid}-disk-`));
    expect(moved?.[1]).toMatch(/size=1G$/);
    expect(three?.config.description).toContain(`virtkeeper.io/disk=${moved?.[1].split(',')[0]} VirtualDisk/x-y/b uid=${uid}`);
    await folder.write();
    expect(await notReady()).toEqual([]);
    expect(sim.dump().vms.filter((v) => !v.template)).toEqual([]);
    expect(sim.dump().volumeSizes ?? {}).toEqual({});
  }, 60_000);
});
