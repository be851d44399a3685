// Adoption on the oVirt simulator over HTTP: the adopting pass only marks the VM; its disks and
// NICs the spec does not list stay attached unless pruning is asked.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

const GiB = 2 ** 30;
let sim: RunningOvirtSimulator;
let f: ConvergeFolder;

beforeEach(async () => {
  sim = await startOvirtSimulator({ name: 'adopt', hosts: 1, templates: ['centos-9'], imageCopyMs: 20, bootStepMs: 10 });
  f = await convergeFolder({
    prefix: 'vk-ovirt-adopt-',
    header: () =>
      `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: engine}\nspec:\n  type: ovirt\n  endpoint: ${sim.url}\n  credentialsRef: {env: ENGINE}\n  defaults: {cluster: Default, storageDomain: data1}\n`,
    credentials: directoryCredentials({ VIRTKEEPER_ENGINE_USERNAME: sim.credentials.username, VIRTKEEPER_ENGINE_PASSWORD: sim.credentials.password }),
  });
});
afterEach(async () => {
  await f.close();
  await sim.close();
});

const call = async (method: string, path: string, body: unknown) => {
  const r = await fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from(`${sim.credentials.username}:${sim.credentials.password}`).toString('base64')}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  expect(r.status).toBeLessThan(300);
  return (await r.json()) as { id: string };
};
const legacy = async () => {
  const vm = await call('POST', '/vms', { name: 'legacy', cluster: { name: 'Default' }, template: { name: 'Blank' }, memory: 2 * GiB });
  for (const size of [10, 50, 50])
    await call('POST', `/vms/${vm.id}/diskattachments`, {
      interface: 'virtio_scsi',
      bootable: size === 10,
      disk: { provisioned_size: size * GiB, format: 'cow', storage_domains: { storage_domain: [{ name: 'data1' }] } },
    });
  return vm.id;
};
const attached = () => (sim.dump().vms.find((v) => v.name === 'legacy')?.attachments ?? []).map((a) => sim.dump().disks.find((d) => d.id === a.disk)?.provisioned_size ?? a.disk);
const manifest = (adopt: string) =>
  `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: legacy}\nspec:\n  hypervisor: engine\n  memory: 2Gi\n  runStrategy: Manual\n  disks: [{name: root, size: 10Gi, interface: virtio-scsi}]\n  adopt: ${adopt}\n`;

it('adopting a VM with three disks by a spec listing one marks it and keeps both 50G disks; prune detaches them', async () => {
  await legacy();
  expect(attached()).toEqual([10 * GiB, 50 * GiB, 50 * GiB]);
  await f.write(manifest('true'));
  const first = await converge({ ...f.opts, wait: false });
  expect(first.outcomes.find((o) => o.key === 'VirtualMachine/default/legacy')?.error).toBeUndefined();
  expect(sim.dump().vms.find((v) => v.name === 'legacy')?.config.comment).toBe('virtkeeper.io/owner=VirtualMachine/default/legacy virtkeeper.io/adopted=true');
  const r = await converge(f.opts);
  expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
  expect(attached()).toEqual([10 * GiB, 50 * GiB, 50 * GiB]);
  const st = await f.opts.statuses.read('VirtualMachine/default/legacy');
  expect(((st?.status.conditions ?? []) as { type: string; reason: string }[]).find((c) => c.type === 'UnlistedDevices')?.reason).toBe('Kept');

  await f.write(manifest('{prune: true}'));
  const pruned = await converge(f.opts);
  expect(pruned.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
  expect(attached()).toEqual([10 * GiB]);
});
