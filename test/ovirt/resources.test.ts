// VirtualDisk and VMTemplate (from a VM) on a simulated engine over HTTP: a floating disk
// hot-plugged into a running VM, grown, moved to a second VM and deleted; a template made
// from a stopped VM and cloned.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { diskVolumeName } from '../../controller/core/disk-name.ts';

const GiB = 2 ** 30;
const DATA = diskVolumeName('default', 'data');

describe('oVirt VirtualDisk and VMTemplate', () => {
  let sim: RunningOvirtSimulator;
  let opts: ConvergeOptions;
  const hv = () =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: eng}\nspec:\n  type: ovirt\n  endpoint: ${sim.url}\n  credentialsRef: {env: ENG}\n  defaults: {cluster: Default, storageDomain: data1}\n`;
  const vm = (name: string, extra = '') =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec:\n  hypervisor: eng\n  template: centos-9\n  memory: 2Gi\n  disks: [{name: root, size: 10Gi}]\n${extra}`;
  const disk = (size: string, attachTo?: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualDisk\nmetadata: {name: data}\nspec: {hypervisor: eng, size: ${size}, storage: data1${attachTo ? `, attachTo: {vm: ${attachTo}}` : ''}}\n`;
  let folder: ConvergeFolder;
  const write = (...docs: string[]) => folder.write(...docs);
  const state = () => sim.dump();
  const holder = (alias: string) => {
    const d = state().disks.find((x) => x.name === alias);
    return state().vms.find((v) => v.attachments.some((a) => a.disk === d?.id))?.name;
  };

  beforeAll(async () => {
    sim = await startOvirtSimulator({ name: 'eng', hosts: 2, templates: ['centos-9'], imageCopyMs: 60, bootStepMs: 20, diskResizeMs: 30 });
    folder = await convergeFolder({
      prefix: 'vk-ovirt-res-',
      header: hv,
      credentials: directoryCredentials({ VIRTKEEPER_ENG_USERNAME: sim.credentials.username, VIRTKEEPER_ENG_PASSWORD: sim.credentials.password }),
      timeoutMs: 30000,
      sleepCapMs: 100,
    });
    ({ opts } = folder);
  });
  afterAll(async () => {
    await folder.close();
    await sim.close();
  });

  it('hot-plugs a floating disk into a running VM, grows it, moves it, and deletes it', async () => {
    await write(vm('a'), vm('b'), disk('1Gi', 'a'));
    let r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(
      state()
        .vms.map((v) => [v.name, v.status])
        .sort(),
    ).toEqual([
      ['a', 'up'],
      ['b', 'up'],
    ]);
    expect(holder(DATA)).toBe('a');
    expect(state().disks.find((d) => d.name === DATA)?.description).toBe('virtkeeper.io/owner=VirtualDisk/default/data');
    expect((await opts.statuses.read('VirtualDisk/default/data'))?.status).toMatchObject({ phase: 'Attached', attachedTo: 'a', actualSize: '1Gi' });

    // The VM's own disk list leaves the standalone disk alone on the next pass.
    r = await converge(opts);
    expect(r.outcomes.flatMap((o) => o.plan?.steps.map((x) => x.action.type) ?? [])).toEqual([]);

    await write(vm('a'), vm('b'), disk('3Gi', 'a'));
    await converge(opts);
    expect(state().disks.find((d) => d.name === DATA)?.provisioned_size).toBe(3 * GiB);

    // A shrink is refused before anything is touched.
    await write(vm('a'), vm('b'), disk('2Gi', 'a'));
    r = await converge(opts);
    expect(r.problems.join('\n')).toMatch(/all\.yaml:\d+: VirtualDisk default\/data spec\.size: cannot shrink from 3Gi to 2Gi/);
    expect(state().disks.find((d) => d.name === DATA)?.provisioned_size).toBe(3 * GiB);

    // Moved: unplugged from a (still running) and plugged into b.
    await write(vm('a'), vm('b'), disk('3Gi', 'b'));
    r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(holder(DATA)).toBe('b');
    expect(state().vms.find((v) => v.name === 'a')?.attachments).toHaveLength(1);

    // Detached and kept as a floating disk, then deleted with the resource.
    await write(vm('a'), vm('b'), disk('3Gi'));
    await converge(opts);
    expect(holder(DATA)).toBeUndefined();
    expect((await opts.statuses.read('VirtualDisk/default/data'))?.status).toMatchObject({ phase: 'Available' });
    await write(vm('a'), vm('b'));
    await converge(opts);
    expect(state().disks.some((d) => d.name === DATA)).toBe(false);

    // deletionPolicy: Orphan: the resource goes, the disk stays (and stays attached).
    await write(vm('a'), vm('b'), disk('1Gi', 'a').replace('storage: data1', 'storage: data1, deletionPolicy: Orphan'));
    await converge(opts);
    expect(holder(DATA)).toBe('a');
    await write(vm('a'), vm('b'));
    await converge(opts);
    expect(holder(DATA)).toBe('a');
    expect(await opts.statuses.read('VirtualDisk/default/data')).toBeUndefined();
    const left = state();
    left.disks = left.disks.filter((d) => d.name !== DATA);
    for (const v of left.vms) v.attachments = v.attachments.filter((x) => left.disks.some((d) => d.id === x.disk));
    await fetch(sim.url.replace(/\/ovirt-engine\/api$/, '/_sim/state'), { method: 'PUT', body: JSON.stringify(left) });
  }, 60_000);

  it('never detaches a disk from a VM it does not own', async () => {
    await write(vm('a'), vm('b'), disk('1Gi', 'a'));
    await converge(opts);
    // Someone re-labels VM a by hand: it is no longer virtkeeper's.
    const s = state();
    const a = s.vms.find((v) => v.name === 'a');
    if (a) a.config.comment = '';
    await fetch(sim.url.replace(/\/ovirt-engine\/api$/, '/_sim/state'), { method: 'PUT', body: JSON.stringify(s) });
    await write(vm('b'), disk('1Gi', 'b'));
    await converge({ ...opts, timeoutMs: 2000 });
    expect(holder(DATA)).toBe('a');
    expect((await opts.statuses.read('VirtualDisk/default/data'))?.status).toMatchObject({ phase: 'Pending' });
    expect(JSON.stringify((await opts.statuses.read('VirtualDisk/default/data'))?.status)).toMatch(/attached to VM a, which virtkeeper does not own/);
    // VM a left the manifests too, but it is not virtkeeper's any more: it stays.
    expect(state().vms.some((v) => v.name === 'a')).toBe(true);
    // Clean up for the next test.
    const now = state();
    now.vms = now.vms.filter((v) => v.name !== 'a');
    now.disks = now.disks.filter((d) => d.name !== DATA);
    await fetch(sim.url.replace(/\/ovirt-engine\/api$/, '/_sim/state'), { method: 'PUT', body: JSON.stringify(now) });
    await write();
    await converge(opts);
    expect(state().vms).toEqual([]);
  }, 60_000);

  it('makes a template from a stopped VM, once, and clones from it', async () => {
    const tpl = `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: golden}\nspec: {hypervisor: eng, source: {fromVirtualMachine: builder}}\n`;
    // While the builder runs, the template waits for it to stop; the clone waits for the template.
    await write(vm('builder'), tpl, vm('web', '').replace('template: centos-9', 'template: golden'));
    let r = await converge({ ...opts, timeoutMs: 3000 });
    const t = await opts.statuses.read('VMTemplate/golden');
    expect(JSON.stringify(t?.status)).toMatch(/waiting for VM builder to stop/);
    expect(state().vms.map((v) => v.name)).toEqual(['builder']);

    await write(vm('builder', '  runStrategy: Halted\n'), tpl, vm('web', '').replace('template: centos-9', 'template: golden'));
    r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    const golden = state().templates.find((x) => x.name === 'golden');
    expect(golden?.status).toBe('ok');
    expect(state().vms.find((v) => v.name === 'web')?.template).toBe(golden?.id);
    expect(state().templates.filter((x) => x.name === 'golden')).toHaveLength(1);
  }, 60_000);

  it('adopts an existing template and checks its boot disk against minDisk', async () => {
    const tpl = (name: string, min: string) =>
      `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: ${name}}\nspec: {hypervisor: eng, source: {existing: centos-9}, require: {minDisk: ${min}}}\n`;
    await write(tpl('centos-small', '5Gi'), tpl('centos-big', '20Gi'));
    await converge({ ...opts, timeoutMs: 1500 });
    const cond = async (name: string) =>
      (((await opts.statuses.read(`VMTemplate/${name}`))?.status.conditions ?? []) as { type: string; status: string; message: string }[]).find((c) => c.type === 'MinDisk');
    expect(await cond('centos-small')).toMatchObject({ status: 'True' });
    expect(await cond('centos-big')).toMatchObject({ status: 'False', message: 'disk is 10Gi, less than 20Gi' });
  }, 30_000);

  it('shows the address the guest agent reports (reported devices) in status', async () => {
    await write(vm('withip', '  networks: [{name: nic1, network: ovirtmgmt, ipv4: {address: 10.1.2.3/24, gateway: 10.1.2.1}}]\n'));
    const r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect((await opts.statuses.read('VirtualMachine/default/withip'))?.status).toMatchObject({ phase: 'Running', ip: '10.1.2.3' });
    await write();
    await converge(opts);
  }, 30_000);
});
