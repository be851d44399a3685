// Snapshots on the Proxmox simulator over HTTP, through the connector's SnapshotClient: made
// with and without RAM, listed, the VM changed (memory, CPU, a disk grown and one added),
// rolled back and the change gone, removed with the parent chain relinked; a second snapshot
// task while one holds the VM lock fails with Proxmox's text; a VM virtkeeper does not own is
// refused before anything is asked of it.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderLockedError, RefusedError } from '../../controller/core/errors.ts';
import type { ProviderClient, SnapshotClient } from '../../controller/core/provider.ts';
import { ProxmoxClient } from '../../providers/proxmox/client.ts';
import { proxmoxConnector } from '../../providers/proxmox/index.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

const owner = { kind: 'VirtualMachine', namespace: 'default', name: 'snappy', instance: 'ctl-a' };
const mine = { providerID: 'qemu/300', name: 'snappy', owner };
const snap = (name: string, memory = false) => ({
  name,
  owner: { kind: 'VirtualMachineSnapshot', namespace: 'default', name, instance: 'ctl-a' },
  memory,
  quiesce: false,
  description: `snapshot ${name}`,
});

describe('Proxmox snapshots', () => {
  let sim: RunningProxmoxSimulator;
  let client: ProviderClient;
  let snaps: SnapshotClient;
  let api: ProxmoxClient;
  const config = async (vmid = 300) => api.get<Record<string, string | number>>(`/nodes/pve1/qemu/${vmid}/config`);
  const raw = async (vmid = 300) => api.get<{ name: string; parent?: string; vmstate?: number; running?: number }[]>(`/nodes/pve1/qemu/${vmid}/snapshot`);
  const task = async (p: Promise<string | null>) => {
    const upid = await p;
    if (upid) await api.waitForTask(upid);
  };
  const count = (route: string) => sim.stats()[route] ?? 0;

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5, qmsnapshot: 400, qmrollback: 20, qmdelsnapshot: 20 }, agentDelayMs: 0 });
    const state = sim.dump();
    const base = { node: 'pve1', pending: {}, pendingDelete: [], status: 'stopped' as const, template: false };
    const cfg = (name: string, description: string) => ({
      name,
      cores: '2',
      sockets: '1',
      memory: '2048',
      agent: '1',
      scsihw: 'virtio-scsi-single',
      scsi0: 'local-lvm:vm-300-disk-0,size=16G',
      net0: 'virtio=BC:24:11:01:2C:00,bridge=vmbr0',
      description,
    });
    state.vms.push(
      { ...base, vmid: 300, config: cfg('snappy', 'virtkeeper.io/owner=VirtualMachine/default/snappy@ctl-a\nmanaged') },
      { ...base, vmid: 301, config: { ...cfg('by-hand', 'made by hand'), scsi0: 'local-lvm:vm-301-disk-0,size=16G' } },
      { ...base, vmid: 302, config: { ...cfg('theirs', 'virtkeeper.io/owner=VirtualMachine/default/snappy@another-controller'), scsi0: 'local-lvm:vm-302-disk-0,size=16G' } },
    );
    sim.load(state);
    const credentials = { token: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` };
    client = await proxmoxConnector.connect({ name: 'pve', spec: { type: 'proxmox', endpoint: sim.url }, credentials, logger: pino({ level: 'silent' }) });
    if (!client.snapshots) throw new Error('the Proxmox client has no snapshots');
    snaps = client.snapshots;
    api = new ProxmoxClient({ endpoint: sim.url, credentials });
  });
  afterAll(async () => {
    await client.close();
    await api.close();
    await sim.close();
  });

  it('says what a revert needs: Proxmox stops a running VM itself, and RAM can be saved', () => {
    expect(snaps.revertNeedsStop).toBe(false);
    expect(snaps.memory).toBe(true);
  });

  it('makes a disk snapshot of a stopped VM, idempotently, and rolls a changed VM back to it', async () => {
    const made = await snaps.create(mine, snap('before'));
    expect(made).toMatchObject({ id: 'before', name: 'before', memory: false, state: 'ready', owner: { kind: 'VirtualMachineSnapshot', name: 'before' } });
    expect(made.description).toContain('virtkeeper.io/owner=VirtualMachineSnapshot/default/before@ctl-a');
    expect(made.description).toContain('snapshot before');
    // The same name and marker again: the snapshot there is the answer, no second task.
    const posts = count('POST /nodes/{node}/qemu/{vmid}/snapshot');
    expect(await snaps.create(mine, snap('before'))).toEqual(made);
    expect(count('POST /nodes/{node}/qemu/{vmid}/snapshot')).toBe(posts);
    expect((await snaps.list(mine)).map((s) => s.name)).toEqual(['before']);
    expect((await raw()).find((r) => r.name === 'current')).toMatchObject({ parent: 'before', running: 0 });

    // The VM changes: more memory and CPU, its disk grown, a second disk.
    await task(api.post<string>('/nodes/pve1/qemu/300/config', { memory: 4096, cores: 4, scsi1: 'local-lvm:4' }));
    await task(api.put<string | null>('/nodes/pve1/qemu/300/resize', { disk: 'scsi0', size: '+8G' }));
    expect(await config()).toMatchObject({ memory: '4096', cores: 4, scsi0: 'local-lvm:vm-300-disk-0,size=24G' });

    await snaps.revert(mine, 'before');
    const after = await config();
    expect(after).toMatchObject({ memory: '2048', cores: 2, scsi0: 'local-lvm:vm-300-disk-0,size=16G', description: 'virtkeeper.io/owner=VirtualMachine/default/snappy@ctl-a\nmanaged' });
    expect(after.scsi1).toBeUndefined();
    // The disk made since stays in storage, as an unused volume of the VM.
    expect(after.unused0).toBe('local-lvm:vm-300-disk-1');
  });

  it('saves the RAM of a running VM, resumes it on rollback, and leaves a disk-only rollback stopped', async () => {
    await task(api.post<string>('/nodes/pve1/qemu/300/status/start'));
    const withRam = await snaps.create(mine, snap('withram', true));
    expect(withRam).toMatchObject({ memory: true, state: 'ready' });
    expect(await api.get(`/nodes/pve1/qemu/300/snapshot/withram/config`)).toMatchObject({ vmstate: 'local-lvm:vm-300-state-withram', memory: '2048', parent: 'before' });

    await task(api.post<string>('/nodes/pve1/qemu/300/config', { memory: 8192 }));
    await snaps.revert(mine, 'withram');
    expect(await config()).toMatchObject({ memory: '2048' });
    expect((await api.get<{ status: string }>('/nodes/pve1/qemu/300/status/current')).status).toBe('running');

    // A running VM rolled back to a snapshot without RAM: Proxmox stops it, and it stays stopped.
    await snaps.revert(mine, 'before');
    expect((await api.get<{ status: string }>('/nodes/pve1/qemu/300/status/current')).status).toBe('stopped');
  });

  it('asked for RAM of a stopped VM, Proxmox makes a disk-only snapshot, and virtkeeper says so', async () => {
    const messages: string[] = [];
    const s = await snaps.create(mine, snap('cold', true), { onProgress: (p) => p.message && messages.push(p.message) });
    expect(s.memory).toBe(false);
    expect(messages).toContain('VM snappy is not running: the snapshot has no RAM');
    await snaps.delete(mine, 'cold');
  });

  it('removes a snapshot and relinks what descended from it; a missing one is already removed', async () => {
    await snaps.revert(mine, 'withram');
    expect((await raw()).find((r) => r.name === 'current')?.parent).toBe('withram');
    await snaps.delete(mine, 'withram');
    const rows = await raw();
    expect(rows.map((r) => r.name)).toEqual(['before', 'current']);
    expect(rows.find((r) => r.name === 'current')?.parent).toBe('before');
    expect(sim.dump().volumeSizes?.['local-lvm:vm-300-state-withram']).toBeUndefined();
    await snaps.delete(mine, 'withram');
  });

  it('a snapshot task while another holds the VM lock fails with Proxmox text, as a lock to wait for', async () => {
    // A snapshot task of 400 ms holds the lock from its start; the second asks meanwhile.
    const first = await api.post<string>('/nodes/pve1/qemu/300/snapshot', { snapname: 'first' });
    const second = await snaps.create(mine, snap('second')).catch((e: unknown) => e as Error);
    await api.waitForTask(first);
    expect(second).toBeInstanceOf(ProviderLockedError);
    expect((second as Error).message).toBe('VM is locked (snapshot)');
    expect((await raw()).map((r) => r.name)).toEqual(['before', 'first', 'current']);
    // The same while a rollback holds it, and through a lock another tool left (a backup).
    const state = sim.dump();
    const vm = state.vms.find((v) => v.vmid === 300);
    if (vm) vm.lock = 'backup';
    sim.load(state);
    await expect(snaps.create(mine, snap('third'))).rejects.toThrow(/^VM is locked \(backup\)$/);
    await expect(snaps.revert(mine, 'before')).rejects.toBeInstanceOf(ProviderLockedError);
    await expect(snaps.delete(mine, 'before')).rejects.toThrow('VM is locked (backup)');
    const unlocked = sim.dump();
    for (const v of unlocked.vms) delete v.lock;
    sim.load(unlocked);
  });

  it.each([
    ['a VM made by hand', 301, 'by-hand'],
    ['the same resource of another controller instance', 302, 'theirs'],
  ])('refuses every snapshot call on %s, asking nothing of it', async (_what, vmid, name) => {
    const target = { providerID: `qemu/${vmid}`, name, owner };
    const before = sim.stats();
    await expect(snaps.create(target, snap('x'))).rejects.toBeInstanceOf(RefusedError);
    await expect(snaps.list(target)).rejects.toBeInstanceOf(RefusedError);
    await expect(snaps.revert(target, 'x')).rejects.toThrow(`is not owned by VirtualMachine default/snappy of controller instance ctl-a`);
    await expect(snaps.delete(target, 'x')).rejects.toBeInstanceOf(RefusedError);
    const after = sim.stats();
    const writes = Object.keys(after).filter((k) => !k.startsWith('GET') && after[k] !== before[k]);
    expect(writes).toEqual([]);
    expect(sim.dump().vms.find((v) => v.vmid === vmid)?.snapshots).toBeUndefined();
  });

  it('leaves a snapshot made by hand on an owned VM: not deleted, its name not taken', async () => {
    const upid = await api.post<string>('/nodes/pve1/qemu/300/snapshot', { snapname: 'manual', description: 'taken by an admin' });
    await api.waitForTask(upid);
    const log = await api.get<{ t: string }[]>(`/nodes/pve1/tasks/${encodeURIComponent(upid)}/log`);
    expect(log.map((l) => l.t)).toEqual(["snapshotting 'drive-scsi0' (local-lvm:vm-300-disk-0)", 'TASK OK']);
    await expect(snaps.delete(mine, 'manual')).rejects.toThrow('snapshot manual of VM snappy was not made by this controller (instance ctl-a)');
    await expect(snaps.create(mine, snap('manual'))).rejects.toThrow('VM snappy already has a snapshot named manual not made by virtkeeper; choose another name');
    expect((await raw()).map((r) => r.name)).toContain('manual');
  });

  it('shows a snapshot through the VM config too, and keeps a VM with snapshots from becoming a template', async () => {
    expect(await api.get('/nodes/pve1/qemu/300/config', { snapshot: 'before' })).toMatchObject({ memory: '2048', cores: 2, scsi0: 'local-lvm:vm-300-disk-0,size=16G' });
    // The config names the snapshot the VM descends from, as the list's 'current' entry does.
    expect((await raw()).find((r) => r.name === 'current')?.parent).toBe('manual');
    expect((await config()).parent).toBe('manual');
    await expect(api.get('/nodes/pve1/qemu/300/config', { snapshot: 'gone' })).rejects.toThrow("snapshot 'gone' does not exist");
    await expect(api.post('/nodes/pve1/qemu/300/template')).rejects.toThrow('unable to create template, because VM contains snapshots');
  });

  it('checks names as Proxmox does: reserved and malformed names', async () => {
    await expect(api.post('/nodes/pve1/qemu/300/snapshot', { snapname: 'current' })).rejects.toThrow("unable to use snapshot name 'current' (reserved name)");
    await expect(api.post('/nodes/pve1/qemu/300/snapshot', { snapname: '1st' })).rejects.toThrow("snapname: invalid format - invalid configuration ID '1st'");
    await expect(snaps.create(mine, snap('has space'))).rejects.toBeInstanceOf(RefusedError);
  });
});
