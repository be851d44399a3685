// Two controller instances (two folders) that both declare VirtualDisk default/data on one
// Proxmox simulator: the disk is the first one's; the second never attaches, moves or deletes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

describe('VirtualDisks of two controller instances (Proxmox)', () => {
  let sim: RunningProxmoxSimulator;
  let first: ConvergeFolder;
  let second: ConvergeFolder;
  const hv = () => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n`;
  const vm = (name: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec: {hypervisor: pve, template: ubuntu-24.04, memory: 1Gi, disks: [{name: root, size: 8Gi}]}\n`;
  const disk = (vmName: string) => `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualDisk\nmetadata: {name: data}\nspec: {hypervisor: pve, size: 2Gi, storage: local-lvm, attachTo: {vm: ${vmName}}}\n`;
  const holders = () =>
    sim
      .dump()
      .vms.filter((v) => Object.entries(v.config).some(([k, x]) => k !== 'description' && x.includes('vkdisk')))
      .map((v) => v.config.name);

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5 }, agentDelayMs: 0 });
    const credentials = directoryCredentials({ VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` });
    first = await convergeFolder({ prefix: 'vk-dinst-a-', header: hv, credentials, timeoutMs: 10_000, sleepCapMs: 50 });
    second = await convergeFolder({ prefix: 'vk-dinst-b-', header: hv, credentials, timeoutMs: 3000, sleepCapMs: 50 });
  });
  afterAll(async () => {
    await first.close();
    await second.close();
    await sim.close();
  });

  it("the second instance neither takes nor deletes the first one's disk", async () => {
    await first.write(vm('inst-a'), disk('inst-a'));
    const a = await converge({ ...first.opts, instance: 'inst-1' });
    expect(a.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(holders()).toEqual(['inst-a']);
    const marker = Object.values(sim.dump().vms.find((v) => v.config.name === 'inst-a')?.config ?? {}).join('\n');
    expect(marker).toMatch(/VirtualDisk\/default\/data@inst-1/);

    await second.write(vm('inst-b'), disk('inst-b'));
    const b = await converge({ ...second.opts, instance: 'inst-2' });
    expect(b.outcomes.find((o) => o.key === 'VirtualDisk/default/data')?.ready).toBe(false);
    expect(holders()).toEqual(['inst-a']);
    // The second folder forgets its disk: the first instance's volume stays where it is.
    await second.write(vm('inst-b'));
    await converge({ ...second.opts, instance: 'inst-2' });
    expect(holders()).toEqual(['inst-a']);
  });
});
