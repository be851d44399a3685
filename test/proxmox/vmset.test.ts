// A VirtualMachineSet with users on the Proxmox simulator: one stand per user, in that
// user's pool, with that user's access to the pool.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { loadConnector } from '../../providers/registry.ts';
import { startProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup) await c();
});

it('stamps one VM per user into that user pool, with access for the user', async () => {
  const sim = await startProxmoxSimulator({ nodes: 2, templates: ['ubuntu-24.04'], taskDurations: { default: 5, qmclone: 10 } });
  const dir = await mkdtemp(join(tmpdir(), 'vk-set-'));
  const pool = new HypervisorPool({ loadConnector, credentials: directoryCredentials({ VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` }), logger: pino({ level: 'silent' }), now: Date.now, observeMaxAgeMs: 0 });
  cleanup.push(async () => { await pool.closeAll(); await sim.close(); await rm(dir, { recursive: true, force: true }); await rm(`${dir}-state`, { recursive: true, force: true }); });
  await writeFile(join(dir, 'all.yaml'), `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n---\napiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSet\nmetadata: {name: course}\nspec:\n  users: [alice@pve, bob@pve]\n  namePattern: "{user}-{name}"\n  template: {hypervisor: pve, template: ubuntu-24.04, memory: 1Gi}\n  placement: {strategy: Spread}\n`);
  const r = await converge({ folder: dir, statuses: new StateDir(`${dir}-state`), hypervisors: pool, logger: pino({ level: 'silent' }), now: Date.now, sleep: async () => {}, wait: true, timeoutMs: 20_000 });
  expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
  const set = await new StateDir(`${dir}-state`).read('VirtualMachineSet/default/course');
  expect(set?.status).toMatchObject({ desired: 2, ready: 2, members: [{ name: 'alice-course', phase: 'Running', user: 'alice@pve' }, { name: 'bob-course', phase: 'Running', user: 'bob@pve' }] });
  const state = sim.dump();
  expect(state.vms.filter((v) => !v.template).map((v) => [v.config.name, v.pool]).sort()).toEqual([['alice-course', 'stand-alice'], ['bob-course', 'stand-bob']]);
  expect(state.acl.map((a) => [a.path, a.users, a.roles]).sort()).toEqual([['/pool/stand-alice', 'alice@pve', 'PVEVMUser'], ['/pool/stand-bob', 'bob@pve', 'PVEVMUser']]);
});
