// The controller instance in the marker (issue 12, item 15): two folders that declare the same
// VirtualMachine own different VMs, never one; markers from before instances are still ours and
// are upgraded. The real loop over the Proxmox simulator over HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

const vmDoc = (memory: string) => `apiVersion: virtkeeper.io/v1alpha1
kind: VirtualMachine
metadata: {name: inst-web, namespace: default}
spec:
  hypervisor: pve
  template: ubuntu-24.04
  clone: linked
  cpu: {sockets: 1, cores: 1}
  memory: ${memory}
  runStrategy: Halted
`;

describe('controller instance in the marker (Proxmox simulator over HTTP)', () => {
  let sim: RunningProxmoxSimulator;
  const folders: ConvergeFolder[] = [];
  const folder = async () => {
    const f = await convergeFolder({
      prefix: 'vk-instance-',
      timeoutMs: 5000,
      header: () =>
        `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec:\n  type: proxmox\n  endpoint: ${sim.url}\n  credentialsRef: {env: PVE}\n  defaults: {node: pve1, storage: local-lvm, bridge: vmbr0}\n`,
      credentials: async () => ({ username: sim.credentials.username, password: sim.credentials.password }),
    });
    folders.push(f);
    return f;
  };
  beforeEach(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 0, qmclone: 0 }, agentDelayMs: 0 });
  });
  afterEach(async () => {
    for (const f of folders.splice(0)) await f.close();
    await sim.close();
  });
  const guests = () => sim.dump().vms.filter((v) => !v.template);
  const key = 'VirtualMachine/default/inst-web';

  it('two folders declaring default/inst-web: the second is refused, naming the first instance, and never changes or deletes its VM', async () => {
    const a = await folder();
    const b = await folder();
    await a.write(vmDoc('1Gi'));
    await b.write(vmDoc('3Gi'));
    const ra = await converge({ ...a.opts, instance: 'folder-a' });
    expect(ra.outcomes.filter((o) => !o.ready)).toEqual([]);
    expect(guests().map((v) => v.config.description?.split('\n')[0])).toEqual(['virtkeeper.io/owner=VirtualMachine/default/inst-web@folder-a']);

    const rb = await converge({ ...b.opts, instance: 'folder-b' });
    const refused = rb.outcomes.find((o) => o.key === key)?.error;
    expect(refused?.code).toBe('VK_REFUSED_OWNED_ELSEWHERE');
    expect(refused?.message).toContain('controller instance folder-a');
    expect(guests().map((v) => v.config.memory)).toEqual(['1024']);

    // Folder b drops its declaration: what it never owned is not deleted.
    await b.write();
    await converge({ ...b.opts, instance: 'folder-b' });
    expect(guests().map((v) => [v.config.name, v.config.memory])).toEqual([['inst-web', '1024']]);
    expect((await converge({ ...a.opts, instance: 'folder-a' })).outcomes.filter((o) => !o.ready)).toEqual([]);
  }, 30_000);

  it('a marker written before instances is ours and gains the instance on the next reconcile; then another instance is refused', async () => {
    const a = await folder();
    await a.write(vmDoc('1Gi'));
    await converge(a.opts); // as today's main: no instance in the marker
    expect(guests()[0]?.config.description?.split('\n')[0]).toBe('virtkeeper.io/owner=VirtualMachine/default/inst-web');

    await a.write(vmDoc('2Gi'));
    const r = await converge({ ...a.opts, instance: 'folder-a' });
    expect(r.outcomes.filter((o) => !o.ready)).toEqual([]);
    expect(guests().map((v) => [v.config.description?.split('\n')[0], v.config.memory])).toEqual([['virtkeeper.io/owner=VirtualMachine/default/inst-web@folder-a', '2048']]);
    expect(guests()[0]?.config.description?.match(/virtkeeper\.io\/owner=/g)).toHaveLength(1);

    const other = await folder();
    await other.write(vmDoc('2Gi'));
    expect((await converge({ ...other.opts, instance: 'elsewhere' })).outcomes.find((o) => o.key === key)?.error?.code).toBe('VK_REFUSED_OWNED_ELSEWHERE');
    expect(guests()).toHaveLength(1);
  }, 30_000);
});
