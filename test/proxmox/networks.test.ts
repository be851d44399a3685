// VirtualNetwork on Proxmox and oVirt simulators: a VLAN made available, VMs waiting for it,
// removal only of what virtkeeper made.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { renderPlan } from '../../controller/cli/render-plan.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { loadConnector } from '../../providers/registry.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';

describe('VirtualNetwork on Proxmox and oVirt', () => {
  let pve: RunningProxmoxSimulator;
  let ovirt: RunningOvirtSimulator;
  let dir: string;
  let opts: ConvergeOptions;
  let pool: HypervisorPool;
  const hvs = () =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${pve.url}", credentialsRef: {env: PVE}}\n---\napiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: e15}\nspec: {type: ovirt, endpoint: "${ovirt.url}", credentialsRef: {env: E15}, defaults: {cluster: Default, datacenter: Default}}\n`;
  const net = (name: string, vlan: number, bindings: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualNetwork\nmetadata: {name: ${name}}\nspec:\n  vlanId: ${vlan}\n  hypervisors:\n${bindings}`;
  const vm = (name: string, hv: string, tpl: string, network: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec: {hypervisor: ${hv}, template: ${tpl}, memory: 1Gi, networks: [{name: eth0, network: ${network}}]}\n`;
  const write = (...docs: string[]) => writeFile(join(dir, 'all.yaml'), [hvs(), ...docs].join('---\n'));

  beforeAll(async () => {
    pve = await startProxmoxSimulator({ nodes: 2, templates: ['ubuntu-24.04'], taskDurations: { default: 5, qmclone: 20 } });
    ovirt = await startOvirtSimulator({ name: 'e15', templates: ['centos-9'], imageCopyMs: 50, bootStepMs: 10 });
    dir = await mkdtemp(join(tmpdir(), 'vk-net-'));
    const env = {
      VIRTKEEPER_PVE_TOKEN: `${pve.credentials.tokenId}=${pve.credentials.tokenSecret}`,
      VIRTKEEPER_E15_USERNAME: ovirt.credentials.username,
      VIRTKEEPER_E15_PASSWORD: ovirt.credentials.password,
    };
    pool = new HypervisorPool({ loadConnector, credentials: directoryCredentials(env), logger: pino({ level: 'silent' }), now: Date.now, observeMaxAgeMs: 0 });
    opts = {
      folder: dir,
      statuses: new StateDir(`${dir}-state`),
      hypervisors: pool,
      logger: pino({ level: 'silent' }),
      now: Date.now,
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 100))),
      wait: true,
      timeoutMs: 20_000,
      maxDeleteShare: 1,
    };
  });
  afterAll(async () => {
    await pool.closeAll();
    await pve.close();
    await ovirt.close();
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-state`, { recursive: true, force: true });
  });

  it('creates an SDN vnet and an oVirt logical network with the VLAN; VMs land on them', async () => {
    await write(
      net('vlan130', 130, '    - {hypervisor: pve, sdn: {zone: vkzone, vnet: vlan130}}\n    - {hypervisor: e15, clusters: [{name: Default, required: false}]}\n'),
      vm('pve-app', 'pve', 'ubuntu-24.04', 'vlan130'),
      vm('ovirt-app', 'e15', 'centos-9', 'vlan130'),
    );
    // The plan lists the network before the VMs that use it, and changes nothing.
    const planned = await converge({ ...opts, dryRun: true, wait: false });
    const text = renderPlan(planned.outcomes, { color: false, paint: (_f, t) => t });
    // As each provider observes it (networks.observe), per hypervisor.
    expect(text).toContain('+ pve: create SDN vnet vlan130 with tag 130');
    expect(text).toContain('+ e15: create network vlan130 with VLAN 130');
    expect(text.indexOf('+ pve: create SDN vnet')).toBeLessThan(text.indexOf('+ create VM ovirt-app'));
    expect(pve.dump().sdn.vnets).toEqual([]);
    const r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.plan?.waiting ?? o.key)).toEqual([]);
    expect(pve.dump().sdn.vnets).toMatchObject([{ vnet: 'vlan130', zone: 'vkzone', tag: 130 }]);
    expect(pve.dump().vms.find((v) => v.config.name === 'pve-app')?.config.net0).toMatch(/bridge=vlan130/);
    const n = ovirt.dump().networks.find((x) => x.name === 'vlan130');
    expect([n?.vlan, n?.clusters.length]).toEqual([130, 1]);
    const profile = ovirt.dump().vnicprofiles.find((p) => p.network === n?.id);
    expect(ovirt.dump().vms.find((v) => v.name === 'ovirt-app')?.nics[0]?.vnic_profile).toBe(profile?.id);
  });

  it('a VM on a VLAN whose bridge is not VLAN-aware waits, saying which node lacks it', async () => {
    await write(net('vlan140', 140, '    - {hypervisor: pve, bridge: vmbr1}\n'), vm('waiter', 'pve', 'ubuntu-24.04', 'vlan140'));
    const r = await converge({ ...opts, wait: false });
    const st = await opts.statuses.read('VirtualNetwork/vlan140');
    expect(((st?.status.conditions ?? []) as { message: string }[])[0]?.message).toBe(
      'pve: VLAN 140 needs a VLAN-aware vmbr1 on: pve1 (bridge vmbr1 is not VLAN-aware), pve2 (bridge vmbr1 is not VLAN-aware)',
    );
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/waiter')?.plan?.waiting).toMatch(/VirtualNetwork vlan140 is not Ready/);
    expect(pve.dump().vms.some((v) => v.config.name === 'waiter')).toBe(false);
  });

  it('removes the networks it made once no VM uses them, and never one it did not make', async () => {
    await fetch(`${ovirt.url}/networks`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${ovirt.credentials.username}:${ovirt.credentials.password}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'admins-net', data_center: { name: 'Default' }, vlan: { id: 150 } }),
    });
    await write(net('admins-net', 150, '    - {hypervisor: e15}\n'));
    await converge(opts);
    await write();
    await converge(opts);
    expect(pve.dump().sdn.vnets).toEqual([]);
    expect(
      ovirt
        .dump()
        .networks.map((n) => n.name)
        .sort(),
    ).toEqual(['admins-net', 'ovirtmgmt']);
    expect(pve.dump().vms.filter((v) => !v.template)).toEqual([]);
  });
});
