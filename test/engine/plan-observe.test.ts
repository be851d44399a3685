// `plan` of VirtualDisks and VirtualNetworks asks the provider's read-only observe. A provider
// still behind the flat adapter cannot look without acting: the plan shows what the status
// suggests, marked "not checked against the hypervisor". On a provider that can look (libvirt,
// a real libvirtd) the plan says what ensure would do there, and nothing is made.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { renderPlan, planJson } from '../../controller/cli/render-plan.ts';
import { diskVolumeName } from '../../controller/core/disk-name.ts';
import type { DesiredNetwork, DesiredStandaloneDisk } from '../../controller/core/provider.ts';
import { converge } from '../../controller/runtime/converge.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { NoObservationError } from '../../controller/core/errors.ts';
import type { ProviderClient } from '../../controller/core/provider.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { loadConnector } from '../../providers/registry.ts';
import { MemoryProvider } from '../support/memory-provider.ts';

const plain = { paint: (_c: string, t: string) => t } as Parameters<typeof renderPlan>[1];
const s = Math.random().toString(36).slice(2, 6);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function plan(docs: string[], pool: HypervisorPool) {
  const dir = await mkdtemp(join(tmpdir(), 'vk-plan-observe-'));
  dirs.push(dir, `${dir}-state`);
  await writeFile(join(dir, 'all.yaml'), docs.join('---\n'));
  const r = await converge({ folder: dir, statuses: new StateDir(`${dir}-state`), hypervisors: pool, logger: pino({ level: 'silent' }), now: Date.now, sleep: async () => {}, dryRun: true });
  await pool.closeAll();
  return r;
}

describe('plan of disks and networks', () => {
  it('a provider that cannot observe: the intents as status suggests them, said to be unchecked', async () => {
    const vms = new MemoryProvider();
    const ensured: string[] = [];
    // A provider whose disks and networks can be ensured, not observed.
    const blind: ProviderClient = {
      capabilities: vms.capabilities,
      vms: vms.vms,
      disks: {
        observe: () => Promise.reject(new NoObservationError('disk')),
        ensure: async (d: DesiredStandaloneDisk) => {
          ensured.push(d.name);
          return { providerID: d.name, sizeBytes: d.sizeBytes };
        },
        delete: async () => {},
      },
      networks: {
        observe: () => Promise.reject(new NoObservationError('network')),
        ensure: async (n: DesiredNetwork) => {
          ensured.push(n.name);
          return { present: true, providerIDs: [n.name] };
        },
        delete: async () => {},
      },
      close: async () => {},
    };
    const pool = new HypervisorPool({
      loadConnector: async () => ({ type: 'proxmox', connect: async () => blind }),
      credentials: async () => ({ none: true }),
      logger: pino({ level: 'silent' }),
      now: Date.now,
    });
    const r = await plan(
      [
        'apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: mem}\nspec: {type: proxmox, endpoint: "http://127.0.0.1:1"}\n',
        'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualDisk\nmetadata: {name: data}\nspec: {hypervisor: mem, size: 2Gi}\n',
        'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualNetwork\nmetadata: {name: backend}\nspec: {vlanId: 42, hypervisors: [{hypervisor: mem}]}\n',
      ],
      pool,
    );
    expect(r.outcomes.find((o) => o.key === 'VirtualDisk/default/data')?.intents).toEqual([{ symbol: '+', summary: 'create disk data of 2Gi', unchecked: true }]);
    expect(r.outcomes.find((o) => o.key === 'VirtualNetwork/backend')?.intents).toEqual([{ symbol: '+', summary: 'make VLAN 42 available on mem', unchecked: true }]);
    expect(renderPlan(r.outcomes, plain)).toContain('+ create disk data of 2Gi\n  … not checked against the hypervisor: its provider cannot look without acting yet');
    expect(planJson(r.outcomes).actions).toContainEqual({ resource: 'VirtualDisk/default/data', type: 'ensure', symbol: '+', summary: 'create disk data of 2Gi', checked: false });
    expect(ensured).toEqual([]);
  });

  const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
  it.skipIf(!uri)('on libvirt: what ensure would do there, observed, and nothing made', async () => {
    const pool = new HypervisorPool({ loadConnector, credentials: async () => ({ none: true }), logger: pino({ level: 'silent' }), now: Date.now, observeMaxAgeMs: 0 });
    const disk = `plan-${s}`;
    const net = `vk-plan-${s}`;
    const r = await plan(
      [
        `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: kvm}\nspec: {type: libvirt, hosts: [{name: host1, uri: "${uri}"}]}\n`,
        `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualDisk\nmetadata: {name: ${disk}}\nspec: {hypervisor: kvm, size: 64Mi}\n`,
        `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualNetwork\nmetadata: {name: ${net}}\nspec: {vlanId: 121, hypervisors: [{hypervisor: kvm}]}\n`,
      ],
      pool,
    );
    const diskIntents = r.outcomes.find((o) => o.key === `VirtualDisk/default/${disk}`)?.intents ?? [];
    expect(diskIntents.map((i) => [i.symbol, i.unchecked])).toEqual([['+', undefined]]);
    expect(diskIntents[0]?.summary).toMatch(new RegExp(`^create volume ${diskVolumeName('default', disk)}.* 64 ?Mi(B)? in pool .* on host1$`));
    const netIntents = r.outcomes.find((o) => o.key === `VirtualNetwork/${net}`)?.intents ?? [];
    expect(netIntents.length).toBeGreaterThan(0);
    expect(netIntents.every((i) => !i.unchecked)).toBe(true);
    expect(renderPlan(r.outcomes, plain)).not.toContain('not checked against the hypervisor');
    // observe never mutates: neither the volume nor the network is there after the plan.
    const c = await LibvirtConnection.connect(uri);
    try {
      await expect(c.lookupNetwork(net)).rejects.toThrow();
    } finally {
      await c.close();
    }
  });
});
