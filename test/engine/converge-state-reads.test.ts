// A converge pass reads the state directory once: the folder read's listing answers the
// reconcilers, and a record nobody wrote (an undeclared template every VM names) is asked of
// the disk once, not once per VM. A record that cannot be parsed still fails its resource.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import type { StatusRecord } from '../../controller/status/writer.ts';
import { MemoryProvider, memoryPool } from '../support/memory-provider.ts';

/** The state directory, counting the reads of single records by key. */
class CountingStateDir extends StateDir {
  readonly reads = new Map<string, number>();
  override read(key: string): Promise<StatusRecord | undefined> {
    this.reads.set(key, (this.reads.get(key) ?? 0) + 1);
    return super.read(key);
  }
}

const hv = 'apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: mem}\nspec: {type: proxmox, endpoint: http://127.0.0.1:1}\n';
const vm = (name: string) =>
  `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec:\n  hypervisor: mem\n  template: ubuntu-24.04\n  memory: 1Gi\n  networks: [{name: eth0, network: vmbr0}]\n`;

describe('converge reads the state directory once a pass', () => {
  let dir: string;
  let state: CountingStateDir;
  let opts: ConvergeOptions;
  let provider: MemoryProvider;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vk-reads-'));
    state = new CountingStateDir(await mkdtemp(join(tmpdir(), 'vk-reads-state-')));
    provider = new MemoryProvider();
    const hypervisors = memoryPool(provider);
    opts = { folder: dir, statuses: state, hypervisors, logger: pino({ level: 'silent' }), now: () => Date.now(), sleep: async () => {} };
    await writeFile(join(dir, 'all.yaml'), [hv, ...['a', 'b', 'c', 'd'].map(vm)].join('---\n'));
    await converge(opts);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(state.dir, { recursive: true, force: true });
  });

  it.each([['apply'], ['plan']])('%s: listed records are not read again; an undeclared template and network once each', async (what) => {
    state.reads.clear();
    const r = await converge({ ...opts, ...(what === 'plan' ? { dryRun: true } : {}) });
    expect(r.outcomes.filter((o) => o.error)).toEqual([]);
    expect(r.outcomes.filter((o) => o.key.startsWith('VirtualMachine/')).map((o) => o.ready)).toEqual([true, true, true, true]);
    expect(Object.fromEntries(state.reads)).toEqual({ 'VMTemplate/ubuntu-24.04': 1, 'VirtualNetwork/vmbr0': 1 });
  });

  it('a record that cannot be parsed fails its resource, as before, and is not taken for none', async () => {
    await writeFile(join(state.dir, 'VirtualMachine~default~b.json'), '{"key": "VirtualMachine/default/b", torn');
    const before = provider.calls.actions.length;
    const r = await converge(opts);
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/b')?.error).toBeDefined();
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/a')?.ready).toBe(true);
    expect(provider.calls.actions.length).toBe(before);
  });
});
