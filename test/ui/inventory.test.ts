// The inventory model, its filters and sorting, the usage ring and the metrics: pure, no network.
import { describe, expect, it } from 'vitest';
import type { Observation, ObservedVM } from '../../controller/core/model.ts';
import { Metrics } from '../../controller/runtime/metrics.ts';
import type { StatusRecord } from '../../controller/status/writer.ts';
import { usageCharts } from '../../controller/ui/chart.ts';
import { buildInventory, countPerHypervisor, matches, parseFilter, planStateOf, sortVMs } from '../../controller/ui/inventory.ts';
import { inventoryPage, parseListQuery } from '../../controller/ui/pages-inventory.ts';
import { UsageHistory } from '../../controller/ui/usage-history.ts';
import { registerUsageMetrics } from '../../controller/ui/usage-metrics.ts';
import { vm } from './support.ts';

const obs = (vms: ObservedVM[]): Observation => ({ vms, nodes: [{ name: 'n1', state: 'online', cpus: 8, cpuUsage: 0.25, memoryBytes: 2 ** 35, memoryUsedBytes: 2 ** 34 }], templates: [] });
const record = (name: string, status: Record<string, unknown>): StatusRecord => ({ key: `VirtualMachine/default/${name}`, kind: 'VirtualMachine', namespace: 'default', name, status, updatedAt: '' });
const cond = (type: string, status: string, reason = '') => ({ type, status, reason, message: '', lastTransitionTime: '' });

describe('planStateOf', () => {
  it.each([
    ['no record', undefined, 'not reconciled'],
    ['Ready', { conditions: [cond('Ready', 'True', 'Converged')] }, 'in sync'],
    ['actions planned', { conditions: [cond('Ready', 'False', 'Reconciling')], plannedActions: [{ type: 'resize' }] }, 'changes pending'],
    ['restart required', { conditions: [cond('Ready', 'True'), cond('RestartRequired', 'True', 'CpuChange')] }, 'restart required'],
    ['refused', { phase: 'Failed', conditions: [cond('Ready', 'False', 'Refused'), cond('RestartRequired', 'True')] }, 'refused'],
  ])('%s → %s', (_what, status, plan) => {
    expect(planStateOf(status ? record('x', status) : undefined).plan).toBe(plan);
  });
});

describe('buildInventory', () => {
  const owner = { kind: 'VirtualMachine', namespace: 'billing', name: 'app' };
  const inv = buildInventory({
    hypervisors: [
      {
        name: 'pve',
        type: 'proxmox',
        observation: obs([vm('app', { owner, ipAddresses: ['10.0.0.5'] }), vm('legacy', { power: 'stopped', node: 'n2' }), vm('tpl', { isTemplate: true })]),
        observedAt: 1,
      },
      { name: 'eng', type: 'ovirt', defaults: { datacenter: 'DC', cluster: 'C1' }, observation: obs([vm('web', { owner: { kind: 'VirtualMachine', name: 'web' } })]), observedAt: 1 },
      { name: 'kvm', type: 'libvirt' },
    ],
    records: [{ ...record('app', { conditions: [cond('Ready', 'True')] }), key: 'VirtualMachine/billing/app', namespace: 'billing' }],
  });

  it('lists every VM, managed or not, templates left out, with owner, plan and place', () => {
    expect(inv.vms.map((v) => `${v.hypervisor}/${v.name}:${v.managed}:${v.plan}`)).toEqual(['eng/web:true:not reconciled', 'pve/app:true:in sync', 'pve/legacy:false:unmanaged']);
    const web = inv.vms[0];
    expect(web).toMatchObject({ datacenter: 'DC', cluster: 'C1', type: 'ovirt', vcpus: 2, diskBytes: 10 * 2 ** 30, owner: { key: 'VirtualMachine/default/web' } });
    expect(inv.hypervisors.find((h) => h.name === 'kvm')).toMatchObject({ vmCount: 0, nodes: [] });
    expect(inv.hypervisors.find((h) => h.name === 'pve')?.nodes[0]).toMatchObject({ name: 'n1', vmCount: 1 });
  });

  it('filters combine, and the text box looks at name, IP and owner', () => {
    const names = (q: Record<string, string>) => inv.vms.filter((v) => matches(v, parseFilter(q))).map((v) => v.name);
    expect(names({ hypervisor: 'pve' })).toEqual(['app', 'legacy']);
    expect(names({ hypervisor: 'pve', managed: 'false' })).toEqual(['legacy']);
    expect(names({ state: 'running', type: 'proxmox' })).toEqual(['app']);
    expect(names({ namespace: 'billing' })).toEqual(['app']);
    expect(names({ namespace: 'default' })).toEqual(['web']);
    expect(names({ q: '10.0.0.5' })).toEqual(['app']);
    expect(names({ q: 'billing/' })).toEqual(['app']);
    expect(names({ node: 'n2', managed: 'true' })).toEqual([]);
    expect(names({ managed: 'maybe', bogus: 'x' })).toEqual(['web', 'app', 'legacy']);
    expect(countPerHypervisor(inv.vms)).toEqual(
      new Map([
        ['eng', 1],
        ['pve', 2],
      ]),
    );
  });

  it('sorts by any column, both ways', () => {
    const withMem = [...inv.vms, { ...(inv.vms[0] as (typeof inv.vms)[number]), name: 'big', memoryBytes: 2 ** 40 }];
    expect(sortVMs(withMem, 'memory', true)[0]?.name).toBe('big');
    expect(sortVMs(inv.vms, 'name', false).map((v) => v.name)).toEqual(['app', 'legacy', 'web']);
    expect(sortVMs(inv.vms, 'name', true).map((v) => v.name)).toEqual(['web', 'legacy', 'app']);
  });
});

describe('inventory page at scale', () => {
  it('renders 10,000 VMs filtered, sorted and paged in well under a second', () => {
    const many = Array.from({ length: 10_000 }, (_, i) =>
      vm(`vm-${String(i).padStart(5, '0')}`, { node: `n${i % 20}`, ipAddresses: [`10.1.${i >> 8}.${i & 255}`], usage: { cpuRatio: (i % 100) / 100 } }),
    );
    const inv = buildInventory({ hypervisors: [{ name: 'big', type: 'proxmox', observation: obs(many), observedAt: 1 }], records: [] });
    const t0 = performance.now();
    const all = inventoryPage(inv, parseListQuery({ sort: 'cpu', desc: '1' }, {}));
    const narrowed = inventoryPage(inv, parseListQuery({}, parseFilter({ node: 'n3', q: 'vm-00' })));
    const text = all.body.text;
    const ms = performance.now() - t0;
    expect(all.total).toBe(10_000);
    expect(all.shown).toHaveLength(100);
    expect(all.shown[0]?.usage?.cpuRatio).toBe(0.99);
    expect(narrowed.total).toBe(50);
    expect(text).toContain('page 1 of 100');
    expect(ms).toBeLessThan(1000);
  });

  it('escapes what the hypervisor says', () => {
    const inv = buildInventory({ hypervisors: [{ name: 'h', type: 'libvirt', observation: obs([vm('<script>alert(1)</script>')]), observedAt: 1 }], records: [] });
    const text = inventoryPage(inv, parseListQuery({}, {})).body.text;
    expect(text).not.toContain('<script>alert');
    expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('UsageHistory', () => {
  it('keeps the last hour per VM, one point per interval, the newest always shown', () => {
    let now = 0;
    const h = new UsageHistory({ now: () => now, windowMs: 60_000, minIntervalMs: 10_000 });
    for (now = 0; now <= 120_000; now += 2000) h.record('hv', 'a', { cpuRatio: now / 120_000 }, now);
    const s = h.samples('hv', 'a');
    expect(s.at(-1)?.at).toBe(120_000);
    expect(s[0]?.at).toBeGreaterThanOrEqual(60_000);
    expect(s.length).toBeLessThanOrEqual(8);
    // Kept points are an interval apart, less one sampling period (the newest slides until it is).
    for (let i = 2; i < s.length; i++) expect((s[i - 1]?.at ?? 0) - (s[i - 2]?.at ?? 0)).toBeGreaterThanOrEqual(8000);
  });

  it('holds an hour of 10,000 VMs in under 100 MB, 122 samples a VM at most', () => {
    let now = 0;
    const h = new UsageHistory({ now: () => now });
    const before = process.memoryUsage().arrayBuffers;
    for (now = 0; now <= 3_900_000; now += 30_000) for (let i = 0; i < 10_000; i++) h.record('hv', `vm${i}`, { cpuRatio: 0.5, memoryUsedBytes: 2 ** 30, diskReadBytes: now * 100 }, now);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(h.tracked).toBe(10_000);
    const s = h.samples('hv', 'vm7');
    expect(s.length).toBeLessThanOrEqual(122);
    expect(s.at(-1)).toEqual({ at: 3_900_000, cpuRatio: 0.5, memoryUsedBytes: 2 ** 30, diskReadBytes: 390_000_000 });
    expect(grown).toBeLessThan(100 * 2 ** 20);
  });

  it('is bounded in VMs (least recently seen go first) and forgets VMs gone', () => {
    const h = new UsageHistory({ now: () => 0, maxVMs: 3 });
    for (const id of ['a', 'b', 'c', 'a', 'd']) h.record('hv', id, { cpuRatio: 0.1 }, 0);
    expect(h.tracked).toBe(3);
    expect(h.samples('hv', 'b')).toEqual([]);
    expect(h.samples('hv', 'a')).toHaveLength(1);
    h.retain(new Set([UsageHistory.key('hv', 'd')]));
    expect(h.tracked).toBe(1);
  });

  it('charts CPU, memory and the rates of the counters; a counter that went down (restart) gives no rate', () => {
    const samples = [
      { at: 0, cpuRatio: 0.1, memoryUsedBytes: 100, networkReceiveBytes: 0 },
      { at: 10_000, cpuRatio: 0.5, memoryUsedBytes: 200, networkReceiveBytes: 10_240 },
      { at: 20_000, cpuRatio: 0.2, memoryUsedBytes: 150, networkReceiveBytes: 5 },
    ];
    const svg = usageCharts(samples, { now: 20_000, windowMs: 60_000 }).text;
    expect(svg).toContain('data-samples="3"');
    expect(svg).toContain('CPU: <b>20.0 %</b>');
    expect(svg).toContain('Network receive: <b>1.0 KiB/s</b>');
    expect((svg.match(/<path class="line"/g) ?? []).length).toBe(3);
  });
});

describe('usage metrics', () => {
  it('exposes VM and node gauges labelled by hypervisor, node, VM and owner', () => {
    const inv = buildInventory({
      hypervisors: [
        {
          name: 'pve',
          type: 'proxmox',
          observation: obs([
            vm('app', { owner: { kind: 'VirtualMachine', namespace: 'b', name: 'app' }, usage: { cpuRatio: 0.5, memoryUsedBytes: 1024, diskReadBytes: 7, networkTransmitBytes: 9 } }),
            vm('bare'),
          ]),
          observedAt: 1,
        },
      ],
      records: [],
    });
    const m = new Metrics();
    registerUsageMetrics(m, () => inv);
    const text = m.render();
    expect(text).toContain('virtkeeper_vm_cpu_ratio{hypervisor="pve",node="n1",vm="app",owner="b/app"} 0.5');
    expect(text).toContain('virtkeeper_vm_memory_used_bytes{hypervisor="pve",node="n1",vm="app",owner="b/app"} 1024');
    expect(text).toContain('virtkeeper_vm_disk_read_bytes_total{hypervisor="pve",node="n1",vm="app",owner="b/app"} 7');
    expect(text).toContain('virtkeeper_vm_network_transmit_bytes_total{hypervisor="pve",node="n1",vm="app",owner="b/app"} 9');
    expect(text).not.toContain('vm="bare"');
    expect(text).toContain('virtkeeper_node_cpu_ratio{hypervisor="pve",node="n1"} 0.25');
    expect(text).toContain('virtkeeper_node_vms{hypervisor="pve",node="n1"} 2');
  });
});

describe('InventoryFeed events', () => {
  it('keeps actions and errors, drops progress ticks and repeats of the same status', async () => {
    const { InventoryFeed } = await import('../../controller/ui/feed.ts');
    const feed = new InventoryFeed({ now: () => 5, observations: async () => [], records: async () => [] });
    const key = 'VirtualMachine/default/a';
    feed.sink({ type: 'status', key, phase: 'Running', ready: 'True', message: 'ok' });
    feed.sink({ type: 'progress', key, action: 'create', percent: 50 });
    feed.sink({ type: 'status', key, phase: 'Running', ready: 'True', message: 'ok' });
    feed.sink({ type: 'action', key, phase: 'done', action: 'resize', summary: 'resize' });
    feed.sink({ type: 'status', key, phase: 'Updating', ready: 'False', message: 'x' });
    expect(feed.recentEvents({ key }).map((e) => e.type)).toEqual(['status', 'action', 'status']);
  });
});

describe('listen addresses', () => {
  it.each([
    ['8090', '127.0.0.1', 8090, true],
    ['127.0.0.1:0', '127.0.0.1', 0, true],
    ['localhost:8090', 'localhost', 8090, true],
    ['[::1]:8090', '::1', 8090, true],
    ['0.0.0.0:8090', '0.0.0.0', 8090, false],
    ['10.1.2.3:80', '10.1.2.3', 80, false],
  ])('%s → %s:%d (loopback %s)', async (addr, host, port, loopback) => {
    const { isLoopback, parseListen } = await import('../../controller/ui/security.ts');
    expect(parseListen(addr)).toEqual({ host, port });
    expect(isLoopback(host)).toBe(loopback);
  });

  it.each(['http://x:80', 'host:', ':99999', 'a b:1'])('refuses %s with what to write', async (addr) => {
    const { parseListen } = await import('../../controller/ui/security.ts');
    expect(() => parseListen(addr)).toThrow(/expected HOST:PORT or PORT/);
  });
});

describe('throughput', () => {
  it('is the counters’ difference over time between the last two observations, none over a restart', async () => {
    const { InventoryFeed } = await import('../../controller/ui/feed.ts');
    const { throughputOf } = await import('../../controller/ui/usage-history.ts');
    expect(throughputOf({ at: 0, diskReadBytes: 100, networkReceiveBytes: 50 }, { at: 2000, diskReadBytes: 2148, networkReceiveBytes: 10 })).toEqual({ diskReadBps: 1024 });
    expect(throughputOf({ at: 5, diskReadBytes: 1 }, { at: 5, diskReadBytes: 9 })).toBeUndefined();
    let now = 0;
    let read = 0;
    const feed = new InventoryFeed({
      now: () => now,
      records: async () => [],
      observations: async () => [{ name: 'h', type: 'proxmox', observedAt: now, observation: obs([vm('a', { usage: { diskReadBytes: read, networkTransmitBytes: read * 2 } })]) }],
    });
    await feed.refresh();
    expect(feed.current().vms[0]?.throughput).toBeUndefined();
    now = 40_000;
    read = 40 * 1024 * 1024;
    await feed.refresh();
    expect(feed.current().vms[0]?.throughput).toEqual({ diskReadBps: 1024 * 1024, networkTransmitBps: 2 * 1024 * 1024 });
    expect(inventoryPage(feed.current(), parseListQuery({}, {})).body.text).toContain('1.0 MiB/s ⇅ 0 B/s');
  });
});
