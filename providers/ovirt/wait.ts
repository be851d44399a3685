// Waiting on the engine's asynchrony, on providers/kit: a step retried while the object is
// locked or the engine busy, and an object read again until it reaches a state.
import { ProviderLockedError } from '../../controller/core/errors.ts';
import type { ActionContext } from '../../controller/core/provider.ts';
import { isLockedOrTransient, pollUntil, retryOnLock } from '../kit/index.ts';
import type { Json } from './client.ts';

export { sleep } from '../kit/index.ts';

/** A VM whose disks are still being copied: the runtime retries later; this provider does not spin on it. */
export class ImageLockedError extends ProviderLockedError {
  override readonly code = 'VK_PROVIDER_IMAGE_LOCKED';
}

/** A step tried again after a 409 (locked, in progress) or a transient fault, a few times, backing off; `attempt` counts from 0. */
export function retry<T>(fn: (attempt: number) => Promise<T>, ctx: ActionContext): Promise<T> {
  let attempt = 0;
  return retryOnLock(() => fn(attempt++), {
    retryable: (e) => isLockedOrTransient(e) && !(e instanceof ImageLockedError),
    baseMs: 200,
    maxMs: 4000,
    onRetry: (e) => ctx.onProgress?.({ message: `retrying after: ${e.message}` }),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

export interface WaitOptions {
  pollMs?: number;
  timeoutMs?: number;
}

/** Reads `what` again until `done`; a locked error with the state it is stuck in after the timeout. */
export function waitFor(what: string, read: () => Promise<Json>, done: (x: Json) => boolean, o: WaitOptions, ctx: ActionContext = {}): Promise<Json> {
  return pollUntil({
    what,
    read,
    done,
    describe: (x) => String(x.status),
    ...(o.pollMs ? { intervalMs: o.pollMs } : {}),
    timeoutMs: o.timeoutMs ?? 600_000,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
  });
}
