import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { ProviderTransientError } from '../../controller/core/errors.ts';
import { MemoryProvider, memoryPool } from '../support/memory-provider.ts';

const hv = `apiVersion: virtkeeper.io/v1alpha1
kind: Hypervisor
metadata: {name: mem}
spec: {type: proxmox, endpoint: http://127.0.0.1:1}
`;
const vm = (name: string, extra = '') => `apiVersion: virtkeeper.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}}
spec:
  hypervisor: mem
  template: ubuntu-24.04
  memory: 1Gi
  disks: [{name: root, size: 10Gi}]
${extra}`;

describe('converge (directory mode, in-memory provider)', () => {
  let dir: string;
  let state: StateDir;
  let provider: MemoryProvider;
  let opts: ConvergeOptions;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vk-folder-'));
    state = new StateDir(await mkdtemp(join(tmpdir(), 'vk-state-')));
    provider = new MemoryProvider();
    const hypervisors = memoryPool(provider);
    opts = { folder: dir, statuses: state, hypervisors, logger: pino({ level: 'silent' }), now: () => Date.now(), sleep: async () => {}, wait: true, timeoutMs: 5000 };
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(state.dir, { recursive: true, force: true });
  });

  it('creates, starts and reports Ready; a second pass does nothing', async () => {
    await writeFile(join(dir, 'all.yaml'), `${hv}---\n${vm('a')}---\n${vm('b')}`);
    const r = await converge(opts);
    expect(r.problems).toEqual([]);
    expect(r.outcomes.every((o) => o.ready)).toBe(true);
    const obs = await provider.vms.observe();
    expect(obs.vms.map((v) => [v.name, v.power]).sort()).toEqual([
      ['a', 'running'],
      ['b', 'running'],
    ]);
    const st = await state.read('VirtualMachine/default/a');
    expect(st?.status).toMatchObject({ phase: 'Running', observedGeneration: 1, providerID: expect.any(String) });
    const before = provider.calls.actions.length;
    await converge(opts);
    expect(provider.calls.actions.length).toBe(before);
  });

  it('plan (dry run) changes nothing and writes nothing', async () => {
    await writeFile(join(dir, 'all.yaml'), `${hv}---\n${vm('a')}`);
    const r = await converge({ ...opts, dryRun: true, wait: false });
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/a')?.plan?.steps.map((s) => s.action.type)).toEqual(['create', 'start']);
    expect(provider.calls.actions).toEqual([]);
  });

  it('a broken file holds its resources: nothing is deleted', async () => {
    await writeFile(join(dir, 'hv.yaml'), hv);
    await writeFile(join(dir, 'a.yaml'), vm('a'));
    await converge(opts);
    await writeFile(join(dir, 'a.yaml'), 'kind: [broken');
    const r = await converge(opts);
    expect(r.problems.length).toBeGreaterThan(0);
    expect(provider.calls.actions.filter((a) => a.type === 'delete')).toEqual([]);
    expect((await provider.vms.observe()).vms.map((v) => v.name)).toEqual(['a']);
  });

  it('removing a VM from the folder deletes it; the guard holds back mass deletion', async () => {
    await writeFile(join(dir, 'hv.yaml'), hv);
    for (const n of ['a', 'b', 'c', 'd']) await writeFile(join(dir, `${n}.yaml`), vm(n));
    await converge(opts);
    await unlink(join(dir, 'd.yaml'));
    await converge(opts);
    expect((await provider.vms.observe()).vms.map((v) => v.name).sort()).toEqual(['a', 'b', 'c']);
    for (const n of ['a', 'b']) await unlink(join(dir, `${n}.yaml`));
    const r = await converge(opts);
    // d went earlier in the window: a, b and d are 3 of the 4 there were, over the 30% share.
    expect(r.guard).toMatch(/refusing 3 removals of 4 managed on the fleet within 1h \(VirtualMachine\/default\/a, VirtualMachine\/default\/b, and 1 done earlier\)/);
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/a')?.error?.code).toBe('VK_DELETE_GUARD');
    expect((await provider.vms.observe()).vms).toHaveLength(3);
    const forced = await converge({ ...opts, maxDeleteShare: 1 });
    expect(forced.guard).toBeUndefined();
    expect((await provider.vms.observe()).vms.map((v) => v.name)).toEqual(['c']);
  });

  it('never touches a foreign VM with the same name, and says why', async () => {
    provider.plant({ name: 'a' });
    await writeFile(join(dir, 'all.yaml'), `${hv}---\n${vm('a')}`);
    const r = await converge({ ...opts, wait: false });
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/a')?.error?.code).toBe('VK_REFUSED_FOREIGN');
    expect(provider.calls.actions).toEqual([]);
  });

  it('retries transient provider errors until converged', async () => {
    provider.failNext = { count: 2, error: () => new ProviderTransientError('HTTP 500') };
    await writeFile(join(dir, 'all.yaml'), `${hv}---\n${vm('a')}`);
    const r = await converge(opts);
    expect(r.outcomes.every((o) => o.ready)).toBe(true);
    expect((await provider.vms.observe()).vms).toHaveLength(1);
  });

  it('--wait ends with timedOut after timeoutMs of its sleeps even when the injected clock stands still', async () => {
    provider.failNext = { count: 1_000_000, error: () => new ProviderTransientError('HTTP 500') };
    await writeFile(join(dir, 'all.yaml'), `${hv}---\n${vm('a')}`);
    const frozen = Date.parse('2026-12-01T10:00:00Z');
    const r = await converge({ ...opts, now: () => frozen, sleep: () => new Promise((res) => setTimeout(res, 1)), timeoutMs: 3000 });
    expect(r.timedOut).toBe(true);
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/a')?.ready).toBe(false);
  });

  it('memory change applies live and shows in status', async () => {
    await writeFile(join(dir, 'all.yaml'), `${hv}---\n${vm('a', '  maxMemory: 4Gi\n')}`);
    await converge(opts);
    await writeFile(join(dir, 'all.yaml'), `${hv}---\n${vm('a', '  maxMemory: 4Gi\n').replace('memory: 1Gi', 'memory: 2Gi')}`);
    await converge(opts);
    const reconf = provider.calls.actions.filter((a) => a.type === 'reconfigure');
    expect(reconf).toMatchObject([{ mode: 'live', memoryBytes: 2 ** 31 }]);
    expect((await state.read('VirtualMachine/default/a'))?.status).toMatchObject({ memory: '2Gi', lastAction: 'reconfigure (live)' });
  });
});
