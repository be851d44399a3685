// The read-only observe of VirtualDisks and networks on a simulated engine over HTTP: it says
// what ensure would do (create, grow, attach, detach; create a network, attach it to a cluster)
// and why it cannot (a namesake's disk, a VM not owned, a VLAN taken), changing nothing; after
// ensure it says up to date. A disk is found with one search, whatever ids and names it had.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatOwner, type DesiredNetwork, type DesiredStandaloneDisk, type ProviderClient } from '../../controller/core/provider.ts';
import { OvirtClient } from '../../providers/ovirt/client.ts';
import { ovirtProvider } from '../../providers/ovirt/index.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';

const GiB = 2 ** 30;
let sim: RunningOvirtSimulator;
let api: OvirtClient;
let p: ProviderClient;

const writes = () => Object.entries(sim.stats()).filter(([k]) => !k.startsWith('GET '));
const disk = (name: string, extra: Partial<DesiredStandaloneDisk> = {}): DesiredStandaloneDisk => ({
  key: `VirtualDisk/obs/${name}`,
  owner: { kind: 'VirtualDisk', namespace: 'obs', name },
  name: `vk-obs-${name}`,
  sizeBytes: GiB,
  interface: 'virtio-scsi',
  ...extra,
});
async function vm(name: string, owned: boolean): Promise<void> {
  const comment = owned ? formatOwner({ kind: 'VirtualMachine', namespace: 'obs', name }) : '';
  const r = await api.call<{ id: string }>('POST', '/vms', { body: { name, comment, cluster: { name: 'Default' }, template: { name: 'centos-9' } } });
  while ((await api.get(`/vms/${r.data.id}`)).status === 'image_locked') await new Promise((res) => setTimeout(res, 10));
}

beforeAll(async () => {
  sim = await startOvirtSimulator({ name: 'obs', templates: ['centos-9'], imageCopyMs: 20, bootStepMs: 10, diskResizeMs: 10 });
  api = new OvirtClient({ endpoint: sim.url, credentials: sim.credentials });
  p = ovirtProvider({ client: new OvirtClient({ endpoint: sim.url, credentials: sim.credentials }), logger: pino({ level: 'silent' }), pollMs: 10 });
  await vm('obs-mine', true);
  await vm('obs-foreign', false);
});
afterAll(async () => {
  await p.close();
  await api.close();
  await sim.close();
});

describe('DiskClient.observe', () => {
  it('says create and attach for a missing disk, changes nothing, then up to date after ensure; a bigger size says grow', async () => {
    const disks = p.disks;
    if (!disks) throw new Error('the oVirt client has disks');
    const d = disk('data', { attachTo: 'obs-mine', storage: 'data1' });
    sim.resetStats();
    const before = await disks.observe(d);
    expect(before).toEqual({ exists: false, upToDate: false, intents: ['create disk vk-obs-data 1 GiB on data1', 'attach disk vk-obs-data to VM obs-mine'] });
    expect(writes()).toEqual([]);
    const made = await disks.ensure(d);
    const after = await disks.observe({ ...d, knownID: made.providerID });
    expect(after).toEqual({ exists: true, upToDate: true, state: { providerID: made.providerID, sizeBytes: GiB, attachedTo: 'obs-mine' }, intents: [] });
    sim.resetStats();
    const { attachTo: _detached, ...loose } = d;
    const bigger = await disks.observe({ ...loose, sizeBytes: 2 * GiB, knownID: made.providerID });
    expect(bigger.intents).toEqual(['grow disk vk-obs-data 1 GiB → 2 GiB', 'detach disk vk-obs-data from VM obs-mine']);
    expect(writes()).toEqual([]);
  });

  it('finds a disk by its known id, its name and its old name with one search', async () => {
    const disks = p.disks;
    if (!disks) throw new Error('the oVirt client has disks');
    const d = disk('once');
    const made = await disks.ensure(d);
    sim.resetStats();
    await disks.observe({ ...d, knownID: made.providerID, legacyName: 'vkdisk-obs-once' });
    expect(sim.stats()['GET /disks']).toBe(1);
    expect(sim.stats()['GET /disks/{id}']).toBeUndefined();
  });

  it("reports a namesake's disk and a VM it does not own as problems, not intents", async () => {
    const disks = p.disks;
    if (!disks) throw new Error('the oVirt client has disks');
    await api.call('POST', '/disks', { body: { alias: 'vk-obs-taken', provisioned_size: GiB, description: 'someone else', storage_domains: { storage_domain: [{ name: 'data1' }] } } });
    const taken = await disks.observe(disk('taken'));
    expect(taken.exists).toBe(false);
    expect(taken.upToDate).toBe(false);
    expect(taken.problem).toMatch(/exists on the engine and is not owned by VirtualDisk\/obs\/taken/);
    const foreign = await disks.observe(disk('theirs', { attachTo: 'obs-foreign' }));
    expect(foreign.problem).toBe('VM obs-foreign is not managed by virtkeeper; a disk is never attached to it');
    expect(foreign.intents).toEqual(['create disk vk-obs-theirs 1 GiB']);
  });
});

describe('NetworkClient.observe', () => {
  const net = (name: string, vlanId: number): DesiredNetwork => ({ key: `VirtualNetwork/obs/${name}`, owner: { kind: 'VirtualNetwork', namespace: 'obs', name }, name, vlanId });

  it('says create and attach for a missing network, changes nothing, then up to date after ensure', async () => {
    const networks = p.networks;
    if (!networks) throw new Error('the oVirt client has networks');
    sim.resetStats();
    const before = await networks.observe(net('vlan77', 77));
    expect(before).toMatchObject({ exists: false, upToDate: false, intents: ['create network vlan77 with VLAN 77 in data center Default', 'attach network vlan77 to cluster Default'] });
    expect(writes()).toEqual([]);
    await networks.ensure(net('vlan77', 77));
    expect(await networks.observe(net('vlan77', 77))).toMatchObject({ exists: true, upToDate: true, intents: [] });
  });

  it('reports a network of the name with another VLAN as a problem', async () => {
    const networks = p.networks;
    if (!networks) throw new Error('the oVirt client has networks');
    const o = await networks.observe(net('vlan77', 78));
    expect(o.upToDate).toBe(false);
    expect(o.problem).toMatch(/exists with VLAN 77, not 78/);
    expect(o.intents).toEqual([]);
  });
});
