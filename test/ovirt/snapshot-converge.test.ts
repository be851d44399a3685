// VirtualMachineSnapshot and VirtualMachineRestore through the real loop on the oVirt simulator
// over HTTP: a snapshot with memory of the running VM, the disk grown on the engine behind
// virtkeeper's back (the spec refuses to shrink it), the restore (stop, revert, start) puts the
// size back and the memory is resumed; removing the snapshot resource removes it on the engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { OvirtClient } from '../../providers/ovirt/client.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

const GiB = 2 ** 30;

describe('oVirt: snapshot and restore through the loop', () => {
  let sim: RunningOvirtSimulator;
  let f: ConvergeFolder;
  const hv = () =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ov-snap}\nspec:\n  type: ovirt\n  endpoint: ${sim.url}\n  credentialsRef: {env: OV_SNAP}\n  defaults: {cluster: Default, storageDomain: data1}\n`;
  const vm = `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: os-db}\nspec:\n  hypervisor: ov-snap\n  template: centos-9\n  memory: 1Gi\n  disks: [{name: root, size: 10Gi}]\n  updatePolicy: RestartAllowed\n`;
  const snap = `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshot\nmetadata: {name: os-before}\nspec: {vm: os-db, memory: true, description: before the upgrade}\n`;
  const restore = `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineRestore\nmetadata: {name: os-undo}\nspec: {vm: os-db, snapshot: os-before}\n`;
  const simVM = () => sim.dump().vms.find((v) => v.name === 'os-db');
  const rootSize = () => sim.dump().disks.find((d) => d.id === simVM()?.attachments[0]?.disk)?.provisioned_size;

  beforeAll(async () => {
    sim = await startOvirtSimulator({ name: 'ov-snap', templates: ['centos-9'], imageCopyMs: 60, bootStepMs: 20, migrateMs: 40, diskResizeMs: 20 });
    f = await convergeFolder({
      prefix: 'vk-ov-snap-',
      header: hv,
      credentials: directoryCredentials({ VIRTKEEPER_OV_SNAP_USERNAME: sim.credentials.username, VIRTKEEPER_OV_SNAP_PASSWORD: sim.credentials.password }),
    });
  });
  afterAll(async () => {
    await f?.close();
    await sim?.close();
  });

  it('snapshots with memory, restores after the disk changed, and removes the snapshot with its resource', async () => {
    await f.write(vm, snap);
    let r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    const st = (await f.opts.statuses.read('VirtualMachineSnapshot/default/os-before'))?.status;
    expect(st).toMatchObject({ phase: 'Ready', memory: true, hypervisor: 'ov-snap' });
    expect(simVM()?.snapshots?.map((s) => [s.persist_memorystate, s.description])).toEqual([
      [true, expect.stringMatching(/^before the upgrade virtkeeper\.io\/snapshot=\S+ virtkeeper\.io\/owner=VirtualMachineSnapshot\/default\/os-before/)],
    ]);

    // Someone grows the disk on the engine: the spec cannot shrink it back, the restore can.
    const api = new OvirtClient({ endpoint: sim.url, credentials: sim.credentials });
    const vmId = simVM()?.id ?? '';
    await api.call('PUT', `/vms/${vmId}/diskattachments/${simVM()?.attachments[0]?.id}`, { body: { disk: { provisioned_size: 20 * GiB } } });
    while (sim.dump().disks.some((d) => d.status === 'locked')) await new Promise((res) => setTimeout(res, 20));
    expect(rootSize()).toBe(20 * GiB);
    await api.close();

    await f.write(vm, snap, restore);
    r = await converge(f.opts);
    // The VM pass comes before the restore's in one apply, so it still reports the shrink it saw.
    expect(r.outcomes.find((o) => o.key === 'VirtualMachineRestore/default/os-undo')).toMatchObject({ ready: true });
    expect((await f.opts.statuses.read('VirtualMachineRestore/default/os-undo'))?.status).toMatchObject({ phase: 'Succeeded' });
    expect(rootSize()).toBe(10 * GiB);
    expect(simVM()?.status).toBe('up');
    // Resumed from the snapshot's memory, not booted.
    expect(sim.dump().events.some((e) => e.vm === vmId && /restored from the memory of a snapshot/.test(e.description))).toBe(true);

    r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    await f.write(vm, restore);
    r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(simVM()?.snapshots ?? []).toEqual([]);
  });
});
