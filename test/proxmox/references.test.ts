// A VM that names a VirtualNetwork or VMTemplate which cannot be resolved now (its file does not
// validate, it is held from a broken file, it is no longer declared) waits with a condition that
// says why; the name is never taken for a raw bridge. On the Proxmox simulator over HTTP.
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

describe('references that cannot be resolved wait (Proxmox)', () => {
  let sim: RunningProxmoxSimulator;
  let folder: ConvergeFolder;
  let opts: ConvergeOptions;
  const hv = () => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n`;
  const vm = (name: string, network: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec: {hypervisor: pve, template: ubuntu-24.04, memory: 1Gi, networks: [{name: nic0, network: ${network}}]}\n`;
  const net = (name: string, vlan: number | string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualNetwork\nmetadata: {name: ${name}}\nspec:\n  vlanId: ${vlan}\n  hypervisors:\n    - {hypervisor: pve, bridge: vmbr0}\n`;
  const guest = (name: string) => sim.dump().vms.find((v) => v.config.name === name);
  const ready = async (key: string) =>
    ((await opts.statuses.read(key))?.status as { conditions?: { type: string; status: string; message: string }[] } | undefined)?.conditions?.find((c) => c.type === 'Ready');

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5 }, agentDelayMs: 0 });
    folder = await convergeFolder({
      prefix: 'vk-refs-',
      header: hv,
      credentials: directoryCredentials({ VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` }),
      timeoutMs: 3000,
      sleepCapMs: 50,
    });
    opts = folder.opts;
  });
  afterAll(async () => {
    await folder.close();
    await sim.close();
  });

  it('a VirtualNetwork in a file that fails validation: the VM waits naming the file, nothing is made', async () => {
    await folder.write(vm('r1', 'hold-vlan-321'));
    await writeFile(join(folder.dir, 'net.yaml'), net('hold-vlan-321', 'not-a-number'));
    const planned = await converge({ ...opts, dryRun: true, wait: false });
    const p = planned.outcomes.find((o) => o.key === 'VirtualMachine/default/r1');
    expect(p?.plan?.steps ?? []).toEqual([]);
    expect(p?.plan?.waiting).toMatch(/^VirtualNetwork hold-vlan-321 does not validate: net\.yaml:\d+: /);
    const r = await converge({ ...opts, wait: false });
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/r1')?.ready).toBe(false);
    expect(guest('r1')).toBeUndefined();
    expect((await ready('VirtualMachine/default/r1'))?.message).toMatch(/VirtualNetwork hold-vlan-321 does not validate: net\.yaml:\d+: VirtualNetwork hold-vlan-321 spec\.vlanId/);
    // Fixed: the VM is made on the network's bridge and VLAN.
    await writeFile(join(folder.dir, 'net.yaml'), net('hold-vlan-321', 321));
    await converge(opts);
    expect(guest('r1')?.config.net0).toMatch(/bridge=vmbr0.*tag=321|tag=321.*bridge=vmbr0/);
  });

  it('a VirtualNetwork held from a broken file, or being removed: a new VM waits', async () => {
    // r1 and its network are in place (the first test); the network's file breaks: it is held.
    await writeFile(join(folder.dir, 'net.yaml'), 'kind: [broken');
    await writeFile(join(folder.dir, 'r2.yaml'), vm('r2', 'hold-vlan-321'));
    let r = await converge({ ...opts, wait: false });
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/r2')?.plan?.waiting).toMatch(/^VirtualNetwork hold-vlan-321 is held as it was: net\.yaml:1: /);
    expect(guest('r2')).toBeUndefined();
    // The file goes: the network is being removed, and a VM made in the same pass does not fall back to a bridge of its name.
    await unlink(join(folder.dir, 'net.yaml'));
    await writeFile(join(folder.dir, 'r3.yaml'), vm('r3', 'hold-vlan-321'));
    r = await converge({ ...opts, wait: false });
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/r3')?.plan?.waiting).toMatch(/VirtualNetwork hold-vlan-321 is no longer declared/);
    expect(guest('r3')).toBeUndefined();
  });
});
