// Live drain progress on the Proxmox simulator over HTTP: its qmigrate task takes seconds and
// logs QEMU's transfer as Proxmox does; while the drain runs, each moving VM's status carries
// the migration (percent, bytes, start) in steps of at least ten points, and the Hypervisor's
// Maintenance condition says "2 migrating (40 %, 75 %)". The contract read answers as well.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VirtualMachineStatus } from '../../controller/api/types.ts';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import type { StatusRecord } from '../../controller/status/writer.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { ProxmoxClient } from '../../providers/proxmox/client.ts';
import { progressFromLog } from '../../providers/proxmox/migration-progress.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';
import { until } from '../support/until.ts';
import { recordingStatuses } from '../support/recording-statuses.ts';

const MIGRATE_MS = 4000;

describe('Proxmox: a drain shows each migration as it moves', () => {
  let sim: RunningProxmoxSimulator;
  let f: ConvergeFolder;
  let header = '';
  const hv = (extra = '') =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve-prog}\nspec:\n  type: proxmox\n  endpoint: ${sim.url}\n  credentialsRef: {env: PVE_PROG}\n  defaults: {node: pve1, storage: local-lvm, bridge: vmbr0}\n  migration: {maxConcurrent: 2}\n${extra}`;
  const vm = (name: string, extra = '') =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}, namespace: prog}\nspec:\n  hypervisor: pve-prog\n  template: ubuntu-24.04\n  memory: 1Gi\n  disks: [{name: root, size: 10Gi}]\n${extra}`;
  const names = ['prog-a', 'prog-b'];

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 3, templates: ['ubuntu-24.04'], taskDurations: { default: 5, qmclone: 10, qmigrate: MIGRATE_MS }, agentDelayMs: 0 });
    header = hv();
    f = await convergeFolder({
      prefix: 'vk-pve-prog-',
      header: () => header,
      credentials: directoryCredentials({ VIRTKEEPER_PVE_PROG_USERNAME: sim.credentials.username, VIRTKEEPER_PVE_PROG_PASSWORD: sim.credentials.password }),
    });
    await f.write(...names.map((n) => vm(n, '  placement: {node: pve1}\n')));
    const r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
  });
  afterAll(async () => {
    await f?.close();
    await sim?.close();
  });

  it('reads the transfer lines QemuMigrate writes', () => {
    const p = progressFromLog(["2026-12-01 20:00:00 starting migration of VM 100 to node 'pve2'", '2026-12-01 20:00:02 migration active, transferred 351.2 MiB of 2.0 GiB VM-state, 110.0 MiB/s']);
    expect(p).toEqual({ phase: 'active', bytesDone: Math.round(351.2 * 2 ** 20), bytesTotal: 2 * 2 ** 30, percent: 17 });
    expect(progressFromLog(['migration status: completed'], p).phase).toBe('completed');
  });

  it('writes the VMs’ progress in steps and the Hypervisor’s drain as it goes', async () => {
    const writes: StatusRecord[] = [];
    const statuses = recordingStatuses(f.opts.statuses, (rec) => {
      writes.push(structuredClone(rec));
    });
    header = hv('  maintenance: [{node: pve1, reason: kernel update}]\n');
    await f.write(...names.map((n) => vm(n)));
    const r = await converge({ ...f.opts, statuses });
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);

    for (const n of names) {
      const during = writes.filter((w) => w.key === `VirtualMachine/prog/${n}` && w.status.phase === 'Migrating').map((w) => (w.status as VirtualMachineStatus).migration);
      const percents = during.map((m) => m?.progress ?? 0);
      // Intermediate values, each ten points or more after the one before (or a new stage); not a write per second.
      expect(percents.some((p) => p >= 10 && p <= 90)).toBe(true);
      for (let i = 1; i < during.length; i++) {
        const [before, now] = [during[i - 1], during[i]];
        expect((now?.progress ?? 0) - (before?.progress ?? 0) >= 10 || now?.phase !== before?.phase).toBe(true);
      }
      expect(during.length).toBeLessThanOrEqual(11);
      const mid = during.find((m) => (m?.progress ?? 0) >= 10);
      expect(mid).toMatchObject({ from: 'pve1', reason: 'node pve1 in maintenance', bytesTotal: 2 ** 30, phase: 'active', startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
      expect(mid?.bytesDone).toBeGreaterThan(0);
    }
    // The Hypervisor said how far the drain was while it ran.
    const drain = writes
      .filter((w) => w.key === 'Hypervisor/pve-prog')
      .map((w) => (w.status as { conditions?: { type: string; message: string }[] }).conditions?.find((c) => c.type === 'Maintenance')?.message ?? '');
    expect(drain.some((m) => /^pve1: 0 of 2 VMs moved, 2 migrating \(\d+ %, \d+ %\)$/.test(m))).toBe(true);
    expect(drain.at(-1)).toBe('pve1: 2 of 2 VMs moved');
    // The task logs as QemuMigrate does: the transfer while it runs, then how it ended.
    const api = new ProxmoxClient({ endpoint: sim.url, credentials: { token: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` } });
    const [task] = await api.get<{ upid: string }[]>('/nodes/pve1/tasks', { typefilter: 'qmigrate', limit: 1 });
    const log = (await api.get<{ t: string }[]>(`/nodes/pve1/tasks/${encodeURIComponent(task?.upid ?? '')}/log`, { limit: 500 })).map((l) => l.t);
    await api.close();
    expect(log.some((l) => /migration active, transferred [\d.]+ MiB of 1\.0 GiB VM-state/.test(l))).toBe(true);
    expect(log.slice(-3)).toEqual([expect.stringMatching(/migration status: completed$/), expect.stringMatching(/migration finished successfully \(duration 00:00:0\d\)$/), 'TASK OK']);
    // At most one Hypervisor write per 2 s while the wave runs, not one per VM step (and the passes' own).
    expect(drain.length).toBeLessThanOrEqual(Math.ceil(MIGRATE_MS / 2000) + 4);
  }, 30_000);

  it('the contract read answers for a migration in flight (one active-task list per node, then its log)', async () => {
    const conn = (await f.pool.connections()).find((c) => c.name === 'pve-prog');
    if (!conn) throw new Error('not connected');
    const client = conn.client;
    const obs = await client.vms.observe();
    const a = obs.vms.find((v) => v.name === 'prog-a');
    if (!a) throw new Error('prog-a not observed');
    const to = a.node === 'pve2' ? 'pve3' : 'pve2';
    const target = { providerID: a.providerID, name: a.name, node: a.node, ...(a.owner ? { owner: a.owner } : {}) };
    const moving = client.vms.execute({ type: 'migrate', target, to });
    const seen = await until('a migration progress of 10 % or more', async () => {
      const p = (await client.vms.migrations?.([target]))?.get(a.providerID);
      return p?.percent !== undefined && p.percent >= 10 ? p : undefined;
    });
    expect(seen).toMatchObject({ phase: 'active', bytesTotal: 2 ** 30 });
    await moving;
    expect((await client.vms.migrations?.([{ ...target, node: to }]))?.size).toBe(0);
  }, 30_000);

  it('a migration this process did not start (an earlier process’s move): the pass reads how far it is', async () => {
    const conn = (await f.pool.connections()).find((c) => c.name === 'pve-prog');
    if (!conn) throw new Error('not connected');
    const client = conn.client;
    const vms = (await client.vms.observe()).vms;
    const a = vms.find((v) => v.name === 'prog-a');
    const b = vms.find((v) => v.name === 'prog-b');
    if (!a?.node || !b?.node) throw new Error('not observed');
    const targetOf = (v: typeof a) => ({ providerID: v.providerID, name: v.name, ...(v.node ? { node: v.node } : {}), ...(v.owner ? { owner: v.owner } : {}) });
    const other = ['pve1', 'pve2', 'pve3'].find((n) => n !== a.node && n !== b.node) ?? 'pve1';
    if (b.node === a.node) await client.vms.execute({ type: 'migrate', target: targetOf(b), to: other });
    // The move under way, as a process that stopped would have left it.
    const moving = client.vms.execute({ type: 'migrate', target: targetOf(a), to: other });
    await until('prog-a to be migrating', async () => (await client.vms.migrations?.([targetOf(a)]))?.get(a.providerID)?.percent !== undefined);
    const writes: string[] = [];
    const statuses = recordingStatuses(f.opts.statuses, (rec) => {
      if (rec.key === 'Hypervisor/pve-prog') writes.push((rec.status as { conditions?: { type: string; message: string }[] }).conditions?.find((c) => c.type === 'Maintenance')?.message ?? '');
    });
    header = hv(`  maintenance: [{node: ${a.node}}]\n`);
    await f.write(...names.map((n) => vm(n)));
    await converge({ ...f.opts, statuses, wait: false });
    await moving;
    expect(writes[0]).toMatch(new RegExp(`^${a.node}: 0 of 1 VM moved, 1 migrating \\(\\d+ %\\)$`));
  }, 30_000);
});
