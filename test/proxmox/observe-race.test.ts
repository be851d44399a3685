// Proxmox observation while an action finishes (issue 12, item 13): a pass that read a guest's
// config (or took it from the cache) keeps it even when an action on that guest drops the cache
// entry before the pass returns. Before, the guest came out with no config, hence no marker:
// virtkeeper's own VM, refused as foreign. The real provider over HTTP to the simulator; only
// the moment of one read is held, to make the interleaving certain.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxmoxClient } from '../../providers/proxmox/client.ts';
import { proxmoxProvider } from '../../providers/proxmox/index.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { contractVM } from '../contract/provider-contract.ts';

/** A client whose read of one path waits until released: the HTTP still goes to the simulator. */
class HeldClient extends ProxmoxClient {
  hold: { path: string; until: Promise<void>; reached: () => void } | undefined;
  override async get<T = unknown>(path: string, params: Record<string, string | number> = {}): Promise<T> {
    const h = this.hold;
    if (h && path === h.path) {
      this.hold = undefined;
      h.reached();
      await h.until;
    }
    return super.get<T>(path, params);
  }
}

describe('Proxmox observe during an action', () => {
  let sim: RunningProxmoxSimulator;
  let client: HeldClient;
  afterEach(async () => {
    await client.close();
    await sim.close();
  });

  it('keeps the marker of a guest whose cache entry an action drops mid-pass', async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 0, qmclone: 0 }, agentDelayMs: 0 });
    client = new HeldClient({ endpoint: sim.url, credentials: { username: sim.credentials.username, password: sim.credentials.password } });
    const provider = proxmoxProvider({ client, logger: pino({ level: 'silent' }) });
    const a = contractVM('race-a', 'ubuntu-24.04', { clone: 'linked' });
    const b = contractVM('race-b', 'ubuntu-24.04', { clone: 'linked' });
    await provider.vms.execute({ type: 'create', vm: a });
    await provider.vms.execute({ type: 'create', vm: b });
    const first = await provider.vms.observe(); // both guests' configs are cached now
    const va = first.vms.find((v) => v.name === 'race-a');
    const vb = first.vms.find((v) => v.name === 'race-b');
    if (!va || !vb) throw new Error('not created');

    // A pass that re-reads race-b is held there, with race-a taken from the cache...
    let release = () => {};
    let reached = () => {};
    const atRead = new Promise<void>((r) => (reached = r));
    client.hold = { path: `/nodes/${vb.node}/qemu/${vb.providerID.split('/')[1]}/pending`, until: new Promise<void>((r) => (release = r)), reached };
    const pass = provider.vms.observe({ refresh: [vb.providerID] });
    await atRead;
    // ...while an action on race-a finishes and drops race-a's cache entry.
    await provider.vms.execute({ type: 'setAutostart', target: { providerID: va.providerID, name: va.name, ...(va.node ? { node: va.node } : {}), owner: a.owner }, enabled: true });
    release();
    const obs = await pass;
    expect(obs.vms.filter((v) => !v.isTemplate).map((v) => [v.name, v.owner])).toEqual([
      ['race-a', a.owner],
      ['race-b', b.owner],
    ]);
  });
});
