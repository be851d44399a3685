// N workers draining the queue: success forgets the key's backoff (and requeues after
// `requeueAfter`), a terminal error is logged and not retried, anything else backs off.
import type { Logger } from 'pino';
import { TerminalError, isVkError } from '../core/errors.ts';
import type { Clock } from './clock.ts';
import type { WorkQueue } from './queue.ts';

export type ReconcileResult = { requeueAfter?: number } | undefined;

export interface WorkersOptions {
  queue: WorkQueue;
  concurrency: number;
  clock: Clock;
  handler: (key: string, signal: AbortSignal) => Promise<ReconcileResult>;
  logger?: Logger;
  isTerminal?: (err: unknown) => boolean;
}

export function isTerminalError(e: unknown): boolean {
  return e instanceof TerminalError || (isVkError(e) && e.kind === 'invalid');
}

export function startWorkers(o: WorkersOptions): { stop(): Promise<void> } {
  const abort = new AbortController();
  const terminal = o.isTerminal ?? isTerminalError;
  const loop = async () => {
    for (;;) {
      const key = await o.queue.get();
      if (key === undefined) return;
      try {
        const r = await o.handler(key, abort.signal);
        o.queue.forget(key);
        if (r && r.requeueAfter !== undefined) o.queue.addAfter(key, r.requeueAfter);
      } catch (e) {
        if (terminal(e)) {
          o.queue.forget(key);
          o.logger?.error({ resource: key, code: isVkError(e) ? e.code : undefined }, `not retried: ${(e as Error).message}`);
        } else {
          o.logger?.warn({ resource: key, retries: o.queue.numRequeues(key), code: isVkError(e) ? e.code : undefined }, `will retry: ${(e as Error).message}`);
          o.queue.addRateLimited(key);
        }
      } finally {
        o.queue.done(key);
      }
    }
  };
  const running = Array.from({ length: o.concurrency }, () => loop());
  return {
    async stop() {
      abort.abort();
      o.queue.shutDown();
      await Promise.all(running);
    },
  };
}
