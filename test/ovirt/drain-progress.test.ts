// Live drain progress on the oVirt simulator over HTTP: a migration takes seconds and the VM's
// `migration.progress` statistic moves with it; while the drain runs, each moving VM's status
// carries the percent in steps of at least ten points, and the Hypervisor's Maintenance
// condition says "2 migrating (40 %, 75 %)". The contract read and the observation show it too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VirtualMachineStatus } from '../../controller/api/types.ts';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import type { StatusRecord } from '../../controller/status/writer.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';
import { until } from '../support/until.ts';
import { recordingStatuses } from '../support/recording-statuses.ts';

describe('oVirt: a drain shows each migration as it moves', () => {
  let sim: RunningOvirtSimulator;
  let f: ConvergeFolder;
  let maintenance = '';
  const names = ['op-a', 'op-b'];
  const hv = () =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ov-prog}\nspec:\n  type: ovirt\n  endpoint: ${sim.url}\n  credentialsRef: {env: OV_PROG}\n  defaults: {cluster: Default, storageDomain: data1}\n  migration: {maxConcurrent: 2}\n${maintenance}`;
  const vm = (name: string, pin?: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}, namespace: op}\nspec:\n  hypervisor: ov-prog\n  template: centos-9\n  memory: 1Gi\n  disks: [{name: root, size: 10Gi}]\n${pin ? `  placement: {node: ${pin}}\n` : ''}`;

  beforeAll(async () => {
    sim = await startOvirtSimulator({ name: 'ov-prog', hosts: 3, templates: ['centos-9'], imageCopyMs: 60, bootStepMs: 20, migrateMs: 4000, diskResizeMs: 20 });
    f = await convergeFolder({
      prefix: 'vk-ov-prog-',
      header: hv,
      credentials: directoryCredentials({ VIRTKEEPER_OV_PROG_USERNAME: sim.credentials.username, VIRTKEEPER_OV_PROG_PASSWORD: sim.credentials.password }),
    });
    await f.write(...names.map((n) => vm(n, 'host1')));
    const r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
  });
  afterAll(async () => {
    await f?.close();
    await sim?.close();
  });

  it('writes the VMs’ progress in steps and the Hypervisor’s drain as it goes', async () => {
    const writes: StatusRecord[] = [];
    const statuses = recordingStatuses(f.opts.statuses, (rec) => {
      writes.push(structuredClone(rec));
    });
    maintenance = '  maintenance: [{node: host1, reason: firmware}]\n';
    await f.write(...names.map((n) => vm(n)));
    const r = await converge({ ...f.opts, statuses });
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    for (const n of names) {
      const during = writes.filter((w) => w.key === `VirtualMachine/op/${n}` && w.status.phase === 'Migrating').map((w) => (w.status as VirtualMachineStatus).migration);
      expect(during.map((m) => m?.progress ?? 0).some((p) => p >= 10 && p <= 90)).toBe(true);
      for (let i = 1; i < during.length; i++) {
        const [before, now] = [during[i - 1], during[i]];
        expect((now?.progress ?? 0) - (before?.progress ?? 0) >= 10 || now?.phase !== before?.phase).toBe(true);
      }
      expect(during.length).toBeLessThanOrEqual(11);
      expect(during.at(-1)).toMatchObject({ from: 'host1', reason: 'node host1 in maintenance', phase: 'active', startedAt: expect.stringMatching(/^\d{4}-/) });
    }
    const drain = writes
      .filter((w) => w.key === 'Hypervisor/ov-prog')
      .map((w) => (w.status as { conditions?: { type: string; message: string }[] }).conditions?.find((c) => c.type === 'Maintenance')?.message ?? '');
    expect(drain.some((m) => /^host1: 0 of 2 VMs moved, 2 migrating \(\d+ %, \d+ %\)$/.test(m))).toBe(true);
    expect(drain.at(-1)).toBe('host1: 2 of 2 VMs moved');
  }, 30_000);

  it('the contract read (one search for every migrating VM) says how far a migration is; the observation says it migrates', async () => {
    const conn = (await f.pool.connections()).find((c) => c.name === 'ov-prog');
    if (!conn) throw new Error('not connected');
    const client = conn.client;
    const a = (await client.vms.observe()).vms.find((v) => v.name === 'op-a');
    if (!a) throw new Error('op-a not observed');
    const to = a.node === 'host2' ? 'host3' : 'host2';
    const target = { providerID: a.providerID, name: a.name, node: a.node, ...(a.owner ? { owner: a.owner } : {}) };
    const moving = client.vms.execute({ type: 'migrate', target, to });
    const seen = await until('a migration progress of 10 % or more', async () => {
      const p = (await client.vms.migrations?.([target]))?.get(a.providerID);
      return p?.percent !== undefined && p.percent >= 10 ? p : undefined;
    });
    expect(seen.phase).toBe('active');
    const observed = (await client.vms.observe({ refresh: [a.providerID] })).vms.find((v) => v.name === 'op-a');
    // The fleet's list follows no statistics (their size at 10,000 VMs): it names the source, the read above the percent.
    expect(observed?.migration?.from).toBe(a.node);
    await moving;
    expect((await client.vms.migrations?.([target]))?.size).toBe(0);
  }, 30_000);
});
