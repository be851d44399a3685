// Waiting on the engine's asynchrony: a step retried while the object is locked or the engine
// busy, and an object read again until it reaches a state. (providers/kit takes the generic
// parts once it lands.)
import { ProviderLockedError, VkError } from '../../controller/core/errors.ts';
import type { ActionContext } from '../../controller/core/provider.ts';
import type { Json } from './client.ts';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A VM whose disks are still being copied: the runtime retries later; this provider does not spin on it. */
export class ImageLockedError extends ProviderLockedError {
  override readonly code = 'VK_PROVIDER_IMAGE_LOCKED';
}

/** A step tried again after a 409 (locked, in progress) or a transient fault, a few times, backing off. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, ctx: ActionContext): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn(i);
    } catch (e) {
      if (!(e instanceof VkError && (e.kind === 'locked' || e.kind === 'transient')) || e instanceof ImageLockedError || i >= 5) throw e;
      ctx.onProgress?.({ message: `retrying after: ${e.message}` });
      await sleep(Math.min(4000, 200 * 2 ** i));
    }
  }
}

export interface WaitOptions {
  pollMs?: number;
  timeoutMs?: number;
}

/** Reads `what` again until `done`; a locked error with the state it is stuck in after the timeout. */
export async function waitFor(what: string, read: () => Promise<Json>, done: (x: Json) => boolean, o: WaitOptions, ctx: ActionContext = {}): Promise<Json> {
  const since = Date.now();
  for (;;) {
    ctx.signal?.throwIfAborted();
    const x = await read();
    if (done(x)) return x;
    if (Date.now() - since > (o.timeoutMs ?? 600_000)) throw new ProviderLockedError(`${what}: still ${String(x.status)} after ${Math.round((Date.now() - since) / 1000)}s`);
    ctx.onProgress?.({ message: `${what}: ${String(x.status)}` });
    await sleep(o.pollMs ?? 100);
  }
}
