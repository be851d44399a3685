// What the Proxmox observation remembers between processes (the provider memory): a fresh
// provider reads no config for a guest whose list row is as remembered, reads one whose row
// changed, and finds a config edited behind its back (the row unchanged) at the full read.
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { ProviderMemory } from '../../controller/core/provider.ts';
import { ProxmoxClient } from '../../providers/proxmox/client.ts';
import { proxmoxConnector, proxmoxProvider } from '../../providers/proxmox/index.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

const logger = pino({ level: 'silent' });

function memoryStore(): ProviderMemory & { texts: Map<string, string> } {
  const texts = new Map<string, string>();
  return { texts, read: async (k) => texts.get(k), write: async (k, t) => void texts.set(k, t) };
}

describe('Proxmox observation memory', () => {
  let sim: RunningProxmoxSimulator;
  afterEach(async () => sim?.close());

  const provider = (memory: ProviderMemory, fullReadMs?: number) =>
    proxmoxProvider({
      client: new ProxmoxClient({ endpoint: sim.url, credentials: { token: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` } }),
      logger,
      memory,
      ...(fullReadMs !== undefined ? { fullReadMs } : {}),
    });
  const configReads = () => sim.stats()['GET /nodes/{node}/qemu/{vmid}/pending'] ?? 0;

  it('a fresh process reads only the configs of rows that changed, and a hidden edit at the full read', async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 0 }, agentDelayMs: 0 });
    const raw = new ProxmoxClient({ endpoint: sim.url, credentials: { token: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` } });
    for (const vmid of [200, 201]) await raw.waitForTask(await raw.post<string>('/nodes/pve1/qemu', { vmid, name: `m-${vmid}`, memory: 1024, scsi0: 'local-lvm:4', description: 'x' }));
    const memory = memoryStore();
    const first = provider(memory);
    await first.vms.observe();
    await first.close();
    expect(memory.texts.size).toBe(1);

    // A fresh process: the list call alone.
    sim.resetStats();
    const second = provider(memory);
    const seen = await second.vms.observe();
    expect(configReads()).toBe(0);
    expect(seen.vms.find((v) => v.name === 'm-200')?.memoryBytes).toBe(1024 * 2 ** 20);
    await second.close();

    // The row of one changes (memory shows in maxmem): that config alone is read.
    await raw.put('/nodes/pve1/qemu/201/config', { memory: 2048 });
    sim.resetStats();
    const third = provider(memory);
    expect((await third.vms.observe()).vms.find((v) => v.name === 'm-201')?.memoryBytes).toBe(2048 * 2 ** 20);
    expect(configReads()).toBe(1);
    await third.close();

    // Edited behind its back with the row unchanged: unseen until the full read, then found.
    await raw.put('/nodes/pve1/qemu/200/config', { net0: 'virtio,bridge=vmbr0,tag=7' });
    const stale = provider(memory);
    expect((await stale.vms.observe()).vms.find((v) => v.name === 'm-200')?.nics).toEqual([]);
    await stale.close();
    // The Hypervisor's spec.fullResyncInterval sets when that full read comes.
    const full = await proxmoxConnector.connect({
      name: 'pve',
      spec: { type: 'proxmox', endpoint: sim.url, credentialsRef: { env: 'PVE' }, fullResyncInterval: '1ms' },
      credentials: { token: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` },
      logger,
      memory,
    });
    await new Promise((r) => setTimeout(r, 5));
    expect((await full.vms.observe()).vms.find((v) => v.name === 'm-200')?.nics[0]).toMatchObject({ network: 'vmbr0', vlan: 7 });
    await full.close();
    await raw.close();
  });
});
