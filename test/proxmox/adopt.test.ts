// Adoption on the Proxmox simulator over HTTP: a pass of its own that only marks the VM, its
// unlisted disks and NICs kept unless pruning is asked, and the Hypervisor deciding which
// namespaces may adopt or use it at all.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { ProxmoxClient } from '../../providers/proxmox/client.ts';
import { proxmoxProvider } from '../../providers/proxmox/index.ts';
import { contractVM } from '../contract/provider-contract.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

describe('adopting an existing Proxmox VM', () => {
  let sim: RunningProxmoxSimulator;
  let f: ConvergeFolder;
  let hvExtra = '';

  beforeEach(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5 }, agentDelayMs: 0 });
    hvExtra = '';
    f = await convergeFolder({
      prefix: 'vk-adopt-',
      header: () => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec:\n  type: proxmox\n  endpoint: "${sim.url}"\n  credentialsRef: {env: PVE}\n${hvExtra}`,
      credentials: directoryCredentials({ VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` }),
    });
  });
  afterEach(async () => {
    await f.close();
    await sim.close();
  });

  /** A VM made on Proxmox by hand: three disks (10G, 50G, 50G) and two NICs, no marker. */
  const legacy = async (name = 'legacy', vmid = 500) => {
    const r = await fetch(`${sim.url}/api2/json/nodes/pve1/qemu`, {
      method: 'POST',
      headers: { authorization: `PVEAPIToken=${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        vmid: String(vmid),
        name,
        memory: '2048',
        scsi0: 'local-lvm:10',
        scsi1: 'local-lvm:50',
        scsi2: 'local-lvm:50',
        net0: 'virtio,bridge=vmbr0',
        net1: 'virtio,bridge=vmbr0',
        description: 'made by hand',
      }),
    });
    expect(r.status).toBe(200);
    for (let i = 0; i < 50 && !guest(vmid)?.config.scsi2; i++) await new Promise((res) => setTimeout(res, 20));
  };
  const guest = (vmid: number) => sim.dump().vms.find((v) => v.vmid === vmid);
  const vm = (name: string, extra = '', ns = '') =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}${ns ? `, namespace: ${ns}` : ''}}\nspec:\n  hypervisor: pve\n  memory: 2Gi\n  disks: [{name: root, size: 10Gi}]\n  networks: [{name: eth0, network: vmbr0}]\n${extra}`;
  const disks = (vmid: number) =>
    Object.entries(guest(vmid)?.config ?? {})
      .filter(([k]) => /^(scsi|unused)\d+$/.test(k))
      .map(([k, v]) => `${k}=${v.split(',')[0]}`)
      .sort();

  it('marks the VM in a pass of its own, then keeps the two 50G disks and the NIC the spec does not list', async () => {
    await legacy();
    const before = disks(500);
    const net1 = guest(500)?.config.net1;
    expect(net1).toMatch(/bridge=vmbr0/);
    expect(before).toEqual(['scsi0=local-lvm:vm-500-disk-0', 'scsi1=local-lvm:vm-500-disk-1', 'scsi2=local-lvm:vm-500-disk-2']);
    await f.write(vm('legacy', '  adopt: true\n  runStrategy: Manual\n'));
    const first = await converge({ ...f.opts, wait: false });
    const out = first.outcomes.find((o) => o.key === 'VirtualMachine/default/legacy');
    expect(out?.error).toBeUndefined();
    const g = guest(500);
    expect(g?.config.description).toContain('virtkeeper.io/owner=VirtualMachine/default/legacy');
    expect(g?.config.description).toContain('virtkeeper.io/adopted=true');
    expect(g?.config.description).toContain('made by hand');
    expect([disks(500), g?.config.net1]).toEqual([before, net1]);

    const r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect([disks(500), guest(500)?.config.net1]).toEqual([before, net1]);
    const st = await f.opts.statuses.read('VirtualMachine/default/legacy');
    const unlisted = ((st?.status.conditions ?? []) as { type: string; status: string; message: string }[]).find((c) => c.type === 'UnlistedDevices');
    expect(unlisted).toMatchObject({
      status: 'True',
      message:
        'disk scsi1 (50Gi) is not in the spec; kept; disk scsi2 (50Gi) is not in the spec; kept; nic net1 (virtio on vmbr0) is not in the spec; kept; list them in the spec, or set spec.adopt: {prune: true} to detach them',
    });
  });

  it('detaches what the spec leaves out only with adopt: {prune: true}', async () => {
    await legacy();
    await f.write(vm('legacy', '  adopt: true\n  runStrategy: Manual\n'));
    await converge(f.opts);
    await f.write(vm('legacy', '  adopt: {prune: true}\n  runStrategy: Manual\n'));
    const r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect([disks(500), guest(500)?.config.net1]).toEqual([['scsi0=local-lvm:vm-500-disk-0'], undefined]);
  });

  it('a state directory lost after adoption still keeps the devices: the marker says the VM was adopted', async () => {
    await legacy();
    await f.write(vm('legacy', '  adopt: true\n  runStrategy: Manual\n'));
    await converge(f.opts);
    const { rm } = await import('node:fs/promises');
    await rm(`${f.dir}-state`, { recursive: true, force: true });
    await f.write(vm('legacy', '  runStrategy: Manual\n'));
    const r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(disks(500)).toHaveLength(3);
  });

  it('a create that finds the adopted VM again (a retry, an observation that missed it) keeps its marker and its unlisted NIC', async () => {
    await legacy();
    await f.write(vm('legacy', '  adopt: true\n  runStrategy: Manual\n'));
    await converge(f.opts);
    const client = new ProxmoxClient({ endpoint: sim.url, credentials: { token: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` } });
    const provider = proxmoxProvider({ client, logger: pino({ level: 'silent' }) });
    const desired = {
      ...contractVM('legacy', undefined, { key: 'VirtualMachine/default/legacy', owner: { kind: 'VirtualMachine', namespace: 'default', name: 'legacy' }, hypervisor: 'pve', adopt: { prune: false } }),
      nics: [{ name: 'eth0', network: 'vmbr0', model: 'virtio' }],
    };
    await provider.vms.execute({ type: 'create', vm: desired });
    await provider.close();
    expect(guest(500)?.config.net1).toMatch(/bridge=vmbr0/);
    expect(guest(500)?.config.description).toContain('virtkeeper.io/adopted=true');
    expect(disks(500)).toHaveLength(3);
  });

  it('refuses adoption the Hypervisor does not allow for the namespace, and touches nothing', async () => {
    await legacy();
    hvExtra = '  allowAdoption: {namespaces: [ops]}\n';
    const before = JSON.stringify(guest(500));
    await f.write(vm('legacy', '  adopt: true\n'));
    const r = await converge({ ...f.opts, wait: false });
    const out = r.outcomes.find((o) => o.key === 'VirtualMachine/default/legacy');
    expect(out?.error).toEqual({
      code: 'VK_REFUSED_ADOPTION',
      message:
        'VirtualMachine default/legacy asks to adopt the existing VM legacy, but Hypervisor pve does not let namespace default adopt; add it to spec.allowAdoption.namespaces of Hypervisor pve, or remove spec.adopt. Nothing was changed',
    });
    expect(JSON.stringify(guest(500))).toBe(before);
  });

  it('refuses every resource of a namespace the Hypervisor does not allow, and makes nothing for it', async () => {
    hvExtra = '  allowedNamespaces: [team-a]\n';
    const setDoc = `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSet\nmetadata: {name: lab, namespace: team-b}\nspec: {replicas: 2, template: {hypervisor: pve, memory: 1Gi}}\n`;
    await f.write(
      vm('web', '', 'team-b'),
      `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualDisk\nmetadata: {name: data, namespace: team-b}\nspec: {hypervisor: pve, size: 5Gi}\n`,
      setDoc,
      vm('ok', '', 'team-a'),
    );
    const r = await converge(f.opts);
    const err = (k: string) => r.outcomes.find((o) => o.key === k)?.error;
    expect(err('VirtualMachine/team-b/web')).toEqual({
      code: 'VK_REFUSED_NAMESPACE',
      message: 'VirtualMachine team-b/web may not use Hypervisor pve: namespace team-b is not in its spec.allowedNamespaces; add it there (or use another Hypervisor). Nothing was changed',
    });
    expect(err('VirtualDisk/team-b/data')?.code).toBe('VK_REFUSED_NAMESPACE');
    expect(err('VirtualMachineSet/team-b/lab')?.code).toBe('VK_REFUSED_NAMESPACE');
    expect(err('VirtualMachine/team-b/lab-0')?.code).toBe('VK_REFUSED_NAMESPACE');
    expect(err('VirtualMachine/team-a/ok')).toBeUndefined();
    const names = sim
      .dump()
      .vms.filter((v) => !v.template)
      .map((v) => v.config.name);
    // (The disk's refusal is its error above: unattached, Proxmox would allocate nothing for it anyway.)
    expect(names).toEqual(['ok']);
  });
});
