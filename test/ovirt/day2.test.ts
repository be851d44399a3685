// oVirt day-2 clients against the simulator over HTTP: snapshots (with and without memory,
// listed, the VM changed, restored, removed), a console ticket the VM's display accepts, the
// engine's host maintenance, usage that moves, and a VM not owned refused everywhere.
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Target } from '../../controller/core/actions.ts';
import { RefusedError } from '../../controller/core/errors.ts';
import type { ProviderClient } from '../../controller/core/provider.ts';
import { arr, OvirtClient } from '../../providers/ovirt/client.ts';
import { parseViewerFile } from '../../providers/ovirt/consoles.ts';
import { ovirtProvider } from '../../providers/ovirt/index.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { contractVM } from '../contract/provider-contract.ts';
import { presentPassword } from '../support/viewer-file.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

describe('oVirt day-2 over HTTP', () => {
  let sim: RunningOvirtSimulator;
  let api: OvirtClient;
  let client: ProviderClient;
  let target: Target;
  let foreign: Target;
  const desired = contractVM('d2-web', 'centos-9', { memoryBytes: 1024 * MiB, disks: [{ name: 'root', sizeBytes: 10 * GiB, interface: 'virtio', bootable: true }] });
  const snapOwner = (name: string) => ({ kind: 'VirtualMachineSnapshot', namespace: 'contract', name });
  const vmOnSim = () => sim.dump().vms.find((v) => v.id === target.providerID);
  const diskSize = () => sim.dump().disks.find((d) => d.id === vmOnSim()?.attachments[0]?.disk)?.provisioned_size;

  beforeAll(async () => {
    sim = await startOvirtSimulator({ name: 'd2', hosts: 2, templates: ['centos-9'], imageCopyMs: 60, bootStepMs: 20, migrateMs: 40, diskResizeMs: 20 });
    api = new OvirtClient({ endpoint: sim.url, credentials: sim.credentials });
    client = ovirtProvider({ client: api, logger: pino({ level: 'silent' }), pollMs: 20 });
    await client.vms.execute({ type: 'create', vm: desired });
    const obs = await client.vms.observe();
    const vm = obs.vms.find((v) => v.name === desired.name);
    if (!vm) throw new Error('not created');
    target = { providerID: vm.providerID, name: vm.name, owner: desired.owner };
    // A VM the engine has that virtkeeper did not make (no marker).
    const r = await api.call<{ id: string }>('POST', '/vms', { body: { name: 'd2-foreign', cluster: { name: 'Default' }, template: { name: 'centos-9' } } });
    while ((await api.get(`/vms/${r.data.id}`)).status === 'image_locked') await new Promise((res) => setTimeout(res, 20));
    await api.call('POST', `/vms/${r.data.id}/start`, { body: {} });
    foreign = { providerID: r.data.id, name: 'd2-foreign', owner: desired.owner };
  });
  afterAll(async () => {
    await client?.close();
    await sim?.close();
  });

  it('snapshots without memory (stopped) and with memory (running); listed; idempotent', async () => {
    const snaps = client.snapshots;
    if (!snaps) throw new Error('no snapshots');
    expect(snaps.revertNeedsStop).toBe(true);
    const cold = await snaps.create(target, { name: 'cold', owner: snapOwner('cold'), memory: true, quiesce: false, description: 'before anything' });
    // The VM was down: the engine saves no memory, whatever was asked.
    expect(cold).toMatchObject({ name: 'cold', memory: false, state: 'ready', owner: snapOwner('cold'), description: 'before anything' });
    await client.vms.execute({ type: 'start', target });
    const hot = await snaps.create(target, { name: 'hot', owner: snapOwner('hot'), memory: true, quiesce: false });
    expect(hot).toMatchObject({ name: 'hot', memory: true, state: 'ready' });
    const again = await snaps.create(target, { name: 'hot', owner: snapOwner('hot'), memory: true, quiesce: false });
    expect(again.id).toBe(hot.id);
    const list = await snaps.list(target);
    expect(list.map((s) => [s.name, s.memory, s.state])).toEqual([
      ['cold', false, 'ready'],
      ['hot', true, 'ready'],
    ]);
    // The engine's own active snapshot is not one to restore.
    expect(arr((await api.get(`/vms/${target.providerID}/snapshots`)).snapshot).map((s) => s.snapshot_type)).toEqual(['active', 'regular', 'regular']);
  });

  it('while a snapshot is being made the VM is locked, with the engine texts', async () => {
    const made = await api.call<{ id: string; snapshot_status: string }>('POST', `/vms/${target.providerID}/snapshots`, { body: { description: 'raw', persist_memorystate: false } });
    expect(made.status).toBe(202);
    expect(made.data.snapshot_status).toBe('locked');
    await expect(api.call('POST', `/vms/${target.providerID}/snapshots`, { body: { description: 'second' } })).rejects.toThrow(/Cannot create Snapshot: VM is locked/);
    await expect(api.call('POST', `/vms/${target.providerID}/snapshots`, { body: { persist_memorystate: false } })).rejects.toThrow(/Snapshot \[description\] required for add/);
    while (arr((await api.get(`/vms/${target.providerID}/snapshots`)).snapshot).some((s) => s.snapshot_status === 'locked')) await new Promise((r) => setTimeout(r, 20));
    await api.call('DELETE', `/vms/${target.providerID}/snapshots/${made.data.id}`);
  });

  it('restores disk sizes and memory recorded at the snapshot; refused while running; later snapshots dropped', async () => {
    const snaps = client.snapshots;
    if (!snaps) throw new Error('no snapshots');
    const cold = (await snaps.list(target)).find((s) => s.name === 'cold');
    const hot = (await snaps.list(target)).find((s) => s.name === 'hot');
    if (!cold || !hot) throw new Error('missing snapshots');
    // The VM changes: a bigger disk, more memory.
    await client.vms.execute({ type: 'growDisk', target, disk: vmOnSim()?.attachments[0]?.id ?? '', index: 0, sizeBytes: 20 * GiB });
    while (sim.dump().disks.some((d) => d.status === 'locked')) await new Promise((r) => setTimeout(r, 20));
    await client.vms.execute({ type: 'reconfigure', target, memoryBytes: 2048 * MiB, mode: 'live' });
    expect(diskSize()).toBe(20 * GiB);
    expect(vmOnSim()?.config.memory).toBe(2048 * MiB);

    await expect(snaps.revert(target, hot.id)).rejects.toThrow(/Cannot revert to Snapshot\. At least one of the VMs is not down/);
    await client.vms.execute({ type: 'stop', target });
    await snaps.revert(target, hot.id);
    expect(diskSize()).toBe(10 * GiB);
    expect(vmOnSim()?.config.memory).toBe(1024 * MiB);
    // Its memory comes back at the next start.
    expect(vmOnSim()?.resume_memory).toEqual({ from: hot.id, bytes: 1024 * MiB });

    // Restoring the older one drops the one taken after it, as a commit does.
    await snaps.revert(target, cold.id);
    expect((await snaps.list(target)).map((s) => s.name)).toEqual(['cold']);
    expect(vmOnSim()?.resume_memory).toBeUndefined();
  });

  it('removes a snapshot; a missing one succeeds; another VM’s snapshot is never used', async () => {
    const snaps = client.snapshots;
    if (!snaps) throw new Error('no snapshots');
    const cold = (await snaps.list(target)).find((s) => s.name === 'cold');
    if (!cold) throw new Error('missing');
    await snaps.delete(target, cold.id);
    expect(await snaps.list(target)).toEqual([]);
    await snaps.delete(target, cold.id);
    // A snapshot of the foreign VM, by id, through this VM: not found here.
    const other = await api.call<{ id: string }>('POST', `/vms/${foreign.providerID}/snapshots`, { body: { description: 'theirs', persist_memorystate: false } });
    await expect(snaps.revert(target, other.data.id)).rejects.toThrow(/has no snapshot .* a snapshot of another VM is never used/);
  });

  it('a console ticket the display accepts, for as long as asked, and no longer', async () => {
    const consoles = client.consoles;
    if (!consoles) throw new Error('no consoles');
    await expect(consoles.open(target, { ttlSeconds: 60 })).rejects.toThrow(/a console opens only on a running VM/);
    await client.vms.execute({ type: 'start', target });
    const t = await consoles.open(target, { ttlSeconds: 2 });
    expect(t).toMatchObject({ protocol: 'spice', host: '127.0.0.1' });
    expect(t.port).toBeGreaterThan(0);
    const vv = parseViewerFile(t.viewerFile);
    expect(vv).toMatchObject({ type: 'spice', password: t.password, port: String(t.port) });
    expect(Date.parse(t.expiresAt) - Date.now()).toBeLessThanOrEqual(2000);
    expect(await presentPassword(t.port, t.password)).toBe(`OK ${target.name}`);
    expect(await presentPassword(t.port, 'guess')).toBe('DENIED');
    // The same file, as remote-viewer asks for it (Accept: application/x-virt-viewer).
    const res = await request(`${sim.url}/vms/${target.providerID}/graphicsconsoles/7370696365`, {
      headers: { accept: 'application/x-virt-viewer', authorization: `Basic ${Buffer.from(`${sim.credentials.username}:${sim.credentials.password}`).toString('base64')}` },
    });
    expect(res.headers['content-type']).toMatch(/application\/x-virt-viewer/);
    const file = parseViewerFile(await res.body.text());
    expect(file.type).toBe('spice');
    // A new file carries a new ticket: the old one is no longer the display's.
    expect(await presentPassword(Number(file.port), t.password)).toBe('DENIED');
    expect(await presentPassword(Number(file.port), file.password ?? '')).toBe(`OK ${target.name}`);
    const short = await consoles.open(target, { ttlSeconds: 1, protocol: 'vnc' });
    expect(short.protocol).toBe('vnc');
    await new Promise((r) => setTimeout(r, 1100));
    expect(await presentPassword(short.port, short.password)).toBe('DENIED');
  });

  it('a VM not owned is refused by every day-2 call, and nothing is asked of it', async () => {
    const before = sim.dump().vms.find((v) => v.id === foreign.providerID)?.snapshots?.length ?? 0;
    const calls: (() => Promise<unknown> | undefined)[] = [
      () => client.snapshots?.list(foreign),
      () => client.snapshots?.create(foreign, { name: 'x', owner: snapOwner('x'), memory: false, quiesce: false }),
      () => client.snapshots?.revert(foreign, 'whatever'),
      () => client.snapshots?.delete(foreign, 'whatever'),
      () => client.consoles?.open(foreign, { ttlSeconds: 30 }),
    ];
    for (const call of calls) {
      const e = await Promise.resolve()
        .then(call)
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RefusedError);
      expect((e as Error).message).toMatch(/VM d2-foreign .* is not owned by this resource/);
    }
    expect(sim.dump().vms.find((v) => v.id === foreign.providerID)?.snapshots?.length ?? 0).toBe(before);
    expect(sim.dump().vms.find((v) => v.id === foreign.providerID)?.ticket).toBeUndefined();
  });

  it("the engine's host maintenance: refused while VMs run there, then maintenance, then up again", async () => {
    const nodes = client.nodes;
    if (!nodes) throw new Error('no nodes');
    const host = sim.dump().hosts.find((h) => h.id === vmOnSim()?.host);
    if (!host) throw new Error('no host');
    await expect(nodes.setMaintenance(host.name, true)).rejects.toThrow(
      /Cannot switch the following Hosts to Maintenance mode: host\d\.\nOne or more running VMs are indicated as non-migratable\. The non-migratable VMs are: d2-web/,
    );
    const other = sim.dump().hosts.find((h) => h.id !== host.id)?.name ?? '';
    for (const id of sim
      .dump()
      .vms.filter((v) => v.host === host.id && v.status === 'up')
      .map((v) => v.id))
      await api.call('POST', `/vms/${id}/migrate`, { body: { host: { name: other } } });
    while (sim.dump().vms.some((v) => v.status === 'migrating')) await new Promise((r) => setTimeout(r, 20));
    await nodes.setMaintenance(host.name, true);
    expect(sim.dump().hosts.find((h) => h.id === host.id)?.status).toBe('maintenance');
    await nodes.setMaintenance(host.name, true); // already there: nothing asked
    expect((await client.vms.observe()).nodes.find((n) => n.name === host.name)?.state).toBe('maintenance');
    await nodes.setMaintenance(host.name, false);
    expect(sim.dump().hosts.find((h) => h.id === host.id)?.status).toBe('up');
    await expect(nodes.setMaintenance('host9', true)).rejects.toThrow(/the engine has no host host9/);
  });

  // What was asked of VMs (hosts and templates are refreshed every few passes besides).
  const vmReads = () => Object.fromEntries(Object.entries(sim.stats()).filter(([k]) => /vms|statistics/.test(k)));

  it('usage is never read for plan and apply: the one list call carries no statistics', async () => {
    await client.vms.observe();
    sim.resetStats();
    const obs = await client.vms.observe();
    expect(vmReads()).toEqual({ 'GET /vms': 1 });
    expect(obs.vms.find((v) => v.name === desired.name)?.power).toBe('running');
    expect(obs.vms.filter((v) => v.usage)).toEqual([]);
  });

  it('usage, when wanted, is a search of its own over the running VMs, at most every usageEveryMs, and moves with the clock', async () => {
    const gauges = ovirtProvider({ client: new OvirtClient({ endpoint: sim.url, credentials: sim.credentials }), logger: pino({ level: 'silent' }), usage: true, usageEveryMs: 1000 });
    await gauges.vms.observe();
    sim.resetStats();
    await new Promise((r) => setTimeout(r, 1100));
    const firstObs = await gauges.vms.observe();
    const first = firstObs.vms.find((v) => v.name === desired.name)?.usage;
    // The list and the usage search; no per-VM statistics read.
    expect(vmReads()).toEqual({ 'GET /vms': 2 });
    // Only running VMs have gauges.
    expect(firstObs.vms.filter((v) => v.usage && v.power !== 'running')).toEqual([]);
    sim.resetStats();
    // Within usageEveryMs: the list alone, the last usage kept.
    expect((await gauges.vms.observe()).vms.find((v) => v.name === desired.name)?.usage).toEqual(first);
    expect(vmReads()).toEqual({ 'GET /vms': 1 });
    expect(first?.cpuRatio).toBeGreaterThan(0);
    expect(first?.memoryUsedBytes).toBeGreaterThan(0);
    expect(first?.diskReadBytesPerSecond).toBeGreaterThanOrEqual(0);
    await new Promise((r) => setTimeout(r, 1100));
    const second = (await gauges.vms.observe()).vms.find((v) => v.name === desired.name)?.usage;
    expect(second?.networkReceiveBytes ?? 0).toBeGreaterThan(first?.networkReceiveBytes ?? 0);
    expect(second?.networkTransmitBytes ?? 0).toBeGreaterThan(first?.networkTransmitBytes ?? 0);
    await gauges.close();
  });
  it('the two-step restore: preview shows the snapshot, undo goes back, commit keeps it and drops later snapshots', async () => {
    await client.vms.execute({ type: 'stop', target });
    const base = `/vms/${target.providerID}`;
    const settle = async () => {
      while (arr((await api.get(`${base}/snapshots`)).snapshot).some((x) => x.snapshot_status === 'locked') || sim.dump().disks.some((d) => d.status === 'locked'))
        await new Promise((r) => setTimeout(r, 20));
    };
    const memoryNow = vmOnSim()?.config.memory;
    const first = (await api.call<{ id: string }>('POST', `${base}/snapshots`, { body: { description: 'first', persist_memorystate: false } })).data.id;
    await settle();
    await client.vms.execute({ type: 'reconfigure', target, memoryBytes: 3072 * MiB, mode: 'offline' });
    const second = (await api.call<{ id: string }>('POST', `${base}/snapshots`, { body: { description: 'second', persist_memorystate: false } })).data.id;
    await settle();
    await api.call('POST', `${base}/previewsnapshot`, { body: { snapshot: { id: first } } });
    await settle();
    expect(vmOnSim()?.config.memory).toBe(memoryNow);
    expect(arr((await api.get(`${base}/snapshots`)).snapshot).find((x) => x.id === first)?.snapshot_status).toBe('in_preview');
    await expect(api.call('POST', `${base}/snapshots`, { body: { description: 'third' } })).rejects.toThrow(/Cannot create Snapshot\. VM is previewing a Snapshot/);
    await api.call('POST', `${base}/undosnapshot`, { body: {} });
    expect(vmOnSim()?.config.memory).toBe(3072 * MiB);
    await api.call('POST', `${base}/previewsnapshot`, { body: { snapshot: { id: first } } });
    await settle();
    await api.call('POST', `${base}/commitsnapshot`, { body: {} });
    expect(vmOnSim()?.config.memory).toBe(memoryNow);
    const left = arr((await api.get(`${base}/snapshots`)).snapshot).map((x) => String(x.id));
    expect(left).toContain(first);
    expect(left).not.toContain(second);
    await expect(api.call('POST', `${base}/commitsnapshot`, { body: {} })).rejects.toThrow(/VM is not in preview mode/);
  });
});
