// The controller instance in the marker on real libvirtd (issue 12, item 15): a domain marked
// before instances is ours and gains the instance (virDomainSetMetadata, live and persistent);
// another instance is then refused and the domain left alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { parseDomain } from '../../providers/libvirt/domain-xml.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { DomainState } from '../../providers/libvirt/rpc/protocol.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
const name = `vk-inst-${Math.random().toString(36).slice(2, 6)}`;
const INACTIVE = 2; // VIR_DOMAIN_XML_INACTIVE: the persistent definition

describe.skipIf(!uri)('controller instance in the libvirt marker (real libvirtd)', () => {
  let f: ConvergeFolder;
  let other: ConvergeFolder;
  let c: LibvirtConnection;
  const hv = () => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: kvm}\nspec:\n  type: libvirt\n  hosts: [{name: host1, uri: "${uri}"}]\n  defaults: {storagePool: default}\n`;
  const vm = `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec:\n  hypervisor: kvm\n  cpu: {cores: 1}\n  memory: 128Mi\n  disks: [{name: root, size: 1Gi}]\n  guestAgent: false\n  runStrategy: Always\n`;
  const owner = async (flags = 0) => parseDomain(await c.xmlDesc(await c.lookupDomain(name), flags)).owner;

  beforeAll(async () => {
    f = await convergeFolder({ prefix: 'vk-inst-lv-', header: hv });
    other = await convergeFolder({ prefix: 'vk-inst-lv-', header: hv, timeoutMs: 5000 });
    c = await LibvirtConnection.connect(uri);
  });
  afterAll(async () => {
    await f.write();
    await converge({ ...f.opts, instance: 'lv-a' }).catch(() => undefined);
    const d = await c.lookupDomain(name).catch(() => undefined);
    if (d) {
      if ((await c.state(d)).state === DomainState.RUNNING) await c.destroy(d).catch(() => undefined);
      await c.undefine(d).catch(() => undefined);
    }
    await f.close();
    await other.close();
    await c.close();
  });

  it('upgrades a marker from before instances, then refuses another instance', async () => {
    await f.write(vm);
    expect((await converge(f.opts)).outcomes.filter((o) => !o.ready)).toEqual([]);
    expect((await owner())?.instance).toBeUndefined();

    expect((await converge({ ...f.opts, instance: 'lv-a' })).outcomes.filter((o) => !o.ready)).toEqual([]);
    expect(await owner()).toEqual({ kind: 'VirtualMachine', namespace: 'default', name, instance: 'lv-a' });
    expect((await owner(INACTIVE))?.instance).toBe('lv-a');

    await other.write(vm);
    const r = await converge({ ...other.opts, instance: 'lv-b' });
    expect(r.outcomes.find((o) => o.key === `VirtualMachine/default/${name}`)?.error?.code).toBe('VK_REFUSED_OWNED_ELSEWHERE');
    expect((await owner())?.instance).toBe('lv-a');
  }, 120_000);
});
