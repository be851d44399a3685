// apply --wait with a removal held by the grace reads the folder again when the grace is over,
// not every second of it; the removal still goes once it is.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { openFolder } from '../../controller/sources/folder.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { MemoryProvider, memoryPool } from '../support/memory-provider.ts';

const hv = 'apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: mem}\nspec: {type: proxmox, endpoint: http://127.0.0.1:1}\n';
const vm = (n: string) =>
  `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${n}}\nspec: {hypervisor: mem, template: ubuntu-24.04, memory: 1Gi, disks: [{name: root, size: 10Gi}]}\n`;

describe('converge --wait and a removal in its grace', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('reads the folder at the grace end, not every second, and the VM goes then', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'vk-grace-'));
    const statuses = new StateDir(await mkdtemp(join(tmpdir(), 'vk-grace-state-')));
    dirs.push(folder, statuses.dir);
    const provider = new MemoryProvider();
    let t = Date.parse('2026-12-01T12:00:00Z');
    const now = () => t;
    const sleep = async (ms: number) => {
      t += ms;
    };
    const hypervisors = memoryPool(provider, now);
    const base = { statuses, hypervisors, logger: pino({ level: 'silent' }), now, sleep, wait: true, timeoutMs: 120_000, removal: { graceMs: 30_000, maxShare: 1 } };
    await writeFile(join(folder, 'all.yaml'), [hv, vm('a'), vm('b')].join('---\n'));
    await converge({ ...base, folder });
    await writeFile(join(folder, 'all.yaml'), [hv, vm('a')].join('---\n'));
    const loaded = await openFolder(folder, statuses);
    const start = t;
    const r = await converge({ ...base, folder: loaded });
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/b')).toMatchObject({ ready: true, removal: true });
    expect((await provider.observe()).vms.map((v) => v.name)).toEqual(['a']);
    expect(t - start).toBeGreaterThanOrEqual(30_000);
    // The open, the read before removals, and one when the grace is over (not one a second: 30).
    expect(loaded.reads).toBeLessThanOrEqual(3);
  });
});
