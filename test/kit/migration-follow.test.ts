// The kit's migration follower: every migration in flight in a group is answered by one read a
// tick, each one's progress goes to its own onProgress, a failed read is a tick without news,
// and nothing is reported once the migration's own wait is over.
import { describe, expect, it } from 'vitest';
import type { MigrationProgress, Progress } from '../../controller/core/provider.ts';
import { MigrationFollower } from '../../providers/kit/migration-follow.ts';

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('MigrationFollower', () => {
  it('one read a tick answers every migration of the group; reports stop with the migration', async () => {
    const started = Date.now();
    const asked: string[][] = [];
    let failOnce = true;
    const follower = new MigrationFollower({
      minMs: 40,
      maxMs: 40,
      read: async (_group, ids) => {
        asked.push([...ids]);
        if (asked.length === 2 && failOnce) {
          failOnce = false;
          throw new Error('engine busy');
        }
        const percent = Math.min(100, Math.floor((Date.now() - started) / 5));
        return new Map<string, MigrationProgress>(ids.map((id) => [id, { percent, phase: 'active' }]));
      },
    });
    const seen: Record<string, Progress[]> = { a: [], b: [] };
    let over = false;
    const work = (ms: number) => sleepMs(ms).then(() => (over = true));
    const [ra] = await Promise.all([
      follower.during(
        'engine',
        'a',
        work(400).then(() => 'a done'),
        { to: 'host2', onProgress: (p) => seen.a?.push(p) },
      ),
      follower.during('engine', 'b', sleepMs(400), { to: 'host3', onProgress: (p) => seen.b?.push(p) }),
    ]);
    const reads = follower.reads;
    await sleepMs(150);
    expect(ra).toBe('a done');
    expect(over).toBe(true);
    // Both were in every read: one read for the group per tick, not one per migration.
    expect(asked.filter((ids) => ids.length === 2).length).toBeGreaterThanOrEqual(3);
    expect(follower.reads).toBe(reads);
    for (const id of ['a', 'b'] as const) {
      const ps = seen[id] ?? [];
      expect(ps.length).toBeGreaterThanOrEqual(3);
      expect(ps.every((p) => (p.percent ?? 0) <= 99 && p.migration?.phase === 'active')).toBe(true);
      expect(ps.at(-1)?.message).toMatch(new RegExp(`^migrating to host${id === 'a' ? 2 : 3} \\(\\d+%\\)$`));
    }
  });

  it('without an onProgress there is nothing to follow: no read is made', async () => {
    const follower = new MigrationFollower({ read: async () => new Map() });
    expect(await follower.during('g', 'x', Promise.resolve(7), { to: 'n2' })).toBe(7);
    expect(follower.reads).toBe(0);
  });
});
