// Polling one thing until it is done (a guest-agent command, an oVirt disk leaving `locked`):
// an interval that grows with the time spent, so quick work ends quickly and long work is not
// hammered; a timeout that says what was still pending.
import { ProviderLockedError } from '../../controller/core/errors.ts';
import type { Progress } from '../../controller/core/provider.ts';
import { sleep as realSleep, type Sleep } from './sleep.ts';

/** A tenth of the time spent so far, within [minMs, maxMs]: the overshoot stays near 10%. */
export function growingInterval(o: { minMs?: number; maxMs?: number; fraction?: number } = {}): (elapsedMs: number) => number {
  return (elapsed) => Math.max(o.minMs ?? 20, Math.min(o.maxMs ?? 1000, elapsed * (o.fraction ?? 0.1)));
}

export interface PollOptions<T> {
  /** What is waited for, for progress and the timeout's message (`disk data-1`). */
  what: string;
  read: () => Promise<T>;
  done: (x: T) => boolean;
  /** A word for the state not yet done (`locked`, `running`). */
  describe?: (x: T) => string;
  /** Interval by time spent (default growingInterval()), or a fixed number of ms. */
  intervalMs?: number | ((elapsedMs: number) => number);
  timeoutMs?: number;
  /** What a timeout throws (default ProviderLockedError: tried again later). */
  onTimeout?: (last: T, elapsedMs: number) => Error;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  now?: () => number;
  sleep?: Sleep;
}

export async function pollUntil<T>(o: PollOptions<T>): Promise<T> {
  const now = o.now ?? Date.now;
  const wait = o.sleep ?? realSleep;
  const interval = typeof o.intervalMs === 'number' ? () => o.intervalMs as number : (o.intervalMs ?? growingInterval());
  const since = now();
  for (;;) {
    o.signal?.throwIfAborted();
    const x = await o.read();
    if (o.done(x)) return x;
    const elapsed = now() - since;
    const state = o.describe?.(x) ?? 'not done';
    if (o.timeoutMs !== undefined && elapsed > o.timeoutMs) throw o.onTimeout?.(x, elapsed) ?? new ProviderLockedError(`${o.what}: still ${state} after ${Math.round(elapsed / 1000)}s`);
    o.onProgress?.({ message: `${o.what}: ${state}` });
    await wait(interval(elapsed), o.signal);
  }
}
