// Node maintenance on the Proxmox simulator over HTTP: the real loop drains a node by live
// migration, a pinned VM stays and is reported, nothing new lands there, and lifting the
// entry moves nothing back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import type { StatusRecord } from '../../controller/status/writer.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';
import { recordingStatuses } from '../support/recording-statuses.ts';

describe('Proxmox: node maintenance drains by live migration', () => {
  let sim: RunningProxmoxSimulator;
  let f: ConvergeFolder;
  let header = '';
  const hv = (extra = '') =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve-mnt}\nspec:\n  type: proxmox\n  endpoint: ${sim.url}\n  credentialsRef: {env: PVE_MNT}\n  defaults: {node: pve1, storage: local-lvm, bridge: vmbr0}\n  migration: {maxConcurrent: 2}\n${extra}`;
  const vm = (name: string, extra = '') =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}, namespace: mnt}\nspec:\n  hypervisor: pve-mnt\n  template: ubuntu-24.04\n  memory: 1Gi\n  disks: [{name: root, size: 10Gi}]\n${extra}`;
  const pinned = (node: string) => `  placement: {node: ${node}}\n`;
  const running = () => sim.dump().vms.filter((v) => !v.template && v.status === 'running');
  const where = () => Object.fromEntries(running().map((v) => [v.config.name, v.node]));
  const names = ['mnt-a', 'mnt-b', 'mnt-c', 'mnt-d', 'mnt-e'];

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 3, templates: ['ubuntu-24.04'], taskDurations: { default: 5, qmclone: 10, qmigrate: 60 }, agentDelayMs: 0 });
    header = hv();
    f = await convergeFolder({
      prefix: 'vk-pve-mnt-',
      header: () => header,
      credentials: directoryCredentials({ VIRTKEEPER_PVE_MNT_USERNAME: sim.credentials.username, VIRTKEEPER_PVE_MNT_PASSWORD: sim.credentials.password }),
    });
    // Everything starts on pve1 (pinned there to be made), then the pins go except one.
    await f.write(...names.map((n) => vm(n, pinned('pve1'))), vm('mnt-pin', pinned('pve1')));
    const r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    header = hv('  maintenance: [{node: pve1, reason: kernel update}]\n');
    await f.write(...names.map((n) => vm(n)), vm('mnt-pin', pinned('pve1')));
  });
  afterAll(async () => {
    await f?.close();
    await sim?.close();
  });

  it('moves every managed running VM off the node, keeps the pinned one, and reports it', async () => {
    expect(Object.values(where()).every((n) => n === 'pve1')).toBe(true);
    const events: string[] = [];
    const writes: StatusRecord[] = [];
    const statuses = recordingStatuses(f.opts.statuses, (rec) => {
      writes.push(structuredClone(rec));
    });
    const r = await converge({ ...f.opts, statuses, emit: (e) => e.type === 'action' && e.phase === 'start' && e.action === 'migrate' && events.push(e.key) });
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    const now = where();
    expect(Object.entries(now).filter(([n, node]) => node === 'pve1' && n !== 'mnt-pin')).toEqual([]);
    expect(now['mnt-pin']).toBe('pve1');
    expect(new Set(events).size).toBe(names.length);

    const hvStatus = (await f.opts.statuses.read('Hypervisor/pve-mnt'))?.status as { maintenance?: unknown[]; conditions?: { type: string; status: string; reason: string; message: string }[] };
    expect(hvStatus.maintenance).toEqual([
      expect.objectContaining({ node: 'pve1', reason: 'kernel update', phase: 'Drained', remaining: 1, pinned: ['mnt-pin'], moved: expect.arrayContaining(names) }),
    ]);
    expect(hvStatus.conditions?.find((c) => c.type === 'Maintenance')).toMatchObject({ status: 'True', reason: 'DrainedExceptPinned', message: 'pve1: 5 of 6 VMs moved, 1 pinned' });

    // Each moving VM's status showed the move while it ran, and says after where it went and why.
    const during = writes.filter((w) => w.key === 'VirtualMachine/mnt/mnt-a' && w.status.phase === 'Migrating').map((w) => w.status.migration);
    expect(during[0]).toEqual({ from: 'pve1', to: now['mnt-a'], reason: 'node pve1 in maintenance', progress: 0, startedAt: expect.stringMatching(/^\d{4}-/) });
    const st = (await f.opts.statuses.read('VirtualMachine/mnt/mnt-a'))?.status as { node?: string; lastAction?: string };
    expect(st.node).toBe(now['mnt-a']);
    expect(st.lastAction).toBe(`migrate (live, pve1 → ${now['mnt-a']}, node pve1 in maintenance)`);
    // Load respected: the five did not all land on one node.
    expect(new Set(names.map((n) => now[n])).size).toBe(2);
  });

  it('places nothing new on the node, and moves nothing back once the entry is removed', async () => {
    const all = () => f.write(...names.map((n) => vm(n)), vm('mnt-pin', pinned('pve1')), vm('mnt-new'), vm('mnt-new-pin', pinned('pve1')));
    await all();
    const r = await converge({ ...f.opts, timeoutMs: 4000 });
    expect(where()['mnt-new']).not.toBe('pve1');
    const waiting = r.outcomes.find((o) => o.key === 'VirtualMachine/mnt/mnt-new-pin');
    expect(waiting?.plan?.waiting).toMatch(/node pve1 is in maintenance \(kernel update\); mnt-new-pin is pinned there/);
    expect(sim.dump().vms.some((v) => v.config.name === 'mnt-new-pin')).toBe(false);

    const before = where();
    header = hv();
    await all();
    const lifted = await converge(f.opts);
    expect(lifted.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    const after = where();
    for (const n of names) expect(after[n]).toBe(before[n]);
    expect(after['mnt-new-pin']).toBe('pve1');
    const cond = ((await f.opts.statuses.read('Hypervisor/pve-mnt'))?.status as { conditions?: { type: string; reason: string }[] } | undefined)?.conditions;
    expect(cond?.find((c) => c.type === 'Maintenance')?.reason).toBe('NoMaintenance');
  });
  it('plan shows the moves; a VM no other node may take blocks the drain, and apply says so instead of waiting', async () => {
    header = hv();
    const rest = [...names.map((n) => vm(n)), vm('mnt-pin', pinned('pve1')), vm('mnt-new'), vm('mnt-new-pin', pinned('pve1'))];
    await f.write(...rest, vm('mnt-stuck', '  placement: {allowedNodes: [pve1]}\n'), vm('mnt-go', pinned('pve1')));
    let r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect([where()['mnt-stuck'], where()['mnt-go']]).toEqual(['pve1', 'pve1']);
    header = hv('  maintenance: [{node: pve1}]\n');
    await f.write(...rest, vm('mnt-stuck', '  placement: {allowedNodes: [pve1]}\n'), vm('mnt-go'));
    const plan = await converge({ ...f.opts, dryRun: true, wait: false });
    const hvPlan = plan.outcomes.find((o) => o.key === 'Hypervisor/pve-mnt');
    expect(hvPlan?.intents?.map((i) => i.summary)).toEqual([expect.stringMatching(/^live-migrate mnt-go from pve1 to pve[23] \(node maintenance\)$/)]);
    expect(where()['mnt-go']).toBe('pve1');
    const started = Date.now();
    r = await converge(f.opts);
    expect(Date.now() - started).toBeLessThan(20_000);
    const out = r.outcomes.find((o) => o.key === 'Hypervisor/pve-mnt');
    expect(out).toMatchObject({ ready: false, final: true, error: { code: 'VK_MAINTENANCE_BLOCKED' } });
    expect(out?.error?.message).toMatch(/waiting: mnt-stuck \(no eligible node among pve1 with 1024 MiB free\)/);
    expect(where()['mnt-go']).not.toBe('pve1');
    expect(where()['mnt-stuck']).toBe('pve1');
  });
});
