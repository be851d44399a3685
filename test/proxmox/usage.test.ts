// Usage on Proxmox comes with the one list call: /cluster/resources rows of running VMs carry
// cpu, mem and the I/O counters, which move with the simulator's clock; a stopped VM has none;
// a second observation asks nothing more than the list.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderClient } from '../../controller/core/provider.ts';
import type { ObservedVM, VMUsage } from '../../controller/core/model.ts';
import { proxmoxConnector } from '../../providers/proxmox/index.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

describe('Proxmox usage from the list call', () => {
  let sim: RunningProxmoxSimulator;
  let client: ProviderClient;
  let offsetMs = 0;

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5 }, clock: () => Date.now() + offsetMs });
    const state = sim.dump();
    const vm = (vmid: number, status: 'running' | 'stopped') => ({
      vmid,
      node: 'pve1',
      pending: {},
      pendingDelete: [],
      status,
      template: false,
      ...(status === 'running' ? { startedAt: Date.now() - 5000 } : {}),
      config: { name: `u${vmid}`, cores: '2', memory: '2048', scsi0: `local-lvm:vm-${vmid}-disk-0,size=8G` },
    });
    state.vms.push(vm(320, 'running'), vm(321, 'stopped'));
    sim.load(state);
    client = await proxmoxConnector.connect({
      name: 'pve',
      spec: { type: 'proxmox', endpoint: sim.url },
      credentials: { token: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` },
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await client.close();
    await sim.close();
  });

  const byName = async () => new Map<string, ObservedVM>((await client.vms.observe()).vms.map((v) => [v.name, v]));

  it('reports moving usage for a running VM and none for a stopped one, from the list alone', async () => {
    const first = await byName();
    const u1 = first.get('u320')?.usage as VMUsage;
    expect(u1.cpuRatio).toBeGreaterThan(0);
    expect(u1.cpuRatio).toBeLessThanOrEqual(1);
    expect(u1.memoryUsedBytes).toBeGreaterThan(0);
    expect(u1.memoryUsedBytes).toBeLessThan(2048 * 2 ** 20);
    for (const k of ['diskReadBytes', 'diskWriteBytes', 'networkReceiveBytes', 'networkTransmitBytes'] as const) expect(u1[k]).toBeGreaterThan(0);
    expect(first.get('u321')?.usage).toBeUndefined();

    sim.resetStats();
    offsetMs = 90_000;
    const second = await byName();
    const u2 = second.get('u320')?.usage as VMUsage;
    // Counters are totals since the start: they only grow.
    for (const k of ['diskReadBytes', 'diskWriteBytes', 'networkReceiveBytes', 'networkTransmitBytes'] as const) expect(u2[k]).toBeGreaterThan(u1[k] ?? 0);
    expect(u2.cpuRatio).not.toBe(u1.cpuRatio);
    expect(second.get('u321')?.usage).toBeUndefined();
    // Nothing read but the list: the rows' signatures did not change.
    expect(sim.stats()).toEqual({ 'GET /cluster/resources': 1 });
  });
});
