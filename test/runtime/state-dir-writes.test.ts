// Status files are written only when they change: a steady pass writes no VM's record again,
// and a file removed behind the process's back is written again the next time it is read.
import { mkdtemp, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import type { StatusRecord } from '../../controller/status/writer.ts';
import { MemoryProvider, memoryPool } from '../support/memory-provider.ts';

const record = (updatedAt: string, phase = 'Running'): StatusRecord => ({ key: 'VirtualMachine/default/a', kind: 'VirtualMachine', name: 'a', namespace: 'default', status: { phase }, updatedAt });

describe('state directory writes', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  const fresh = async () => {
    const d = await mkdtemp(join(tmpdir(), 'vk-writes-'));
    dirs.push(d);
    return d;
  };

  it('skips a record that says what the file says, but writes a change, and a file gone', async () => {
    const dir = await fresh();
    const s = new StateDir(dir);
    const file = join(dir, 'VirtualMachine~default~a.json');
    await s.write(record('2026-01-01T00:00:00Z'));
    const first = (await stat(file)).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    await s.write(record('2026-01-01T00:00:05Z'));
    expect(s.writes).toBe(1);
    expect((await stat(file)).mtimeMs).toBe(first);
    expect((await s.read('VirtualMachine/default/a'))?.updatedAt).toBe('2026-01-01T00:00:00Z');
    await s.write(record('2026-01-01T00:00:10Z', 'Stopped'));
    expect(s.writes).toBe(2);
    // Removed behind its back: the read says so, and the next write puts it back.
    await unlink(file);
    expect(await s.read('VirtualMachine/default/a')).toBeUndefined();
    await s.write(record('2026-01-01T00:00:15Z', 'Stopped'));
    expect((await s.read('VirtualMachine/default/a'))?.status).toEqual({ phase: 'Stopped' });
  });

  it('a second apply of an unchanged folder, in a fresh process, writes only the Hypervisor record', async () => {
    const folder = await fresh();
    const stateDir = await fresh();
    const vm = (n: string) =>
      `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${n}}\nspec: {hypervisor: mem, template: ubuntu-24.04, memory: 1Gi, disks: [{name: root, size: 10Gi}]}\n`;
    await writeFile(
      join(folder, 'all.yaml'),
      ['apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: mem}\nspec: {type: proxmox, endpoint: http://127.0.0.1:1}\n', vm('a'), vm('b'), vm('c')].join('---\n'),
    );
    const provider = new MemoryProvider();
    const pass = async () => {
      const statuses = new StateDir(stateDir);
      const hypervisors = memoryPool(provider);
      const r = await converge({ folder, statuses, hypervisors, logger: pino({ level: 'silent' }), now: Date.now, sleep: async () => {}, wait: true, timeoutMs: 5000 });
      expect(r.outcomes.every((o) => o.ready)).toBe(true);
      return statuses.writes;
    };
    expect(await pass()).toBeGreaterThan(3);
    expect(await pass()).toBe(1);
  });
});
