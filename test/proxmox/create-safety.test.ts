// Crash-safe create on Proxmox (issue 12, item 13): a fast clone (ZFS, LVM-thin) or a create cut
// short after the clone never yields a VM virtkeeper then refuses as foreign, nor a second VM.
// The real loop over the simulator over HTTP.
import { afterEach, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import type { VirtualMachineStatus } from '../../controller/api/types.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

const CONFIG = 'POST /nodes/{node}/qemu/{vmid}/config';
// The configuration after a clone is written synchronously (PUT): both fail.
const CONFIG_SYNC = 'PUT /nodes/{node}/qemu/{vmid}/config';

const vmDoc = (name: string, runStrategy = 'Always') => `apiVersion: virtkeeper.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}, namespace: default}
spec:
  hypervisor: pve
  template: ubuntu-24.04
  clone: linked
  cpu: {sockets: 1, cores: 2}
  memory: 2Gi
  disks: [{name: root, size: 12Gi}]
  cloudInit: {user: ops}
  runStrategy: ${runStrategy}
`;

describe('Proxmox create safety (simulator over HTTP)', () => {
  let sim: RunningProxmoxSimulator;
  let f: ConvergeFolder;
  const start = async (o: { timeoutMs?: number } = {}) => {
    sim = await startProxmoxSimulator({ nodes: 3, templates: ['ubuntu-24.04'], taskDurations: { default: 0, qmclone: 0 }, agentDelayMs: 0 });
    f = await convergeFolder({
      prefix: 'vk-create-safety-',
      ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
      header: () =>
        `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec:\n  type: proxmox\n  endpoint: ${sim.url}\n  credentialsRef: {env: PVE}\n  defaults: {node: pve1, storage: local-lvm, bridge: vmbr0}\n`,
      credentials: async () => ({ username: sim.credentials.username, password: sim.credentials.password }),
    });
  };
  afterEach(async () => {
    await f?.close();
    await sim?.close();
  });
  const guests = () => sim.dump().vms.filter((v) => !v.template);
  const pendingOf = async (name: string) => ((await f.opts.statuses.read(`VirtualMachine/default/${name}`))?.status as VirtualMachineStatus | undefined)?.pendingCreate;

  it('applies 50 new VMs with clone and task times of 0 ms: 50 VMs, all owned, none refused (three rounds)', async () => {
    for (let round = 0; round < 3; round++) {
      await start();
      const names = Array.from({ length: 50 }, (_, i) => `s-${i}`);
      await f.write(...names.map((n) => vmDoc(n)));
      // One pass, no waiting loop: a refusal or a "not visible yet" shows here as it did for the user.
      const r = await converge({ ...f.opts, wait: false });
      expect(r.outcomes.filter((o) => o.error).map((o) => `${o.key}: ${o.error?.code} ${o.error?.message}`)).toEqual([]);
      const vms = guests();
      expect(vms.map((v) => v.config.name).sort()).toEqual([...names].sort());
      for (const v of vms) expect(v.config.description).toContain(`virtkeeper.io/owner=VirtualMachine/default/${v.config.name}`);
      expect(vms.every((v) => v.status === 'running')).toBe(true);
      for (const n of names) expect(await pendingOf(n)).toBeUndefined();
      await f.close();
      await sim.close();
    }
  }, 120_000);

  it.each([
    ['marker lost (as where the clone takes no description)', true],
    ['marker written by the clone', false],
  ])(
    'finishes a create cut short after the clone (config calls failing, %s) on the next pass: one VM, marked, configured',
    async (_what, strip) => {
      await start();
      await f.write(vmDoc('cut-1'));
      sim.setFaults({ fail: { [CONFIG]: 1000, [CONFIG_SYNC]: 1000 } });
      const first = await converge({ ...f.opts, wait: false });
      expect(first.outcomes.find((o) => o.key === 'VirtualMachine/default/cut-1')?.error?.code).toBeDefined();
      expect(guests().map((v) => v.config.name)).toEqual(['cut-1']);
      expect(guests()[0]?.config.memory).toBe('1024'); // the template's: configuration never ran
      expect(await pendingOf('cut-1')).toMatchObject({ name: 'cut-1', hypervisor: 'pve' });
      // As on a hypervisor that takes no description at clone time: the VM carries no marker yet.
      const state = sim.dump();
      for (const v of state.vms) if (strip && v.config.name === 'cut-1') delete v.config.description;
      sim.load(state);
      sim.setFaults({});
      await f.pool.closeAll(); // the controller starts again: nothing cached from before

      const second = await converge(f.opts);
      expect(second.outcomes.filter((o) => !o.ready)).toEqual([]);
      const vms = guests();
      expect(vms).toHaveLength(1);
      expect(vms[0]?.config.description).toContain('virtkeeper.io/owner=VirtualMachine/default/cut-1');
      expect([vms[0]?.config.memory, vms[0]?.config.cores, vms[0]?.config.ciuser, vms[0]?.status]).toEqual(['2048', '2', 'ops', 'running']);
      expect(await pendingOf('cut-1')).toBeUndefined();
    },
    60_000,
  );

  it('without the pending-create record the same unmarked VM is foreign: refused, left untouched', async () => {
    await start({ timeoutMs: 5000 });
    await f.write(vmDoc('cut-2', 'Halted'));
    sim.setFaults({ fail: { [CONFIG]: 1000, [CONFIG_SYNC]: 1000 } });
    await converge({ ...f.opts, wait: false });
    const state = sim.dump();
    for (const v of state.vms) if (v.config.name === 'cut-2') delete v.config.description;
    sim.load(state);
    sim.setFaults({});
    await f.pool.closeAll(); // the controller starts again: nothing cached from before
    const key = 'VirtualMachine/default/cut-2';
    const rec = await f.opts.statuses.read(key);
    if (!rec) throw new Error('no status record');
    const { pendingCreate: _dropped, ...status } = rec.status as VirtualMachineStatus;
    await f.opts.statuses.write({ ...rec, status });

    const r = await converge(f.opts);
    expect(r.outcomes.find((o) => o.key === key)?.error?.code).toBe('VK_REFUSED_FOREIGN');
    expect(guests().map((v) => [v.config.name, v.config.memory, v.config.description])).toEqual([['cut-2', '1024', undefined]]);
  }, 60_000);
});
