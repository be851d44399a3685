// The deletion guard on the Proxmox simulator over HTTP: an emptied folder destroys nothing,
// disks included (they pass the same guard as VMs), and repetition does not pass it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

describe('deletion guard on Proxmox', () => {
  let sim: RunningProxmoxSimulator;
  let folder: ConvergeFolder;
  let opts: ConvergeOptions;
  const hv = () => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n`;
  const vm = (name: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec: {hypervisor: pve, template: ubuntu-24.04, memory: 1Gi, disks: [{name: root, size: 8Gi}]}\n`;
  const disk = (name: string, vmName: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualDisk\nmetadata: {name: ${name}}\nspec: {hypervisor: pve, size: 2Gi, storage: local-lvm, attachTo: {vm: ${vmName}}}\n`;
  const names = () =>
    sim
      .dump()
      .vms.filter((v) => !v.config.template)
      .map((v) => v.config.name)
      .sort();
  /** Every volume the simulator holds that carries a VirtualDisk's name, attached or not. */
  const diskVolumes = () => {
    const s = sim.dump();
    const attached = s.vms.flatMap((v) => Object.values(v.config).filter((x) => /^local-lvm:.*vkdisk/.test(x)));
    return [...attached, ...Object.keys(s.volumeSizes ?? {}).filter((x) => x.includes('vkdisk'))];
  };

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5 }, agentDelayMs: 0 });
    folder = await convergeFolder({
      prefix: 'vk-pguard-',
      header: hv,
      credentials: directoryCredentials({ VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` }),
      timeoutMs: 20_000,
      sleepCapMs: 50,
    });
    opts = { ...folder.opts, maxDeleteShare: 0.3 };
  });
  afterAll(async () => {
    await folder.close();
    await sim.close();
  });

  it('an emptied folder destroys neither the VMs nor the disks attached to them', async () => {
    await folder.write(vm('g1'), vm('g2'), vm('g3'), vm('g4'), disk('d1', 'g1'), disk('d2', 'g2'));
    const made = await converge(opts);
    expect(made.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(names()).toEqual(['g1', 'g2', 'g3', 'g4']);
    expect(diskVolumes()).toHaveLength(2);

    await folder.write();
    const r = await converge(opts);
    expect(r.guard).toMatch(/refusing 6 removals of 6 managed/);
    const held = r.outcomes.filter((o) => o.removal).map((o) => [o.key, o.error?.code]);
    expect(held).toEqual(
      expect.arrayContaining([
        ['VirtualDisk/default/d1', 'VK_DELETE_GUARD'],
        ['VirtualDisk/default/d2', 'VK_DELETE_GUARD'],
        ['VirtualMachine/default/g1', 'VK_DELETE_GUARD'],
      ]),
    );
    expect(names()).toEqual(['g1', 'g2', 'g3', 'g4']);
    expect(diskVolumes()).toHaveLength(2);
    // The refusal is where people look: the record of each held resource says why.
    expect((await opts.statuses.read('VirtualDisk/default/d1'))?.problems?.[0]).toMatch(/^removal held: refusing 6 removals/);
  });

  it('passes of one removal each stop at the share within the window', async () => {
    await folder.write(vm('g1'), vm('g2'), vm('g3'), vm('g4'), disk('d1', 'g1'), disk('d2', 'g2'));
    await converge(opts);
    // Six managed: the allowance lets one go, then the second removal in the hour is over 30%.
    await folder.write(vm('g1'), vm('g2'), vm('g3'), disk('d1', 'g1'), disk('d2', 'g2'));
    expect((await converge(opts)).guard).toBeUndefined();
    expect(names()).toEqual(['g1', 'g2', 'g3']);
    await folder.write(vm('g1'), vm('g2'), disk('d1', 'g1'), disk('d2', 'g2'));
    const second = await converge(opts);
    expect(second.guard).toMatch(/refusing 2 removals of 6 managed .*and 1 done earlier/);
    expect(names()).toEqual(['g1', 'g2', 'g3']);
  });

  it('a Hypervisor removed with its disk: the disk is held (record kept, volume kept), never forgotten as removed', async () => {
    await folder.write(vm('g1'), disk('d1', 'g1'));
    await converge({ ...opts, maxDeleteShare: 1 });
    expect(diskVolumes()).toHaveLength(1);
    // The folder now declares another Hypervisor only (convergeFolder's header is pve): written by hand.
    await writeFile(join(folder.dir, 'all.yaml'), hv().replace('name: pve}', 'name: other}'));
    const r = await converge({ ...opts, maxDeleteShare: 1, wait: true, timeoutMs: 2000 });
    expect(r.timedOut).toBe(false);
    for (const key of ['VirtualDisk/default/d1', 'VirtualMachine/default/g1'])
      expect(r.outcomes.find((o) => o.key === key)).toMatchObject({ ready: false, final: true, error: { code: 'VK_HYPERVISOR_GONE' } });
    expect(await opts.statuses.read('VirtualDisk/default/d1')).toBeDefined();
    expect(diskVolumes()).toHaveLength(1);
  });
});
