// VirtualDisk data safety on a simulated engine over HTTP (issue 12): removing a VM keeps the
// VirtualDisk attached to it (floating, re-attachable), two resources whose old names collided
// (`x-y/a`, `x/y-a`) get two disks, and a disk made by earlier versions (old alias, marker
// without UID) is found by its marker and upgraded, never duplicated nor taken by a namesake.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { diskVolumeName } from '../../controller/core/disk-name.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

describe('oVirt VirtualDisk data safety', () => {
  let sim: RunningOvirtSimulator;
  let opts: ConvergeOptions;
  let folder: ConvergeFolder;
  const hv = () =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: eng}\nspec:\n  type: ovirt\n  endpoint: ${sim.url}\n  credentialsRef: {env: ENG}\n  defaults: {cluster: Default, storageDomain: data1}\n`;
  const vm = (ns: string, name: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: {hypervisor: eng, template: centos-9, memory: 1Gi, disks: [{name: root, size: 10Gi}]}\n`;
  const disk = (ns: string, name: string, attachTo?: string, meta = '') =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualDisk\nmetadata: {name: ${name}, namespace: ${ns}${meta}}\nspec: {hypervisor: eng, size: 1Gi, storage: data1${attachTo ? `, attachTo: {vm: ${attachTo}}` : ''}}\n`;
  const state = () => sim.dump();
  const diskNamed = (alias: string) => state().disks.filter((d) => d.name === alias);
  const holder = (alias: string) => {
    const d = diskNamed(alias)[0];
    return state().vms.find((v) => v.attachments.some((a) => a.disk === d?.id))?.name;
  };
  const notReady = async () => (await converge(opts)).outcomes.filter((o) => !o.ready).map((o) => o.error?.message ?? o.key);
  const putState = (s: ReturnType<typeof state>) => fetch(sim.url.replace(/\/ovirt-engine\/api$/, '/_sim/state'), { method: 'PUT', body: JSON.stringify(s) });

  beforeAll(async () => {
    sim = await startOvirtSimulator({ name: 'eng', hosts: 1, templates: ['centos-9'], imageCopyMs: 20, bootStepMs: 10, diskResizeMs: 10 });
    folder = await convergeFolder({
      prefix: 'vk-ovirt-dsafe-',
      header: hv,
      credentials: directoryCredentials({ VIRTKEEPER_ENG_USERNAME: sim.credentials.username, VIRTKEEPER_ENG_PASSWORD: sim.credentials.password }),
      timeoutMs: 30000,
      sleepCapMs: 50,
    });
    ({ opts } = folder);
  });
  afterAll(async () => {
    await folder.close();
    await sim.close();
  });

  it('removing a VM keeps the VirtualDisk attached to it, and it attaches to another VM', async () => {
    const data = diskVolumeName('s1', 'data');
    await folder.write(vm('s1', 'keep-a'), vm('s1', 'keep-b'), disk('s1', 'data', 'keep-a'));
    expect(await notReady()).toEqual([]);
    expect(holder(data)).toBe('keep-a');
    const id = diskNamed(data)[0]?.id;

    // The VM leaves the folder; the disk's resource still says keep-a.
    await folder.write(vm('s1', 'keep-b'), disk('s1', 'data', 'keep-a'));
    await converge(opts);
    expect(state().vms.map((v) => v.name)).toEqual(['keep-b']);
    expect(
      diskNamed(data).map((d) => d.id),
      'the engine still has the disk, floating',
    ).toEqual([id]);
    expect(holder(data)).toBeUndefined();

    await folder.write(vm('s1', 'keep-b'), disk('s1', 'data', 'keep-b'));
    expect(await notReady()).toEqual([]);
    expect(holder(data)).toBe('keep-b');
    expect(diskNamed(data).map((d) => d.id)).toEqual([id]);
    await folder.write();
    await converge(opts);
    expect(state().disks.some((d) => d.name === data)).toBe(false);
  }, 60_000);

  it('x-y/a and x/y-a are two disks, each on its own VM; removing one leaves the other', async () => {
    const one = diskVolumeName('x-y', 'a');
    const two = diskVolumeName('x', 'y-a');
    await folder.write(vm('x-y', 'col-1'), vm('x', 'col-2'), disk('x-y', 'a', 'col-1'), disk('x', 'y-a', 'col-2'));
    expect(await notReady()).toEqual([]);
    expect([holder(one), holder(two)]).toEqual(['col-1', 'col-2']);
    expect(diskNamed(one)[0]?.description).toBe('virtkeeper.io/owner=VirtualDisk/x-y/a');
    expect(diskNamed(two)[0]?.description).toBe('virtkeeper.io/owner=VirtualDisk/x/y-a');

    await folder.write(vm('x-y', 'col-1'), vm('x', 'col-2'), disk('x-y', 'a', 'col-1'));
    expect(await notReady()).toEqual([]);
    expect(diskNamed(two)).toEqual([]);
    expect(holder(one)).toBe('col-1');
    await folder.write();
    await converge(opts);
    expect(state().disks.filter((d) => d.name.startsWith('vkdisk-'))).toEqual([]);
  }, 60_000);

  it('a disk made by earlier versions is found by its marker and upgraded; a namesake never takes it', async () => {
    // As main made them: alias vkdisk-<ns>-<name> (x-y/b and x/y-b both vkdisk-x-y-b), a marker without UID.
    await folder.write(vm('x-y', 'old-1'), vm('x', 'old-2'));
    await converge(opts);
    const s = state();
    const sd = s.storagedomains[0]?.id ?? '';
    s.disks.push({
      id: '00000000-0000-4000-8000-0000000000b1',
      name: 'vkdisk-x-y-b',
      provisioned_size: 2 ** 30,
      actual_size: 2 ** 30,
      status: 'ok',
      format: 'cow',
      storage_domain: sd,
      sparse: true,
      description: 'virtkeeper.io/owner=VirtualDisk/x-y/b',
    });
    s.vms
      .find((v) => v.name === 'old-1')
      ?.attachments.push({ id: '00000000-0000-4000-8000-0000000000b1', disk: '00000000-0000-4000-8000-0000000000b1', interface: 'virtio', bootable: false, active: true });
    await putState(s);

    // x/y-b (its namesake under the old scheme) comes first: it gets a disk of its own.
    await folder.write(vm('x-y', 'old-1'), vm('x', 'old-2'), disk('x', 'y-b', 'old-2'));
    expect(await notReady()).toEqual([]);
    expect(holder('vkdisk-x-y-b'), 'the old disk stays where it was').toBe('old-1');
    expect(holder(diskVolumeName('x', 'y-b'))).toBe('old-2');

    // x-y/b, now with a UID: its old disk is taken up (renamed, marker with the UID), not made again.
    await folder.write(vm('x-y', 'old-1'), vm('x', 'old-2'), disk('x', 'y-b', 'old-2'), disk('x-y', 'b', 'old-1', ', uid: 6f1c3c2e-0d3e-4c1a-9b7e-3f1f2a9d0c11'));
    expect(await notReady()).toEqual([]);
    const upgraded = diskNamed(diskVolumeName('x-y', 'b'));
    expect(upgraded.map((d) => [d.id, d.description])).toEqual([['00000000-0000-4000-8000-0000000000b1', 'virtkeeper.io/owner=VirtualDisk/x-y/b uid=6f1c3c2e-0d3e-4c1a-9b7e-3f1f2a9d0c11']]);
    expect(diskNamed('vkdisk-x-y-b')).toEqual([]);
    expect(holder(diskVolumeName('x-y', 'b'))).toBe('old-1');
    expect(state().disks.filter((d) => d.name.startsWith('vkdisk-'))).toHaveLength(2);

    // A resource of the same path but another UID (deleted and made again) does not take it.
    await folder.write(vm('x-y', 'old-1'), vm('x', 'old-2'), disk('x', 'y-b', 'old-2'), disk('x-y', 'b', 'old-1', ', uid: 11111111-2222-4333-8444-555555555555'));
    await opts.statuses.remove('VirtualDisk/x-y/b');
    const r = await converge({ ...opts, timeoutMs: 2000 });
    expect(r.outcomes.find((o) => o.key === 'VirtualDisk/x-y/b')?.ready).toBe(false);
    expect(JSON.stringify((await opts.statuses.read('VirtualDisk/x-y/b'))?.status)).toMatch(/not owned by VirtualDisk\/x-y\/b/);
    expect(diskNamed(diskVolumeName('x-y', 'b'))).toHaveLength(1);
    await folder.write();
    await converge(opts);
  }, 60_000);
});
