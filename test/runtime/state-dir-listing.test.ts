// A long-running reader lists the state directory on every folder read: with the listing
// remembered, only record files that changed (by this process or another) are read again.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateDir } from '../../controller/status/state-dir.ts';
import type { StatusRecord } from '../../controller/status/writer.ts';

const record = (name: string, phase = 'Running'): StatusRecord => ({
  key: `VirtualMachine/default/${name}`,
  kind: 'VirtualMachine',
  name,
  namespace: 'default',
  status: { phase },
  updatedAt: '2026-12-01T00:00:00Z',
});

describe('state directory listing', () => {
  let dir: string;
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads again only the records that changed, whoever wrote them, and forgets removed ones', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vk-listing-'));
    const s = new StateDir(dir, { rememberListing: true });
    for (const n of ['a', 'b', 'c']) await s.write(record(n));
    expect((await s.list()).map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(s.listReads).toBe(3);
    await s.list();
    expect(s.listReads).toBe(3);
    // This process writes one; another process (a second StateDir on the same folder) writes another.
    await s.write(record('a', 'Stopped'));
    await new StateDir(dir).write(record('b', 'Failed'));
    const again = await s.list();
    expect(s.listReads).toBe(5);
    expect(again.map((r) => r.status.phase)).toEqual(['Stopped', 'Failed', 'Running']);
    // The objects handed out are fresh each time: changing one changes nothing remembered.
    (again[2] as StatusRecord).status.phase = 'Mutated';
    expect((await s.list())[2]?.status.phase).toBe('Running');
    await s.remove('VirtualMachine/default/c');
    expect((await s.list()).map((r) => r.name)).toEqual(['a', 'b']);
    // A file edited in place by hand (same inode) is read again when its size or mtime moves.
    await writeFile(join(dir, 'VirtualMachine~default~a.json'), JSON.stringify(record('a', 'Paused')));
    expect((await s.list())[0]?.status.phase).toBe('Paused');
  });

  it('without it, a one-pass command reads every record each time', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vk-listing-'));
    const s = new StateDir(dir);
    for (const n of ['a', 'b']) await s.write(record(n));
    await s.list();
    await s.list();
    expect(s.listReads).toBe(4);
  });
});
