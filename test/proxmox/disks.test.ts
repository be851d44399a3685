// VirtualDisk on the Proxmox simulator over HTTP: allocated for the id no VM has and hot-plugged
// into the VM it is attached to while it runs, grown, unplugged and attached to a second VM (the
// same volume id), kept in its storage when detached, then freed; never taken from a VM
// virtkeeper does not own, and never detached by the VMs' own disk lists.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPlan } from '../../controller/cli/render-plan.ts';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { diskVolumeName } from '../../controller/core/disk-name.ts';
import { DISK_OWNER_VMID } from '../../providers/proxmox/disks/index.ts';

const DATA = diskVolumeName('default', 'data');
const DATA2 = diskVolumeName('default', 'data2');
const VOLID = `local-lvm:vm-${DISK_OWNER_VMID}-${DATA}`;

describe('VirtualDisk on Proxmox', () => {
  let sim: RunningProxmoxSimulator;
  let opts: ConvergeOptions;
  const hv = () => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n`;
  const vm = (name: string, extra = '') =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec: {hypervisor: pve, template: ubuntu-24.04, memory: 1Gi, disks: [{name: root, size: 8Gi}]${extra}}\n`;
  const disk = (size: string, attachTo?: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualDisk\nmetadata: {name: data}\nspec: {hypervisor: pve, size: ${size}, storage: local-lvm${attachTo ? `, attachTo: {vm: ${attachTo}}` : ''}}\n`;
  let folder: ConvergeFolder;
  const write = (...docs: string[]) => folder.write(...docs);
  const guest = (name: string) => sim.dump().vms.find((v) => v.config.name === name);
  const status = async () => (await opts.statuses.read('VirtualDisk/default/data'))?.status as { providerID?: string; attachedTo?: string; phase?: string; actualSize?: string } | undefined;

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5 }, agentDelayMs: 0 });
    folder = await convergeFolder({
      prefix: 'vk-pdisk-',
      header: hv,
      credentials: directoryCredentials({ VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` }),
      timeoutMs: 20000,
      sleepCapMs: 50,
    });
    ({ opts } = folder);
  });
  afterAll(async () => {
    await folder.close();
    await sim.close();
  });

  it('hot-plugs, grows, moves to another VM, detaches and deletes', async () => {
    await write(vm('pa'), vm('pb'), disk('2Gi', 'pa'));
    let r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    const a = guest('pa');
    expect(a?.status).toBe('running');
    // Allocated for the id no VM has, attached to pa by reference (no VM's removal frees it).
    const slot = Object.entries(a?.config ?? {}).find(([k, v]) => /^(scsi|virtio)\d+$/.test(k) && v.includes(DATA));
    expect(slot?.[1]).toBe(`${VOLID},size=2G`);
    expect(await status()).toMatchObject({ phase: 'Attached', attachedTo: 'pa', actualSize: '2Gi', providerID: VOLID });
    expect(a?.config.description).toContain(`virtkeeper.io/disk=${VOLID} VirtualDisk/default/data`);

    r = await converge(opts);
    expect(r.outcomes.flatMap((o) => o.plan?.steps.map((x) => x.action.type) ?? [])).toEqual([]);

    await write(vm('pa'), vm('pb'), disk('3Gi', 'pa'));
    await converge(opts);
    expect(guest('pa')?.config[slot?.[0] ?? '']).toMatch(/size=3G$/);

    // Moved: unplugged from the running pa, plugged into pb; the volume keeps its id. The plan
    // shows both steps and touches nothing.
    await write(vm('pa'), vm('pb'), disk('3Gi', 'pb'));
    const planned = await converge({ ...opts, dryRun: true, wait: false });
    const text = renderPlan(planned.outcomes, { color: false, paint: (_f, t) => t });
    // As the provider observes it (disks.observe): the volume by its name, the VM it goes to.
    expect(text).toMatch(new RegExp(`~ detach ${DATA} from pa\n.*~ attach ${VOLID} to pb`, 's'));
    expect(Object.values(guest('pa')?.config ?? {}).some((v) => v.startsWith(VOLID))).toBe(true);
    r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(Object.entries(guest('pa')?.config ?? {}).some(([k, v]) => k !== 'description' && v.includes('vkdisk'))).toBe(false);
    expect(guest('pa')?.config.description).not.toContain('virtkeeper.io/disk=');
    const moved = Object.entries(guest('pb')?.config ?? {}).find(([k, v]) => /^(scsi|virtio)[1-9]/.test(k) && v.startsWith(VOLID));
    expect(moved?.[1]).toBe(`${VOLID},size=3G`);
    expect(await status()).toMatchObject({ attachedTo: 'pb', providerID: VOLID });

    // The VMs' own passes leave it alone.
    r = await converge(opts);
    expect(r.outcomes.flatMap((o) => o.plan?.steps.map((x) => x.action.type) ?? [])).toEqual([]);
    expect(guest('pb')?.config[moved?.[0] ?? '']).toBe(moved?.[1]);

    // The state is lost: the disk is found again where it is, not made twice.
    await opts.statuses.remove('VirtualDisk/default/data');
    r = await converge(opts);
    expect(r.outcomes.flatMap((o) => o.plan?.steps.map((x) => x.action.type) ?? [])).toEqual([]);
    expect(await status()).toMatchObject({ attachedTo: 'pb', providerID: VOLID });
    expect(
      sim
        .dump()
        .vms.flatMap((v) => Object.values(v.config))
        .filter((v) => v.startsWith(VOLID)),
    ).toHaveLength(1);

    // Detached: it leaves pb's config (no unusedN: pb does not own it) and stays in its storage.
    await write(vm('pa'), vm('pb'), disk('3Gi'));
    await converge(opts);
    expect(Object.entries(guest('pb')?.config ?? {}).filter(([k, v]) => k !== 'description' && v.includes(VOLID))).toEqual([]);
    expect(sim.dump().volumeSizes?.[VOLID]).toBe(3 * 2 ** 30);
    expect(await status()).toMatchObject({ phase: 'Available', providerID: VOLID });
    // Deleted with the resource: freed in its storage.
    await write(vm('pa'), vm('pb'));
    await converge(opts);
    expect(sim.dump().volumeSizes ?? {}).toEqual({});
  }, 60_000);

  it('never takes a disk from a VM virtkeeper does not own', async () => {
    await write(vm('pa'), vm('pb'), disk('1Gi', 'pa'));
    await converge(opts);
    const s = sim.dump();
    const a = s.vms.find((v) => v.config.name === 'pa');
    if (a) a.config.description = 'hand-made';
    await fetch(`${sim.url.replace(/\/$/, '')}/_sim/state`, { method: 'PUT', body: JSON.stringify(s) });
    await write(vm('pb'), disk('1Gi', 'pb'));
    await converge({ ...opts, timeoutMs: 1500 });
    expect(Object.values(guest('pa')?.config ?? {}).some((v) => v.includes(DATA))).toBe(true);
    expect(JSON.stringify(await status())).toMatch(/on VM pa, which virtkeeper does not own/);
  }, 60_000);

  it('waits for a locked VM, and takes up a volume an interrupted attempt allocated', async () => {
    await write(vm('pc'));
    await converge(opts);
    const c = guest('pc');
    // An earlier attempt marked pc and allocated the volume, then failed to attach it; and the VM is busy.
    await fetch(`${sim.url.replace(/\/$/, '')}/api2/json/nodes/${c?.node}/storage/local-lvm/content`, {
      method: 'POST',
      headers: { authorization: `PVEAPIToken=${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ vmid: String(DISK_OWNER_VMID), filename: `vm-${DISK_OWNER_VMID}-${DATA2}`, size: '1G' }).toString(),
    }).then((r) => expect(r.status).toBe(200));
    const s = sim.dump();
    const locked = s.vms.find((v) => v.config.name === 'pc');
    if (locked) {
      locked.lock = 'backup';
      locked.config.description = `${locked.config.description}\nvirtkeeper.io/disk=local-lvm:vm-${DISK_OWNER_VMID}-${DATA2} VirtualDisk/default/data2`;
    }
    await fetch(`${sim.url.replace(/\/$/, '')}/_sim/state`, { method: 'PUT', body: JSON.stringify(s) });
    await write(vm('pc'), disk('1Gi', 'pc').replace('name: data}', 'name: data2}'));
    await converge({ ...opts, timeoutMs: 1500 });
    expect(JSON.stringify((await opts.statuses.read('VirtualDisk/default/data2'))?.status)).toMatch(/VM pc is busy \(lock backup\)/);
    const free = sim.dump();
    const unlocked = free.vms.find((v) => v.config.name === 'pc');
    if (unlocked) delete unlocked.lock;
    await fetch(`${sim.url.replace(/\/$/, '')}/_sim/state`, { method: 'PUT', body: JSON.stringify(free) });
    const r = await converge(opts);
    // (The disk of the test before stays on the VM someone took over: its removal is refused.)
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error?.message ?? o.key)).toEqual([`disk ${DATA} is on VM pa, which virtkeeper does not own; it is not deleted`]);
    expect((await opts.statuses.read('VirtualDisk/default/data2'))?.status).toMatchObject({ attachedTo: 'pc', providerID: `local-lvm:vm-${DISK_OWNER_VMID}-${DATA2}` });
    await write();
    await converge(opts);
  }, 60_000);
});
