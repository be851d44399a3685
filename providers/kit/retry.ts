// Retry on lock: a locked or briefly unreachable hypervisor is normal on a busy cluster, so
// such a step is tried again with jittered exponential backoff before its error surfaces.
import { VkError } from '../../controller/core/errors.ts';
import { sleep as realSleep, type Sleep } from './sleep.ts';

export interface RetryOptions {
  /** Attempts in all, the first included (default 6). */
  attempts?: number;
  /** The first wait (default 150 ms); each next one doubles, up to `maxMs` (default 5 s). */
  baseMs?: number;
  maxMs?: number;
  /** Which errors are tried again (default: a VkError of kind locked or transient). */
  retryable?: (e: unknown) => boolean;
  /** Told before each wait (progress lines, debug logs). */
  onRetry?: (e: VkError | Error, attempt: number, waitMs: number) => void;
  signal?: AbortSignal;
  sleep?: Sleep;
  /** 0..1, default Math.random: spreads the retries of many callers. */
  random?: () => number;
}

export const isLockedOrTransient = (e: unknown): boolean => e instanceof VkError && (e.kind === 'locked' || e.kind === 'transient');

export async function retryOnLock<T>(fn: () => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const attempts = o.attempts ?? 6;
  const retryable = o.retryable ?? isLockedOrTransient;
  const wait = o.sleep ?? realSleep;
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!retryable(e) || i >= attempts - 1 || o.signal?.aborted) throw e;
      const ms = Math.min(o.maxMs ?? 5000, (o.baseMs ?? 150) * 2 ** i) * (0.75 + (o.random ?? Math.random)() * 0.5);
      o.onRetry?.(e as Error, i + 1, ms);
      await wait(ms, o.signal);
    }
  }
}
