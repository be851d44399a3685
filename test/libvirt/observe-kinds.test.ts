// The read-only looks `plan` takes at VirtualDisks and VirtualNetworks on a real libvirtd: they
// say what ensure would do (and why it would not), change nothing, and finding where a disk is
// attached costs the same however many other domains a host has.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredNetwork, DesiredStandaloneDisk } from '../../controller/core/provider.ts';
import { parseDomain } from '../../providers/libvirt/domain-xml.ts';
import { LibvirtProvider } from '../../providers/libvirt/provider.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import type { StoragePool } from '../../providers/libvirt/rpc/protocol.ts';
import { contractVM } from '../contract/provider-contract.ts';

const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
const s = Math.random().toString(36).slice(2, 6);
const MiB = 2 ** 20;

describe.skipIf(!uri)('libvirt disks.observe and networks.observe', () => {
  let p: LibvirtProvider;
  let c: LibvirtConnection;
  let pool: StoragePool;
  const domains: string[] = [];
  const volumes: string[] = [];
  const vmName = `vk-obsk-${s}`;
  const disk = (extra: Partial<DesiredStandaloneDisk> = {}): DesiredStandaloneDisk => ({
    key: `VirtualDisk/ns-${s}/data`,
    owner: { kind: 'VirtualDisk', namespace: `ns-${s}`, name: 'data' },
    name: `vkdisk-obsk-${s}`,
    sizeBytes: 16 * MiB,
    interface: 'virtio',
    attachTo: vmName,
    ...extra,
  });
  const volumeThere = (name: string) =>
    c.lookupVolume(pool, name).then(
      () => true,
      () => false,
    );
  const foreign = async (name: string, diskFile?: string) => {
    domains.push(name);
    const dev = diskFile ? `<devices><disk type='file' device='disk'><source file='${diskFile}'/><target dev='vda' bus='virtio'/></disk></devices>` : '';
    await c.defineXML(`<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os>${dev}</domain>`);
  };

  beforeAll(async () => {
    p = new LibvirtProvider({ hosts: [{ name: 'host1', uri }], logger: pino({ level: 'silent' }), domainType: 'qemu' });
    c = await LibvirtConnection.connect(uri);
    pool = await c.lookupPool('default');
    const vm = contractVM(vmName, undefined, {
      runStrategy: 'Halted',
      memoryBytes: 64 * MiB,
      maxMemoryBytes: 64 * MiB,
      disks: [{ name: 'root', sizeBytes: 16 * MiB, interface: 'virtio', bootable: true }],
    });
    domains.push(vmName);
    await p.vms.execute({ type: 'create', vm, node: 'host1' });
  });
  afterAll(async () => {
    await p.disks.delete(disk()).catch(() => undefined);
    for (const n of domains) {
      const d = await c.lookupDomain(n).catch(() => undefined);
      if (!d) continue;
      const parsed = parseDomain(await c.xmlDesc(d));
      await c.undefine(d).catch(() => undefined);
      volumes.push(...(parsed.owned ?? []).map((o) => o.name));
    }
    for (const v of volumes) {
      const vol = await c.lookupVolume(pool, v).catch(() => undefined);
      if (vol) await c.deleteVolume(vol).catch(() => undefined);
    }
    await p.close();
    await c.close();
  }, 60_000);

  it('says a disk would be made and attached, makes nothing; then up to date; then a grow', async () => {
    const want = disk();
    const before = await p.disks.observe(want);
    expect(before).toMatchObject({ exists: false, upToDate: false });
    expect(before.intents).toEqual([`create volume ${want.name}.qcow2 16 MiB in pool default on host1`, `attach to ${vmName}`]);
    expect([await volumeThere(`${want.name}.qcow2`), await volumeThere(`${want.name}.owner`)]).toEqual([false, false]);

    await p.disks.ensure(want);
    expect(await p.disks.observe(want)).toMatchObject({ exists: true, upToDate: true, intents: [], state: { attachedTo: vmName, sizeBytes: 16 * MiB } });

    const bigger = await p.disks.observe(disk({ sizeBytes: 32 * MiB }));
    expect(bigger).toMatchObject({ upToDate: false, intents: ['grow 16 MiB → 32 MiB'] });
    expect(Number((await c.volumeInfo(await c.lookupVolume(pool, `${want.name}.qcow2`))).capacity)).toBe(16 * MiB);
  }, 60_000);

  it('finds where a disk is attached with the same number of calls however many other domains there are', async () => {
    // A disk attached nowhere: every domain of the host is looked at before that is known.
    const loose = disk({ key: `VirtualDisk/ns-${s}/spare`, owner: { kind: 'VirtualDisk', namespace: `ns-${s}`, name: 'spare' }, name: `vkdisk-obsk-${s}-spare` });
    delete loose.attachTo;
    await p.disks.ensure(loose);
    const conn = await p.conn('host1');
    const count = async () => {
      const at = conn.calls;
      expect(await p.disks.observe(loose)).toMatchObject({ upToDate: true });
      return conn.calls - at;
    };
    const few = await count();
    const path = await c.volumePath(await c.lookupVolume(pool, `${loose.name}.qcow2`));
    for (let i = 0; i < 5; i++) await foreign(`vk-obsk-${s}-other${i}`, i === 0 ? `${path}.elsewhere` : undefined);
    try {
      expect(await count()).toBe(few);
    } finally {
      await p.disks.delete(loose);
    }
  }, 60_000);

  it('finds a disk in a stopped domain defined with it (libvirt names no path for its volume then)', async () => {
    const shared = disk({ key: `VirtualDisk/ns-${s}/shared`, owner: { kind: 'VirtualDisk', namespace: `ns-${s}`, name: 'shared' }, name: `vkdisk-obsk-${s}-shared` });
    delete shared.attachTo;
    await p.disks.ensure(shared);
    const holder = `vk-obsk-${s}-holder`;
    domains.push(holder);
    await c.defineXML(
      `<domain type='qemu'><name>${holder}</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os><devices><disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='default' volume='${shared.name}.qcow2'/><target dev='vda' bus='virtio'/></disk></devices></domain>`,
    );
    try {
      const seen = await p.disks.observe({ ...shared, attachTo: vmName });
      expect(seen).toMatchObject({ exists: true, upToDate: false, intents: [] });
      expect(seen.problem).toBe(`attached to ${holder}, which virtkeeper does not manage: it is not detached`);
    } finally {
      await c.undefine(await c.lookupDomain(holder));
      await p.disks.delete(shared);
    }
  }, 60_000);

  it('reports, without acting, a disk attached to a VM virtkeeper does not manage', async () => {
    const stranger = `vk-obsk-${s}-stranger`;
    const want = disk({ key: `VirtualDisk/ns-${s}/loose`, owner: { kind: 'VirtualDisk', namespace: `ns-${s}`, name: 'loose' }, name: `vkdisk-obsk-${s}-loose`, attachTo: stranger });
    await foreign(stranger);
    const seen = await p.disks.observe(want);
    expect(seen).toMatchObject({ exists: false, upToDate: false, intents: [] });
    expect(seen.problem).toMatch(/is not managed by virtkeeper/);
    expect(await volumeThere(`${want.name}.owner`)).toBe(false);
  });

  it('says a network would be defined, defines nothing; reports one with another VLAN', async () => {
    const n: DesiredNetwork = { key: `VirtualNetwork/ns-${s}/v`, owner: { kind: 'VirtualNetwork', namespace: `ns-${s}`, name: 'v' }, name: `vk-obsk-${s}`, vlanId: 3001 };
    const seen = await p.networks.observe(n);
    expect(seen).toMatchObject({ exists: false, upToDate: false, intents: [`define network ${n.name} (VLAN 3001 on ovsbr0) on host1, start it, autostart it`] });
    expect(
      await c.lookupNetwork(n.name).then(
        () => 'defined',
        () => 'absent',
      ),
    ).toBe('absent');
    const net = await c.defineNetwork(`<network><name>${n.name}</name><forward mode='bridge'/><bridge name='ovsbr0'/><virtualport type='openvswitch'/><vlan><tag id='3002'/></vlan></network>`);
    try {
      const other = await p.networks.observe(n);
      expect(other).toMatchObject({ exists: true, upToDate: false, intents: [] });
      expect(other.problem).toMatch(/carries VLAN 3002, not 3001; virtkeeper does not change a network it did not create/);
    } finally {
      await c.undefineNetwork(net);
    }
  });
});
