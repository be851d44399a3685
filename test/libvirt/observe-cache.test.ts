// The observation's cache of domain XML on a real libvirtd: a domain seen half-made (its
// record says `creating`) whose create then finished, with stats that did not move, is read
// again once a create finds it made; else it would stay "incomplete" and be finished forever
// (200 domains at once in bench/libvirt.ts left a few so, waiting for the apply's timeout).
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetadataType } from '../../providers/libvirt/rpc/protocol.ts';
import { parseDomain, VOLUMES_KEY, VOLUMES_NS, volumesRecordXml } from '../../providers/libvirt/domain-xml.ts';
import { LibvirtProvider } from '../../providers/libvirt/provider.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { contractVM } from '../contract/provider-contract.ts';

const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
const s = Math.random().toString(36).slice(2, 6);
const MiB = 2 ** 20;

describe.skipIf(!uri)('libvirt observation cache', () => {
  let p: LibvirtProvider;
  let c: LibvirtConnection;
  const name = `vk-ocache-${s}`;
  const vm = contractVM(name, undefined, {
    runStrategy: 'Halted',
    memoryBytes: 64 * MiB,
    maxMemoryBytes: 64 * MiB,
    disks: [{ name: 'root', sizeBytes: 16 * MiB, interface: 'virtio', bootable: true }],
  });
  const observed = async (by = p) => (await by.vms.observe()).vms.find((v) => v.name === name);

  beforeAll(async () => {
    p = new LibvirtProvider({ hosts: [{ name: 'host1', uri }], logger: pino({ level: 'silent' }) });
    c = await LibvirtConnection.connect(uri);
  });
  afterAll(async () => {
    const seen = await observed();
    if (seen) await p.vms.execute({ type: 'delete', target: { providerID: seen.providerID, name, node: 'host1', owner: vm.owner } });
    await p.close();
    await c.close();
  }, 60_000);

  it('a domain seen half-made is read again when a create finds it finished', async () => {
    await p.vms.execute({ type: 'create', vm, node: 'host1' });
    const d = await c.lookupDomain(name);
    const owned = parseDomain(await c.xmlDesc(d)).owned ?? [];
    const record = (creating: boolean) => c.setMetadata(d, { type: MetadataType.ELEMENT, xml: volumesRecordXml(owned, creating), key: VOLUMES_KEY, uri: VOLUMES_NS, flags: 2 });
    // Seen while still being made (a fresh provider reads it so)...
    await record(true);
    const fresh = new LibvirtProvider({ hosts: [{ name: 'host1', uri }], logger: pino({ level: 'silent' }) });
    try {
      expect(await observed(fresh)).toMatchObject({ incomplete: true });
      // ...then finished, its stats unchanged: the planner asks to finish it, and create finds it done.
      await record(false);
      await fresh.vms.execute({ type: 'create', vm, node: 'host1' });
      expect((await observed(fresh))?.incomplete).toBeUndefined();
    } finally {
      await fresh.close();
    }
  }, 60_000);
});
