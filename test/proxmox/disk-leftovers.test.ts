// Three ways a VirtualDisk or a pool was taken on too little evidence, on the Proxmox simulator
// over HTTP: a detached volume by its name alone, a second volume while a node that may hold the
// first is offline, and a legacy pool relabelled for a namespace while it holds another's VMs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISK_OWNER_VMID } from '../../providers/proxmox/disks/index.ts';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import type { ProxmoxClient } from '../../providers/proxmox/client.ts';
import type { RunningProxmoxSimulator, SimState } from '../../providers/proxmox/simulator/index.ts';
import type { ConvergeFolder } from '../support/converge-folder.ts';
import { type ProxmoxDiskFixture, proxmoxDiskFixture, pveDisk as disk, pveVM as vm, pveVolid as volid } from '../support/proxmox-disks.ts';

describe('Proxmox: nothing taken on a name alone', () => {
  let sim: RunningProxmoxSimulator;
  let opts: ConvergeOptions;
  let folder: ConvergeFolder;
  let raw: ProxmoxClient;
  let fx: ProxmoxDiskFixture;
  const holders = (id: string) =>
    sim
      .dump()
      .vms.filter((v) => Object.values(v.config).some((x) => x.split(',')[0] === id))
      .map((v) => v.config.name);
  const volumes = async (node: string, id: string) => (await raw.get<{ volid: string }[]>(`/nodes/${node}/storage/local-lvm/content`)).filter((v) => v.volid === id).length;
  const diskStatus = async (key: string) => JSON.stringify((await opts.statuses.read(key))?.status);
  const putState = (s: SimState) => fx.putState(s);

  beforeAll(async () => {
    fx = await proxmoxDiskFixture({ prefix: 'vk-pleft-', nodes: 2, defaultNode: 'pve1' });
    ({ sim, raw, folder } = fx);
    ({ opts } = folder);
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('a detached volume that no record names is not taken by its name, and no second one is made', async () => {
    const id = volid('s4', 'data');
    await folder.write(vm('s4', 'hold'), disk('s4', 'data', 'hold'));
    expect((await converge(opts)).outcomes.filter((o) => !o.ready)).toEqual([]);
    await folder.write(vm('s4', 'hold'), disk('s4', 'data'));
    await converge(opts);
    expect(holders(id)).toEqual([]);
    // The record is lost (a new state directory, a resource made again): the name is all there is.
    await opts.statuses.remove('VirtualDisk/s4/data');
    await folder.write(vm('s4', 'hold'), disk('s4', 'data', 'hold'));
    const r = await converge({ ...opts, timeoutMs: 1500 });
    expect(r.outcomes.find((o) => o.key === 'VirtualDisk/s4/data')?.ready).toBe(false);
    expect(await diskStatus('VirtualDisk/s4/data')).toMatch(/has this disk's name but no record of this VirtualDisk names it/);
    expect(holders(id)).toEqual([]);
    expect(await volumes('pve1', id)).toBe(1);
    // Taken once attached by hand to the VM, as the message says.
    const hold = sim.dump().vms.find((v) => v.config.name === 'hold');
    await raw.waitForTask(await raw.post<string>(`/nodes/${hold?.node}/qemu/${hold?.vmid}/config`, { scsi5: id }));
    expect((await converge(opts)).outcomes.filter((o) => !o.ready)).toEqual([]);
    expect(await diskStatus('VirtualDisk/s4/data')).toMatch(/"attachedTo":"hold"/);
    await folder.write();
    await converge(opts);
    expect(await volumes('pve1', id)).toBe(0);
  }, 60_000);

  it('with a node offline and the record lost, a second volume is never allocated', async () => {
    const id = volid('s5', 'data');
    await folder.write(vm('s5', 'near'));
    expect((await converge(opts)).outcomes.filter((o) => !o.ready)).toEqual([]);
    // The disk's volume sits on pve2, detached, and pve2 goes down.
    await raw.post(`/nodes/pve2/storage/local-lvm/content`, { vmid: String(DISK_OWNER_VMID), filename: id.split(':')[1] ?? '', size: '1G' });
    const s = sim.dump();
    for (const n of s.nodes) if (n.name === 'pve2') n.offline = true;
    await putState(s);
    await folder.write(vm('s5', 'near'), disk('s5', 'data', 'near'));
    const r = await converge({ ...opts, timeoutMs: 1500 });
    expect(r.outcomes.find((o) => o.key === 'VirtualDisk/s5/data')?.ready).toBe(false);
    expect(await diskStatus('VirtualDisk/s5/data')).toMatch(/pve2 is offline: nothing is made until it answers/);
    expect(await volumes('pve1', id)).toBe(0);
    const back = sim.dump();
    for (const n of back.nodes) delete n.offline;
    await putState(back);
    await folder.write();
    await converge(opts);
  }, 60_000);

  it("a pool an earlier virtkeeper made is not relabelled for a namespace while it holds another namespace's VM", async () => {
    await raw.post('/pools', { poolid: 'legacy', comment: 'created by virtkeeper' });
    await raw.post('/pools', { poolid: 'legacy-empty', comment: 'created by virtkeeper' });
    const vmid = Number(await raw.get<string>('/cluster/nextid'));
    await raw.waitForTask(
      await raw.post<string>('/nodes/pve1/qemu', { vmid, name: 'theirs', memory: 512, scsi0: 'local-lvm:4', pool: 'legacy', description: 'virtkeeper.io/owner=VirtualMachine/other/theirs' }),
    );
    await folder.write(vm('team', 'mine', ', pool: legacy'), vm('team', 'mine2', ', pool: legacy-empty'));
    const r = await converge({ ...opts, timeoutMs: 1500 });
    const refused = r.outcomes.find((o) => o.key === 'VirtualMachine/team/mine');
    expect(refused?.ready).toBe(false);
    expect(JSON.stringify(refused)).toMatch(/holds VM theirs \(VirtualMachine other\/theirs\), not namespace team's/);
    const pools = await raw.get<{ poolid: string; comment?: string }[]>('/pools');
    expect(pools.find((p) => p.poolid === 'legacy')?.comment).toBe('created by virtkeeper');
    expect(sim.dump().vms.some((v) => v.config.name === 'mine')).toBe(false);
    // An empty one is taken by the first namespace to use it.
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/team/mine2')?.ready).toBe(true);
    expect(pools.find((p) => p.poolid === 'legacy-empty')?.comment).toMatch(/Pool\/team\/legacy-empty/);
    await folder.write();
    await converge(opts);
  }, 60_000);
});
