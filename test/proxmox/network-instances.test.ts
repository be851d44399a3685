// Two controller instances (two folders) that both declare VirtualNetwork vlan160 as an SDN vnet
// on one Proxmox simulator: the vnet is the first one's; the second forgetting it removes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

describe('VirtualNetworks of two controller instances (Proxmox SDN)', () => {
  let sim: RunningProxmoxSimulator;
  let first: ConvergeFolder;
  let second: ConvergeFolder;
  const hv = () => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n`;
  const net =
    'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualNetwork\nmetadata: {name: vlan160}\nspec:\n  vlanId: 160\n  hypervisors:\n    - {hypervisor: pve, sdn: {zone: vkzone, vnet: vlan160}}\n';
  const vnets = () => sim.dump().sdn.vnets.map((v) => [v.vnet, v.alias]);

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5 } });
    const credentials = directoryCredentials({ VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` });
    first = await convergeFolder({ prefix: 'vk-ninst-a-', header: hv, credentials, timeoutMs: 10_000, sleepCapMs: 50 });
    second = await convergeFolder({ prefix: 'vk-ninst-b-', header: hv, credentials, timeoutMs: 10_000, sleepCapMs: 50 });
  });
  afterAll(async () => {
    await first.close();
    await second.close();
    await sim.close();
  });

  it('the second instance forgetting the network removes nothing; the first one removing it does', async () => {
    await first.write(net);
    await converge({ ...first.opts, instance: 'inst-1' });
    expect(vnets()).toEqual([['vlan160', 'virtkeeper VirtualNetwork-vlan160-inst-1']]);
    await second.write(net);
    await converge({ ...second.opts, instance: 'inst-2' });
    await second.write();
    await converge({ ...second.opts, instance: 'inst-2' });
    expect(vnets()).toEqual([['vlan160', 'virtkeeper VirtualNetwork-vlan160-inst-1']]);
    await first.write();
    await converge({ ...first.opts, instance: 'inst-1' });
    expect(vnets()).toEqual([]);
  });
});
