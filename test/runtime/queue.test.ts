import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../controller/runtime/clock.ts';
import { WorkQueue } from '../../controller/runtime/queue.ts';
import { ExponentialBackoff, TokenBucket } from '../../controller/runtime/rate-limiter.ts';
import { startWorkers } from '../../controller/runtime/workers.ts';
import { ProviderTransientError, TerminalError } from '../../controller/core/errors.ts';

describe('work queue', () => {
  it('de-duplicates a key added while it waits', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands a key being processed to a second worker, and requeues it once when done', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    const k = await q.get();
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0);
    q.done(k as string);
    expect(q.len()).toBe(1);
  });

  it('serves what a source changed before what came back on a timer, and a change promotes a waiting key', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    // A resync brings every VM of a hypervisor back at once.
    for (const k of ['vm-1', 'vm-2', 'vm-3']) q.addAfter(k, 1000);
    await clock.advance(1000);
    q.add('new-vm');
    q.add('vm-3');
    expect(q.len()).toBe(4);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push((await q.get()) as string);
    expect(order).toEqual(['new-vm', 'vm-3', 'vm-1', 'vm-2']);
    // A key requeued while processing keeps the lane it was added with.
    q.done('vm-1');
    q.add('vm-2', 'later');
    q.add('other');
    q.done('vm-2');
    expect([await q.get(), await q.get()]).toEqual(['other', 'vm-2']);
  });

  it('addAfter fires on the fake clock, the earliest delay wins', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 500);
    q.addAfter('a', 2000);
    await clock.advance(499);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    await clock.advance(5000);
    expect(q.len()).toBe(1);
  });

  it('get resolves undefined after shutdown', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const p = q.get();
    q.shutDown();
    expect(await p).toBeUndefined();
  });
});

describe('rate limiters', () => {
  it.each([
    [1, 500],
    [2, 1000],
    [3, 2000],
    [4, 4000],
    [12, 300_000],
  ])('backoff after %d failures is %d ms (capped at 5 min)', (n, ms) => {
    const b = new ExponentialBackoff();
    let last = 0;
    for (let i = 0; i < n; i++) last = b.when('k');
    expect(last).toBe(ms);
    b.forget('k');
    expect(b.when('k')).toBe(500);
  });

  it('token bucket allows a burst, then paces at qps', async () => {
    const clock = new FakeClock();
    const t = new TokenBucket({ clock, qps: 10, burst: 3 });
    expect([t.when(), t.when(), t.when()]).toEqual([0, 0, 0]);
    expect(t.when()).toBe(100);
    await clock.advance(1000);
    expect(t.when()).toBe(0);
  });
});

describe('workers', () => {
  it('retries transient errors with growing delays, drops terminal ones, honours requeueAfter', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const seen: [string, number][] = [];
    let failures = 3;
    const w = startWorkers({
      queue: q,
      concurrency: 2,
      clock,
      handler: async (key) => {
        seen.push([key, clock.now()]);
        if (key === 'flaky' && failures-- > 0) throw new ProviderTransientError('500');
        if (key === 'bad') throw new TerminalError('invalid spec');
        if (key === 'ok') return { requeueAfter: 60_000 };
        return undefined;
      },
    });
    q.add('flaky');
    q.add('bad');
    q.add('ok');
    await clock.advance(10_000);
    expect(seen.filter(([k]) => k === 'flaky').map(([, t]) => t)).toEqual([0, 500, 1500, 3500]);
    expect(seen.filter(([k]) => k === 'bad')).toHaveLength(1);
    await clock.advance(60_000);
    expect(seen.filter(([k]) => k === 'ok').map(([, t]) => t)).toEqual([0, 60_000]);
    await w.stop();
  });

  it('runs N keys in parallel', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    let active = 0;
    let peak = 0;
    const w = startWorkers({
      queue: q,
      concurrency: 3,
      clock,
      handler: async () => {
        active++;
        peak = Math.max(peak, active);
        await clock.sleep(100);
        active--;
      },
    });
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    await clock.advance(1000);
    expect(peak).toBe(3);
    await w.stop();
  });
});
