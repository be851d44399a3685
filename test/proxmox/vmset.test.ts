// A VirtualMachineSet with users on the Proxmox simulator: one stand per user, in that
// user's pool, with that user's access to the pool.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { loadConnector } from '../../providers/registry.ts';
import { startProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup) await c();
});

it('stamps one VM per user into that user pool, with access for the user', async () => {
  const sim = await startProxmoxSimulator({ nodes: 2, templates: ['ubuntu-24.04'], taskDurations: { default: 5, qmclone: 10 } });
  const dir = await mkdtemp(join(tmpdir(), 'vk-set-'));
  const pool = new HypervisorPool({
    loadConnector,
    credentials: directoryCredentials({ VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` }),
    logger: pino({ level: 'silent' }),
    now: Date.now,
    observeMaxAgeMs: 0,
  });
  cleanup.push(async () => {
    await pool.closeAll();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-state`, { recursive: true, force: true });
  });
  await writeFile(
    join(dir, 'all.yaml'),
    `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n---\napiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSet\nmetadata: {name: course}\nspec:\n  users: [alice@pve, bob@pve]\n  namePattern: "{user}-{name}"\n  template: {hypervisor: pve, template: ubuntu-24.04, memory: 1Gi}\n  placement: {strategy: Spread}\n`,
  );
  const r = await converge({
    folder: dir,
    statuses: new StateDir(`${dir}-state`),
    hypervisors: pool,
    logger: pino({ level: 'silent' }),
    now: Date.now,
    sleep: async () => {},
    wait: true,
    timeoutMs: 20_000,
  });
  expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
  const set = await new StateDir(`${dir}-state`).read('VirtualMachineSet/default/course');
  expect(set?.status).toMatchObject({
    desired: 2,
    ready: 2,
    members: [
      { name: 'alice-course', phase: 'Running', user: 'alice@pve' },
      { name: 'bob-course', phase: 'Running', user: 'bob@pve' },
    ],
  });
  const state = sim.dump();
  expect(
    state.vms
      .filter((v) => !v.template)
      .map((v) => [v.config.name, v.pool])
      .sort(),
  ).toEqual([
    ['alice-course', 'stand-alice'],
    ['bob-course', 'stand-bob'],
  ]);
  expect(state.acl.map((a) => [a.path, a.users, a.roles]).sort()).toEqual([
    ['/pool/stand-alice', 'alice@pve', 'PVEVMUser'],
    ['/pool/stand-bob', 'bob@pve', 'PVEVMUser'],
  ]);
});

describe('pools and access (Proxmox simulator over HTTP)', () => {
  let sim: Awaited<ReturnType<typeof startProxmoxSimulator>>;
  let f: ConvergeFolder;
  let hvExtra = '';
  beforeEach(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5, qmclone: 10 } });
    hvExtra = '';
    f = await convergeFolder({
      prefix: 'vk-pools-',
      header: () => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec:\n  type: proxmox\n  endpoint: "${sim.url}"\n  credentialsRef: {env: PVE}\n${hvExtra}`,
      credentials: directoryCredentials({ VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` }),
    });
  });
  afterEach(async () => {
    await f.close();
    await sim.close();
  });
  const api = (method: string, path: string, body: Record<string, string>) =>
    fetch(`${sim.url}/api2/json${path}`, {
      method,
      headers: { authorization: `PVEAPIToken=${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });
  const set = (users: string, ns = 'default', pattern = '{user}-{name}') =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSet\nmetadata: {name: course, namespace: ${ns}}\nspec:\n  users: [${users}]\n  namePattern: "${pattern}"\n  template: {hypervisor: pve, template: ubuntu-24.04, memory: 1Gi, runStrategy: Halted}\n`;
  const guests = () =>
    sim
      .dump()
      .vms.filter((v) => !v.template)
      .map((v) => [v.config.name, v.pool])
      .sort();

  it('alice@pve and alice@pam get a stand each, in a pool each, with access each', async () => {
    await f.write(set('alice@pve, alice@pam'));
    const r = await converge(f.opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(guests()).toEqual([
      ['alice-course', 'stand-alice'],
      ['alice-pam-course', 'stand-alice-pam'],
    ]);
    expect(
      sim
        .dump()
        .acl.map((a) => [a.path, a.users])
        .sort(),
    ).toEqual([
      ['/pool/stand-alice', 'alice@pve'],
      ['/pool/stand-alice-pam', 'alice@pam'],
    ]);
    // Made concurrently: in either order.
    expect(
      sim
        .dump()
        .pools.map((p) => [p.poolid, p.comment])
        .sort(),
    ).toEqual([
      ['stand-alice', 'virtkeeper.io/owner=Pool/default/stand-alice (created by virtkeeper)'],
      ['stand-alice-pam', 'virtkeeper.io/owner=Pool/default/stand-alice-pam (created by virtkeeper)'],
    ]);
  });

  it('never grants on an existing pool virtkeeper did not make: owner mallory@pve, pool prod is refused, nothing made', async () => {
    expect((await api('POST', '/pools', { poolid: 'prod', comment: 'production' })).status).toBe(200);
    expect((await api('POST', '/nodes/pve1/qemu', { vmid: '600', name: 'billing', memory: '512', pool: 'prod' })).status).toBe(200);
    await f.write(`apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: sneaky}\nspec: {hypervisor: pve, template: ubuntu-24.04, memory: 1Gi, owner: mallory@pve, pool: prod}\n`);
    const r = await converge({ ...f.opts, wait: false });
    const err = r.outcomes.find((o) => o.key === 'VirtualMachine/default/sneaky')?.error;
    expect(err?.code).toBe('VK_REFUSED_FOREIGN_POOL');
    expect(err?.message).toBe(
      'pool prod exists and was not made by virtkeeper, so virtkeeper does not give mallory@pve access to it (it may hold VMs virtkeeper never made). Choose a pool name that does not exist yet (spec.pool), or grant the access on Proxmox yourself',
    );
    expect(sim.dump().acl).toEqual([]);
    expect(guests()).toEqual([['billing', 'prod']]);
  });

  it('never puts a VM in a pool virtkeeper made for another namespace', async () => {
    await f.write(set('alice@pve', 'team-a'));
    await converge(f.opts);
    await f.write(set('alice@pve', 'team-a'), set('alice@pve', 'team-b', '{user}-{name}-b'));
    const r = await converge({ ...f.opts, wait: false });
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/team-b/alice-course-b')?.error).toEqual({
      code: 'VK_REFUSED_FOREIGN_POOL',
      message: 'pool stand-alice was made by virtkeeper for namespace team-a; a VM of namespace team-b is not put there, its users would see it. Choose another pool (spec.pool)',
    });
    expect(guests()).toEqual([['alice-course', 'stand-alice']]);
    expect(sim.dump().acl.map((a) => [a.path, a.users])).toEqual([['/pool/stand-alice', 'alice@pve']]);
  });

  it('grants pool access only where the Hypervisor allows it', async () => {
    hvExtra = '  allowPoolGrants: {namespaces: [courses]}\n';
    await f.write(set('bob@pve'), set('carol@pve', 'courses'));
    const r = await converge({ ...f.opts, wait: false });
    const err = r.outcomes.find((o) => o.key === 'VirtualMachine/default/bob-course')?.error;
    expect(err).toEqual({
      code: 'VK_REFUSED_POOL_GRANT',
      message:
        'VirtualMachine default/bob-course would give bob@pve access to pool stand-bob, but Hypervisor pve does not let namespace default grant pool access; add it to spec.allowPoolGrants.namespaces of Hypervisor pve, or drop spec.owner/spec.pool. Nothing was changed',
    });
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/courses/carol-course')?.error).toBeUndefined();
    expect(sim.dump().acl.map((a) => [a.path, a.users])).toEqual([['/pool/stand-carol', 'carol@pve']]);
    expect(guests()).toEqual([['carol-course', 'stand-carol']]);
    expect(sim.dump().pools.map((p) => p.poolid)).toEqual(['stand-carol']);
  });

  it('a set member never replaces a VirtualMachine of the same name: both are held and the problem names both files', async () => {
    await writeFile(
      join(f.dir, 'vm.yaml'),
      `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: alice-course}\nspec: {hypervisor: pve, template: ubuntu-24.04, memory: 2Gi, runStrategy: Halted}\n`,
    );
    await f.write();
    await converge(f.opts);
    expect(sim.dump().vms.find((v) => v.config.name === 'alice-course')?.config.memory).toBe('2048');
    await writeFile(join(f.dir, 'set.yaml'), set('alice@pve, bob@pve'));
    const r = await converge({ ...f.opts, wait: false });
    expect(r.problems).toEqual([
      'set.yaml:3: VirtualMachineSet default/course metadata.name: duplicate name: VirtualMachine default/alice-course (a member of VirtualMachineSet default/course for user alice@pve) is also VirtualMachine default/alice-course at vm.yaml:3; neither is applied: change spec.namePattern or the other name',
      'vm.yaml:3: VirtualMachine default/alice-course metadata.name: duplicate name: VirtualMachine default/alice-course is also VirtualMachine default/alice-course (a member of VirtualMachineSet default/course for user alice@pve) at set.yaml:3; neither is applied: rename one of them',
    ]);
    const alice = sim.dump().vms.find((v) => v.config.name === 'alice-course');
    expect([alice?.config.memory, alice?.pool, sim.dump().acl]).toEqual(['2048', undefined, []]);
    expect(guests()).toEqual([['alice-course', undefined]]);
  });
});
