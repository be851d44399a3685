// Volume ownership on a real libvirtd: a VM's volumes are the ones its domain's record names
// (never a name prefix), a template backing file is never someone's disk, a VirtualDisk's
// volume is proven by its owner sidecar, and a create cut short is finished, not refused.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredVM } from '../../controller/core/model.ts';
import { domainXml, ownedVolumes, parseDomain, volumeName } from '../../providers/libvirt/domain-xml.ts';
import { LibvirtProvider } from '../../providers/libvirt/provider.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import type { StoragePool } from '../../providers/libvirt/rpc/protocol.ts';
import type { DesiredStandaloneDisk } from '../../controller/core/provider.ts';
import { contractVM } from '../contract/provider-contract.ts';

const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
const s = Math.random().toString(36).slice(2, 6);
const P = `vk-own-${s}`;
const MiB = 2 ** 20;

describe.skipIf(!uri)('libvirt volume ownership', () => {
  let p: LibvirtProvider;
  let c: LibvirtConnection;
  let pool: StoragePool;
  const made: string[] = [];
  const domains: string[] = [];
  const vm = (name: string, disks: string[], extra: Partial<DesiredVM> = {}) =>
    contractVM(name, undefined, {
      runStrategy: 'Halted',
      memoryBytes: 64 * MiB,
      maxMemoryBytes: 64 * MiB,
      disks: disks.map((d, i) => ({ name: d, sizeBytes: 16 * MiB, interface: 'virtio', bootable: i === 0 })),
      ...extra,
    });
  const exists = (name: string) =>
    c.lookupVolume(pool, name).then(
      () => true,
      () => false,
    );
  const foreignVolume = async (name: string) => {
    made.push(name);
    await c.createVolume(pool, `<volume><name>${name}</name><capacity unit='bytes'>1048576</capacity><target><format type='qcow2'/></target></volume>`);
  };
  const create = async (v: DesiredVM) => {
    domains.push(v.name);
    await p.vms.execute({ type: 'create', vm: v, node: 'host1' });
    const found = (await p.vms.observe()).vms.find((x) => x.name === v.name);
    if (!found) throw new Error(`${v.name} not observed after create`);
    return { providerID: found.providerID, name: v.name, node: 'host1', owner: v.owner };
  };

  beforeAll(async () => {
    p = new LibvirtProvider({ hosts: [{ name: 'host1', uri }], logger: pino({ level: 'silent' }), domainType: 'qemu' });
    c = await LibvirtConnection.connect(uri);
    pool = await c.lookupPool('default');
  });
  afterAll(async () => {
    for (const n of domains) {
      const d = await c.lookupDomain(n).catch(() => undefined);
      if (!d) continue;
      const parsed = parseDomain(await c.xmlDesc(d));
      await c.undefine(d).catch(() => undefined);
      for (const v of [...parsed.disks.flatMap((x) => (x.volume ? [x.volume] : [])), ...(parsed.owned ?? []).map((o) => o.name)]) made.push(v);
    }
    for (const v of made) {
      const vol = await c.lookupVolume(pool, v).catch(() => undefined);
      if (vol) await c.deleteVolume(vol).catch(() => undefined);
    }
    await p.close();
    await c.close();
  });

  it('VM web with disk 1-root and VM web-1 with disk root get volumes of their own, and deleting web leaves web-1 and foreign volumes alone', async () => {
    expect(volumeName(P, '1-root')).not.toBe(volumeName(`${P}-1`, 'root'));
    const other = await create(vm(`${P}-1`, ['root']));
    const web = await create(vm(P, ['1-root']));
    // Someone else's volume, named the way the old prefix rule called the VM's, attached to web by hand.
    await foreignVolume(`${P}-data.qcow2`);
    const d = await c.lookupDomain(P);
    await c.attachDevice(d, `<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='default' volume='${P}-data.qcow2'/><target dev='vdb' bus='virtio'/></disk>`, 2);
    const observed = (await p.vms.observe()).vms.find((x) => x.name === P);
    // The foreign disk is not the VM's own: the planner leaves it alone.
    expect(observed?.disks.map((x) => [x.name, !!x.standalone])).toEqual([
      ['vda', false],
      ['vdb', true],
    ]);

    await p.vms.execute({ type: 'delete', target: web });
    expect(
      await c.lookupDomain(P).then(
        () => 'there',
        () => 'gone',
      ),
    ).toBe('gone');
    expect(await exists(volumeName(P, '1-root'))).toBe(false);
    expect(await exists(`${P}-data.qcow2`)).toBe(true);
    expect(await exists(volumeName(`${P}-1`, 'root'))).toBe(true);
    await p.vms.execute({ type: 'delete', target: other });
    expect(await exists(volumeName(`${P}-1`, 'root'))).toBe(false);
  }, 60_000);

  it('a domain made before records (old names) loses on delete only the volumes no other domain claims', async () => {
    // As today's main made them: web-root for web, web-1-root for web-1, and web-1-root also attached to web.
    const old = (name: string, vols: string[]) =>
      `<domain type='qemu'><name>${name}</name><metadata><vk:owner xmlns:vk='https://virtkeeper.io/xmlns/libvirt/1'>virtkeeper.io/owner=VirtualMachine/contract/${name}</vk:owner></metadata><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os><devices>${vols.map((v, i) => `<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='default' volume='${v}'/><target dev='vd${'ab'[i]}' bus='virtio'/></disk>`).join('')}</devices></domain>`;
    const W = `${P}-old`;
    for (const v of [`${W}-root.qcow2`, `${W}-1-root.qcow2`]) await foreignVolume(v);
    domains.push(W, `${W}-1`);
    await c.defineXML(old(`${W}-1`, [`${W}-1-root.qcow2`]));
    const d = await c.defineXML(old(W, [`${W}-root.qcow2`, `${W}-1-root.qcow2`]));
    const id = parseDomain(await c.xmlDesc(d)).uuid;
    await p.vms.execute({ type: 'delete', target: { providerID: id, name: W, node: 'host1', owner: { kind: 'VirtualMachine', namespace: 'contract', name: W } } });
    expect(await exists(`${W}-root.qcow2`)).toBe(false);
    expect(await exists(`${W}-1-root.qcow2`)).toBe(true);
  }, 60_000);

  it('refuses to create a VM over a volume of its name that it did not make, and leaves the volume', async () => {
    const name = `${P}-taken`;
    await foreignVolume(volumeName(name, 'root'));
    domains.push(name);
    await expect(p.vms.execute({ type: 'create', vm: vm(name, ['root']), node: 'host1' })).rejects.toThrow(/already exists in pool default .*never takes a volume it cannot prove/);
    expect(
      await c.lookupDomain(name).then(
        () => 'there',
        () => 'none',
      ),
    ).toBe('none');
    expect(await exists(volumeName(name, 'root'))).toBe(true);
  }, 30_000);

  it("never clones from a VirtualDisk or another VM's volume", async () => {
    const holder = await create(vm(`${P}-src`, ['root']));
    const viaVM = vm(`${P}-c1`, ['root'], { template: volumeName(`${P}-src`, 'root').replace(/\.qcow2$/, '') });
    domains.push(viaVM.name);
    await expect(p.vms.execute({ type: 'create', vm: viaVM, node: 'host1' })).rejects.toThrow(/is a disk of VM .*-src, not a template/);
    const disk = `vkdisk-own-${s}`;
    await foreignVolume(`${disk}.qcow2`);
    const viaDisk = vm(`${P}-c2`, ['root'], { template: disk });
    domains.push(viaDisk.name);
    await expect(p.vms.execute({ type: 'create', vm: viaDisk, node: 'host1' })).rejects.toThrow(/is a VirtualDisk, not a template/);
    for (const n of [viaVM.name, viaDisk.name])
      expect(
        await c.lookupDomain(n).then(
          () => 'there',
          () => 'none',
        ),
      ).toBe('none');
    await p.vms.execute({ type: 'delete', target: holder });
  }, 60_000);

  it('finishes a create cut short after the define: observed as incomplete until then, its recorded volumes taken as its own', async () => {
    const v = vm(`${P}-cut`, ['root', 'data']);
    domains.push(v.name);
    // The state a crash leaves: the domain defined with its record (creating), one volume made.
    const spec = { vm: v, type: 'qemu' as const, pool: 'default', bridge: 'br0', maxVcpus: 8, creating: true };
    await c.defineXML(domainXml(spec));
    expect(ownedVolumes(spec).map((o) => o.name)).toEqual([volumeName(v.name, 'root'), volumeName(v.name, 'data')]);
    await c.createVolume(pool, `<volume><name>${volumeName(v.name, 'root')}</name><capacity unit='bytes'>${16 * MiB}</capacity><target><format type='qcow2'/></target></volume>`);
    expect((await p.vms.observe()).vms.find((x) => x.name === v.name)).toMatchObject({ incomplete: true, busy: 'creating', node: 'host1' });
    await p.vms.execute({ type: 'create', vm: v, node: 'host1' });
    const seen = (await p.vms.observe()).vms.find((x) => x.name === v.name);
    expect(seen?.disks.map((x) => x.name)).toEqual(['vda', 'vdb']);
    expect(await exists(volumeName(v.name, 'data'))).toBe(true);
    await p.vms.execute({ type: 'start', target: { providerID: seen?.providerID ?? '', name: v.name, node: 'host1', owner: v.owner } });
    await p.vms.execute({ type: 'delete', target: { providerID: seen?.providerID ?? '', name: v.name, node: 'host1', owner: v.owner } });
    for (const d of ['root', 'data']) expect(await exists(volumeName(v.name, d))).toBe(false);
  }, 60_000);

  it('deletes a create cut short (its resource gone) with the volumes its record names', async () => {
    const v = vm(`${P}-cutdel`, ['root', 'data']);
    domains.push(v.name);
    await c.defineXML(domainXml({ vm: v, type: 'qemu', pool: 'default', bridge: 'br0', maxVcpus: 8, creating: true }));
    await c.createVolume(pool, `<volume><name>${volumeName(v.name, 'root')}</name><capacity unit='bytes'>${16 * MiB}</capacity><target><format type='qcow2'/></target></volume>`);
    const seen = (await p.vms.observe()).vms.find((x) => x.name === v.name);
    expect(seen?.incomplete).toBe(true);
    await p.vms.execute({ type: 'delete', target: { providerID: seen?.providerID ?? '', name: v.name, node: 'host1', owner: v.owner } });
    expect(
      await c.lookupDomain(v.name).then(
        () => 'there',
        () => 'gone',
      ),
    ).toBe('gone');
    expect(await exists(volumeName(v.name, 'root'))).toBe(false);
  }, 30_000);

  it('attaches and detaches a disk of the VM through its record; a detach of a foreign disk deletes nothing', async () => {
    const t = await create(vm(`${P}-ad`, ['root']));
    await p.vms.execute({ type: 'attachDisk', target: t, disk: { name: 'extra', sizeBytes: 16 * MiB, interface: 'virtio', bootable: false }, index: 1 });
    const rec = parseDomain(await c.xmlDesc(await c.lookupDomain(t.name)));
    expect(rec.owned?.map((o) => o.name)).toEqual([volumeName(t.name, 'root'), volumeName(t.name, 'extra')]);
    await p.vms.execute({ type: 'detachDisk', target: t, disk: 'vdb', index: 1 });
    expect(await exists(volumeName(t.name, 'extra'))).toBe(false);
    expect(parseDomain(await c.xmlDesc(await c.lookupDomain(t.name))).owned?.map((o) => o.name)).toEqual([volumeName(t.name, 'root')]);
    await foreignVolume(`${t.name}-x.qcow2`);
    await c.attachDevice(
      await c.lookupDomain(t.name),
      `<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='default' volume='${t.name}-x.qcow2'/><target dev='vdc' bus='virtio'/></disk>`,
      2,
    );
    await p.vms.execute({ type: 'detachDisk', target: t, disk: 'vdc', index: 1 });
    expect(await exists(`${t.name}-x.qcow2`)).toBe(true);
    await p.vms.execute({ type: 'delete', target: t });
  }, 60_000);

  describe('VirtualDisk volumes', () => {
    const want = (name: string, extra: Partial<DesiredStandaloneDisk> = {}): DesiredStandaloneDisk => ({
      key: `VirtualDisk/ns-${s}/${name}`,
      owner: { kind: 'VirtualDisk', namespace: `ns-${s}`, name },
      name: `vkdisk-ns-${s}-${name}`,
      sizeBytes: 8 * MiB,
      interface: 'virtio',
      ...extra,
    });

    it('are proven by their owner sidecar: another resource with the same volume name is refused, the owner deletes it', async () => {
      const a = want('a');
      made.push(`${a.name}.qcow2`, `${a.name}.owner`);
      const st = await p.disks.ensure(a);
      expect(st.providerID).toBe(`host1/default/${a.name}.qcow2`);
      expect(await exists(`${a.name}.owner`)).toBe(true);
      // Another namespace's resource given the same hypervisor name (the old vkdisk-ns-name collision).
      const b = { ...a, key: `VirtualDisk/ns/${s}-a`, owner: { kind: 'VirtualDisk', namespace: 'ns', name: `${s}-a` } };
      await expect(p.disks.ensure(b)).rejects.toThrow(/belongs to VirtualDisk ns-.*\/a, not to VirtualDisk ns\/.*-a; it is not touched/);
      await expect(p.disks.delete(b)).rejects.toThrow(/belongs to VirtualDisk ns-/);
      expect(await exists(`${a.name}.qcow2`)).toBe(true);
      await p.disks.delete(a);
      expect([await exists(`${a.name}.qcow2`), await exists(`${a.name}.owner`)]).toEqual([false, false]);
    }, 30_000);

    it('a volume without a sidecar is taken only when this resource reported it before (made by an older virtkeeper)', async () => {
      const old = want('old');
      await foreignVolume(`${old.name}.qcow2`);
      made.push(`${old.name}.owner`);
      await expect(p.disks.ensure(old)).rejects.toThrow(/exists without virtkeeper's owner record/);
      await expect(p.disks.delete(old)).rejects.toThrow(/exists without virtkeeper's owner record/);
      expect(await exists(`${old.name}.qcow2`)).toBe(true);
      const known = { ...old, knownID: `host1/default/${old.name}.qcow2` };
      await p.disks.ensure(known);
      expect(await exists(`${old.name}.owner`)).toBe(true);
      await p.disks.delete(old);
      expect(await exists(`${old.name}.qcow2`)).toBe(false);
    }, 30_000);
  });
});
