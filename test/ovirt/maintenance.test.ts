// Node maintenance on the oVirt simulator over HTTP, the real loop: host1 is drained by live
// migration, then put in the engine's own maintenance (hostMaintenance: true) once no managed
// VM runs there; removing the entry activates it again and moves nothing back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

describe('oVirt: node maintenance with the engine’s host maintenance', () => {
  let sim: RunningOvirtSimulator;
  let f: ConvergeFolder;
  let maintenance = '';
  const names = ['om-a', 'om-b', 'om-c'];
  const hv = () =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ov-mnt}\nspec:\n  type: ovirt\n  endpoint: ${sim.url}\n  credentialsRef: {env: OV_MNT}\n  defaults: {cluster: Default, storageDomain: data1}\n${maintenance}`;
  const vm = (name: string, pin?: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}, namespace: om}\nspec:\n  hypervisor: ov-mnt\n  template: centos-9\n  memory: 1Gi\n  disks: [{name: root, size: 10Gi}]\n${pin ? `  placement: {node: ${pin}}\n` : ''}`;
  const hostOf = (name: string) => {
    const s = sim.dump();
    const v = s.vms.find((x) => x.name === name);
    return v?.status === 'up' ? s.hosts.find((h) => h.id === v.host)?.name : undefined;
  };
  const hostStatus = (name: string) => sim.dump().hosts.find((h) => h.name === name)?.status;

  beforeAll(async () => {
    sim = await startOvirtSimulator({ name: 'ov-mnt', hosts: 3, templates: ['centos-9'], imageCopyMs: 60, bootStepMs: 20, migrateMs: 60, diskResizeMs: 20 });
    f = await convergeFolder({
      prefix: 'vk-ov-mnt-',
      header: hv,
      credentials: directoryCredentials({ VIRTKEEPER_OV_MNT_USERNAME: sim.credentials.username, VIRTKEEPER_OV_MNT_PASSWORD: sim.credentials.password }),
    });
    await f.write(...names.map((n) => vm(n, 'host1')));
    const r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    for (const n of names) expect(hostOf(n)).toBe('host1');
  });
  afterAll(async () => {
    await f?.close();
    await sim?.close();
  });

  it('drains host1, then the engine puts it in maintenance; the Hypervisor reports it', async () => {
    maintenance = '  migration: {maxConcurrent: 2}\n  maintenance: [{node: host1, reason: firmware, hostMaintenance: true}]\n';
    await f.write(...names.map((n) => vm(n)));
    const r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    for (const n of names) expect(hostOf(n)).toMatch(/^host[23]$/);
    expect(hostStatus('host1')).toBe('maintenance');
    const st = (await f.opts.statuses.read('Hypervisor/ov-mnt'))?.status as { maintenance?: unknown[]; conditions?: { type: string; status: string; reason: string; message: string }[] } | undefined;
    expect(st?.maintenance).toEqual([expect.objectContaining({ node: 'host1', phase: 'HostMaintenance', host: 'maintenance', remaining: 0, moved: expect.arrayContaining(names) })]);
    expect(st?.conditions?.find((c) => c.type === 'Maintenance')).toMatchObject({ status: 'True', reason: 'Drained', message: 'host1: 3 of 3 VMs moved, host in maintenance' });
  });

  it('removing the entry activates the host and moves nothing back', async () => {
    const before = Object.fromEntries(names.map((n) => [n, hostOf(n)]));
    maintenance = '';
    await f.write(...names.map((n) => vm(n)));
    const r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(hostStatus('host1')).toBe('up');
    for (const n of names) expect(hostOf(n)).toBe(before[n]);
    const st = (await f.opts.statuses.read('Hypervisor/ov-mnt'))?.status as { maintenance?: unknown[]; conditions?: { type: string; reason: string }[] } | undefined;
    expect(st?.maintenance).toBeUndefined();
    expect(st?.conditions?.find((c) => c.type === 'Maintenance')?.reason).toBe('NoMaintenance');
  });
  it('while host1 is cordoned, a new VM and a VM started again run elsewhere, though the engine would pick host1', async () => {
    maintenance = '  maintenance: [{node: host1}]\n';
    await f.write(...names.map((n) => vm(n)), vm('om-new'), vm('om-halted').replace('disks:', 'runStrategy: Halted\n  disks:'));
    let r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(hostOf('om-new')).toMatch(/^host[23]$/);
    await f.write(...names.map((n) => vm(n)), vm('om-new'), vm('om-halted'));
    r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(hostOf('om-halted')).toMatch(/^host[23]$/);
    expect(sim.dump().vms.filter((v) => v.host && sim.dump().hosts.find((h) => h.id === v.host)?.name === 'host1' && v.status === 'up')).toEqual([]);
  });
});
