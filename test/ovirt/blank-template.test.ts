// `template: Blank` as scripts write it: every engine has Blank (the all-zero id) and a VM made
// from it starts with no disk and no NIC, so virtkeeper adds both. Through converge, over HTTP.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

const GiB = 2 ** 30;
const BLANK = '00000000-0000-0000-0000-000000000000';
let sim: RunningOvirtSimulator;
let f: ConvergeFolder;

beforeAll(async () => {
  sim = await startOvirtSimulator({ name: 'blank', hosts: 1, templates: [], imageCopyMs: 20, bootStepMs: 10, diskResizeMs: 10 });
  f = await convergeFolder({
    prefix: 'vk-ovirt-blank-',
    header: () =>
      `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: engine}\nspec:\n  type: ovirt\n  endpoint: ${sim.url}\n  credentialsRef: {env: ENGINE}\n  defaults: {cluster: Default, storageDomain: data1}\n`,
    credentials: directoryCredentials({ VIRTKEEPER_ENGINE_USERNAME: sim.credentials.username, VIRTKEEPER_ENGINE_PASSWORD: sim.credentials.password }),
    timeoutMs: 10_000,
    sleepCapMs: 50,
  });
});
afterAll(async () => {
  await f.close();
  await sim.close();
});

it('the simulator has Blank with the all-zero id, as every engine', () => {
  expect(sim.dump().templates.find((t) => t.name === 'Blank')?.id).toBe(BLANK);
});

it('a VM with template: Blank converges: created from Blank, its disk and NIC added, running', async () => {
  await f.write(
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: blank-1}\nspec:\n  hypervisor: engine\n  template: Blank\n  memory: 1Gi\n  disks: [{name: root, size: 8Gi, interface: virtio-scsi}]\n  networks: [{name: nic1, network: ovirtmgmt}]\n`,
  );
  const r = await converge(f.opts);
  expect(r.problems).toEqual([]);
  expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error?.message ?? o.key)).toEqual([]);
  const st = await f.opts.statuses.read('VirtualMachine/default/blank-1');
  expect(((st?.status.conditions ?? []) as { type: string; status: string; message: string }[]).find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
  const vm = sim.dump().vms.find((v) => v.name === 'blank-1');
  expect(vm?.template).toBe(BLANK);
  expect(vm?.status).toBe('up');
  expect(vm?.attachments.map((a) => sim.dump().disks.find((d) => d.id === a.disk)?.provisioned_size)).toEqual([8 * GiB]);
  expect(vm?.nics.map((n) => n.name)).toEqual(['nic1']);
  // A second pass finds nothing to do.
  const again = await converge(f.opts);
  expect(again.outcomes.filter((o) => !o.ready).map((o) => o.error?.message ?? o.key)).toEqual([]);
  expect(sim.dump().vms).toHaveLength(1);
}, 30_000);
