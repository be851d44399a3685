// VirtualNetwork and VMTemplate fromVirtualMachine on a real libvirtd: a VLAN network made
// on the host (Open vSwitch bridge mode with the tag), a VM whose NIC joins it, the network
// kept while a VM uses it; a template copied from a stopped VM's disk and a VM cloned on it.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { volumeName } from '../../providers/libvirt/domain-xml.ts';

const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
const s = Math.random().toString(36).slice(2, 6);
const NET = `vk-test-vlan-${s}`;
const VM = `vk-test-onvlan-${s}`;
const BUILDER = `vk-test-builder-${s}`;
const GOLD = `vk-test-gold-${s}`;
const CLONE = `vk-test-fromgold-${s}`;

describe.skipIf(!uri)('VirtualNetwork and VMTemplate fromVirtualMachine on libvirt', () => {
  let opts: ConvergeOptions;
  let c: LibvirtConnection;
  const hv = `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: kvm}\nspec: {type: libvirt, hosts: [{name: host1, uri: "${uri}"}]}\n`;
  let folder: ConvergeFolder;
  const write = (...docs: string[]) => folder.write(...docs);

  beforeAll(async () => {
    folder = await convergeFolder({ prefix: 'vk-vnet-', header: () => hv });
    ({ opts } = folder);
    c = await LibvirtConnection.connect(uri);
  });
  afterAll(async () => {
    await write();
    await converge(opts).catch(() => undefined);
    const p = await c.lookupPool('default');
    const vol = await c.lookupVolume(p, `${GOLD}.qcow2`).catch(() => undefined);
    if (vol) await c.deleteVolume(vol);
    const net = await c.lookupNetwork(NET).catch(() => undefined);
    if (net) {
      if (await c.networkActive(net)) await c.stopNetwork(net);
      await c.undefineNetwork(net);
    }
    await folder.close();
    await c.close();
  });

  it('makes a VLAN network on the host, puts a VM on it, and removes it once no VM uses it', async () => {
    const net = `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualNetwork\nmetadata: {name: ${NET}}\nspec: {vlanId: 120, hypervisors: [{hypervisor: kvm}]}\n`;
    // Halted: starting it would need the Open vSwitch bridge, which this test host does not run.
    const vm = `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${VM}}\nspec: {hypervisor: kvm, memory: 128Mi, disks: [{name: root, size: 64Mi}], networks: [{name: net0, network: ${NET}}], guestAgent: false, runStrategy: Halted}\n`;
    await write(net, vm);
    const r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.plan?.waiting ?? o.key)).toEqual([]);
    const n = await c.lookupNetwork(NET);
    const xml = await c.networkXml(n);
    expect(xml).toMatch(/<tag id=['"]120['"]\/>/);
    expect(xml).toContain(`virtkeeper.io/owner=VirtualNetwork/${NET}`);
    expect([await c.networkActive(n), await c.networkAutostart(n)]).toEqual([true, true]);
    expect(await c.xmlDesc(await c.lookupDomain(VM))).toMatch(new RegExp(`<interface type=['"]network['"]>[\\s\\S]*<source network=['"]${NET}['"]`));
    expect((await opts.statuses.read(`VirtualNetwork/${NET}`))?.status).toMatchObject({ hypervisors: [{ name: 'kvm', present: true, providerIDs: [`host1/${NET}`] }] });

    // A second pass changes nothing.
    const again = await converge(opts);
    expect(again.outcomes.flatMap((o) => o.plan?.steps.map((x) => x.action.type) ?? [])).toEqual([]);

    // The network goes after the VM on it.
    await write();
    await converge(opts);
    expect(
      await c.lookupNetwork(NET).then(
        () => 'left',
        () => 'gone',
      ),
    ).toBe('gone');
  }, 90_000);

  it('reports a network that exists with another VLAN and leaves it alone', async () => {
    await c.defineNetwork(`<network><name>${NET}</name><forward mode='bridge'/><bridge name='ovsbr0'/><virtualport type='openvswitch'/><vlan><tag id='7'/></vlan></network>`);
    await write(`apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualNetwork\nmetadata: {name: ${NET}}\nspec: {vlanId: 120, hypervisors: [{hypervisor: kvm}]}\n`);
    await converge({ ...opts, timeoutMs: 1500 });
    const st = await opts.statuses.read(`VirtualNetwork/${NET}`);
    expect(JSON.stringify(st?.status)).toMatch(/carries VLAN 7, not 120/);
    await write();
    await converge(opts);
    // Not virtkeeper's: still there.
    expect(await c.networkXml(await c.lookupNetwork(NET))).toMatch(/<tag id=['"]7['"]/);
  }, 60_000);

  it('makes a template from a stopped VM and clones from it', async () => {
    const builder = (run: string) =>
      `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${BUILDER}}\nspec: {hypervisor: kvm, memory: 128Mi, disks: [{name: root, size: 96Mi}], guestAgent: false, runStrategy: ${run}}\n`;
    const tpl = `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: ${GOLD}}\nspec: {hypervisor: kvm, source: {fromVirtualMachine: ${BUILDER}}, require: {minDisk: 64Mi}}\n`;
    const clone = `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${CLONE}}\nspec: {hypervisor: kvm, template: ${GOLD}, clone: linked, memory: 128Mi, disks: [{name: root, size: 128Mi}], guestAgent: false, runStrategy: Halted}\n`;
    await write(builder('Always'), tpl, clone);
    await converge({ ...opts, timeoutMs: 3000 });
    expect(JSON.stringify((await opts.statuses.read(`VMTemplate/${GOLD}`))?.status)).toMatch(/waiting for VM .* to stop/);
    expect(
      await c.lookupDomain(CLONE).then(
        () => 'made',
        () => 'not made',
      ),
    ).toBe('not made');

    await write(builder('Halted'), tpl, clone);
    const r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.plan?.waiting ?? o.key)).toEqual([]);
    const gold = await c.lookupVolume(await c.lookupPool('default'), `${GOLD}.qcow2`);
    expect(Number((await c.volumeInfo(gold)).capacity)).toBe(96 * 2 ** 20);
    const path = await c.volumePath(await c.lookupVolume(await c.lookupPool('default'), volumeName(CLONE, 'root')));
    const info = JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output', 'json', path]).toString()) as { 'backing-filename'?: string };
    expect(info['backing-filename']).toMatch(new RegExp(`${GOLD}\\.qcow2$`));
    // The builder stays a VM of its own on libvirt (its disk was copied, not taken).
    expect(
      await c.lookupDomain(BUILDER).then(
        () => 'there',
        () => 'gone',
      ),
    ).toBe('there');
  }, 90_000);
});
