// oVirt (issue 12, items 13 and 15): a create interrupted before its marker is finished while
// the pending-create record says it is this resource's (marked in the comment, configured, one
// VM); without the record the same VM is foreign. A marker from before instances gains the
// instance in the comment. The real loop over the simulated engine over HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { OvirtClient } from '../../providers/ovirt/client.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

const name = 'ov-cut';
const key = `VirtualMachine/default/${name}`;
const vmDoc = `apiVersion: virtkeeper.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}, namespace: default}
spec:
  hypervisor: engine
  template: centos-9
  cpu: {sockets: 1, cores: 2}
  memory: 2Gi
  disks: [{name: root, size: 20Gi, interface: virtio-scsi}]
  runStrategy: Halted
`;

describe('oVirt create safety and instance markers (simulator over HTTP)', () => {
  let sim: RunningOvirtSimulator;
  let f: ConvergeFolder;
  beforeEach(async () => {
    sim = await startOvirtSimulator({ name: 'engine', templates: ['centos-9'], imageCopyMs: 20, bootStepMs: 10, migrateMs: 20, diskResizeMs: 10 });
    f = await convergeFolder({
      prefix: 'vk-ov-safety-',
      timeoutMs: 10_000,
      header: () =>
        `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: engine}\nspec:\n  type: ovirt\n  endpoint: ${sim.url}\n  credentialsRef: {env: ENGINE}\n  defaults: {cluster: Default, storageDomain: data1}\n`,
      credentials: async () => ({ username: sim.credentials.username, password: sim.credentials.password }),
    });
    await f.write(vmDoc);
  });
  afterEach(async () => {
    await f.close();
    await sim.close();
  });
  const vms = () => sim.dump().vms;
  /** The VM as an interrupted create leaves it: made from the template, no marker, not configured. */
  const halfMade = async () => {
    const client = new OvirtClient({ endpoint: sim.url, credentials: sim.credentials });
    const r = await client.call<{ id: string }>('POST', '/vms', { body: { name, cluster: { name: 'Default' }, template: { name: 'centos-9' } } });
    while ((await client.get(`/vms/${r.data.id}`)).status === 'image_locked') await new Promise((res) => setTimeout(res, 20));
    await client.close();
  };
  const record = async (pending: boolean) => {
    await f.opts.statuses.write({
      key,
      kind: 'VirtualMachine',
      namespace: 'default',
      name,
      hypervisor: 'engine',
      updatedAt: new Date().toISOString(),
      status: pending ? { pendingCreate: { name, hypervisor: 'engine', requestedAt: new Date().toISOString() } } : {},
    });
  };

  it('finishes its own unfinished create: marked, configured, one VM', async () => {
    await halfMade();
    await record(true);
    const r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready)).toEqual([]);
    expect(vms().map((v) => [v.name, v.config.comment, v.config.memory])).toEqual([[name, `virtkeeper.io/owner=VirtualMachine/default/${name}`, 2 * 2 ** 30]]);
    expect((await f.opts.statuses.read(key))?.status.pendingCreate).toBeUndefined();
  }, 30_000);

  it('without the record the same VM is foreign: refused, untouched', async () => {
    await halfMade();
    await record(false);
    const r = await converge(f.opts);
    expect(r.outcomes.find((o) => o.key === key)?.error?.code).toBe('VK_REFUSED_FOREIGN');
    expect(vms().map((v) => [v.name, v.config.comment])).toEqual([[name, '']]);
  }, 30_000);

  it('a marker from before instances gains the instance in the comment; another instance is then refused', async () => {
    expect((await converge(f.opts)).outcomes.filter((o) => !o.ready)).toEqual([]);
    expect(vms()[0]?.config.comment).toBe(`virtkeeper.io/owner=VirtualMachine/default/${name}`);
    expect((await converge({ ...f.opts, instance: 'ov-a' })).outcomes.filter((o) => !o.ready)).toEqual([]);
    expect(vms().map((v) => v.config.comment)).toEqual([`virtkeeper.io/owner=VirtualMachine/default/${name}@ov-a`]);
    expect((await converge({ ...f.opts, instance: 'ov-b' })).outcomes.find((o) => o.key === key)?.error?.code).toBe('VK_REFUSED_OWNED_ELSEWHERE');
  }, 30_000);
});
