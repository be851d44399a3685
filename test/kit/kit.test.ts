import { describe, expect, it } from 'vitest';
import { ProviderInvalidError, ProviderLockedError } from '../../controller/core/errors.ts';
import { BatchPoller, formatBytes, parseSizeText, pollUntil, retryOnLock, sizeProperty, sizeText, sleep } from '../../providers/kit/index.ts';

const noSleep = () => Promise.resolve();

describe('retryOnLock', () => {
  it('tries a locked step again with growing waits, and gives up after the attempts', async () => {
    const waits: number[] = [];
    let calls = 0;
    const err = await retryOnLock(
      async () => {
        calls++;
        throw new ProviderLockedError('VM is locked (clone)');
      },
      { attempts: 4, sleep: async (ms) => void waits.push(ms), random: () => 0.5 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderLockedError);
    expect(calls).toBe(4);
    expect(waits).toEqual([150, 300, 600]);
  });

  it('never retries invalid input, and returns what a later attempt gives', async () => {
    let calls = 0;
    await expect(
      retryOnLock(
        async () => {
          calls++;
          throw new ProviderInvalidError('bad');
        },
        { sleep: noSleep },
      ),
    ).rejects.toBeInstanceOf(ProviderInvalidError);
    expect(calls).toBe(1);
    let n = 0;
    expect(await retryOnLock(async () => (n++ < 2 ? Promise.reject(new ProviderLockedError('x')) : 'ok'), { sleep: noSleep })).toBe('ok');
  });
});

describe('pollUntil', () => {
  it('reads until done and times out with what it still was', async () => {
    let t = 0;
    let reads = 0;
    expect(await pollUntil({ what: 'disk d', read: async () => ++reads, done: (x) => x === 3, sleep: noSleep })).toBe(3);
    const err = await pollUntil({ what: 'disk d', read: async () => 'locked', done: () => false, describe: (x) => x, timeoutMs: 100, now: () => (t += 60), sleep: noSleep }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderLockedError);
    expect((err as Error).message).toMatch(/disk d: still locked/);
  });
});

describe('BatchPoller', () => {
  it('answers every waiter of a group from one read per tick', async () => {
    const finished = new Set<string>();
    const reads: string[][] = [];
    const poller = new BatchPoller<string>({
      list: async (_group, ids) => {
        reads.push([...ids]);
        return new Map(ids.map((id) => [id, finished.has(id) ? 'stopped' : 'running']));
      },
      done: (s) => s === 'stopped',
      minMs: 1,
      maxMs: 5,
    });
    const all = Promise.all(['a', 'b', 'c'].map((id) => poller.wait('pve1', id)));
    await sleep(15);
    for (const id of ['a', 'b', 'c']) finished.add(id);
    await all;
    // Each read served all three: never one read per task.
    expect(reads.every((r) => r.length === 3)).toBe(true);
    expect(poller.reads).toBe(reads.length);
  });

  it('reads an id the list does not show alone, and fails the waiters of a failed read', async () => {
    const poller = new BatchPoller<string>({
      list: async () => new Map(),
      single: async () => 'stopped',
      singleAfterTicks: 2,
      done: (s) => s === 'stopped',
      minMs: 1,
    });
    expect(await poller.wait('pve1', 'old')).toBe('stopped');
    const failing = new BatchPoller<string>({ list: () => Promise.reject(new ProviderLockedError('down')), done: () => true, minMs: 1 });
    await expect(failing.wait('pve1', 'x')).rejects.toBeInstanceOf(ProviderLockedError);
  });

  it('stops waiting when its signal aborts', async () => {
    const poller = new BatchPoller<string>({ list: async (_g, ids) => new Map(ids.map((i) => [i, 'running'])), done: () => false, minMs: 1 });
    const ac = new AbortController();
    const p = poller.wait('pve1', 't', { signal: ac.signal });
    ac.abort(new Error('cancelled'));
    await expect(p).rejects.toThrow('cancelled');
  });
});

describe('sizes', () => {
  it.each([
    [8 * 2 ** 30, '8G'],
    [1.5 * 2 ** 30, '1536M'],
    [2 ** 20 + 1, '2M'],
  ])('sizeText(%d) = %s', (bytes, text) => expect(sizeText(bytes)).toBe(text));
  it('parses sizes and size= properties', () => {
    expect(parseSizeText('1.5T')).toBe(1.5 * 2 ** 40);
    expect(parseSizeText('x')).toBeUndefined();
    expect(sizeProperty('local-lvm:vm-1-disk-0,size=8G,ssd=1')).toBe(8 * 2 ** 30);
    expect(sizeProperty('local-lvm:vm-1-disk-0')).toBe(0);
    expect(formatBytes(3 * 2 ** 30)).toBe('3 GiB');
  });
});
