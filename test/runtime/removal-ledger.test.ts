// The removal ledger in the state directory: removals done side by side each save it; every
// save must land, and the last one asked must be what stays.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileLedger, type LedgerState } from '../../controller/runtime/removals.ts';

describe('fileLedger', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('saves asked side by side all succeed, and the last asked is the one kept', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vk-ledger-'));
    dirs.push(dir);
    const path = join(dir, 'removals.ledger');
    const ledger = fileLedger(path);
    const states: LedgerState[] = Array.from({ length: 40 }, (_, i) => ({ absent: {}, done: [{ key: `VirtualMachine/default/vm${i}`, hypervisors: ['hv'], at: i }] }));
    await Promise.all(states.map((s) => ledger.save(s)));
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(states.at(-1));
    expect(await ledger.load()).toEqual(states.at(-1));
  });
});
