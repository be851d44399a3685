// Waiting on the engine's jobs without a poll per job: every write virtkeeper waits on carries
// a correlation id; one `GET /jobs?search=correlation_id=a or correlation_id=b …` per tick
// serves every wait in flight on the engine (providers/kit's BatchPoller: the tick backs off
// while nothing new arrives).
import { ProviderLockedError } from '../../controller/core/errors.ts';
import type { ActionContext } from '../../controller/core/provider.ts';
import { BatchPoller } from '../kit/index.ts';
import { arr, type Json, type OvirtClient } from './client.ts';

/** How the jobs of a correlation id ended; `none`: the engine made no job for it (a synchronous step). */
export type JobOutcome = 'finished' | 'failed' | 'none';
type JobState = JobOutcome | 'running';

export interface JobWatchOptions {
  api: OvirtClient;
  now?: () => number;
  /** The shortest and the longest tick (default 20 ms and 1 s). */
  minMs?: number;
  maxMs?: number;
  /** Ticks without any job of a correlation id before it counts as none (default 3). */
  absentTicks?: number;
}

const ENDED = new Set(['finished', 'failed', 'aborted']);
/** Correlation ids per search: keeps the request line short of what proxies cut (8 KiB). */
const PER_SEARCH = 40;

/** The state of each correlation id's jobs: running while one runs, failed if one did not finish. */
function states(jobs: Json[], ids: readonly string[]): Map<string, JobState> {
  const out = new Map<string, JobState>();
  for (const id of ids) {
    const mine = jobs.filter((j) => String(j.correlation_id ?? '') === id);
    if (mine.length === 0) continue;
    out.set(id, mine.some((j) => !ENDED.has(String(j.status))) ? 'running' : mine.some((j) => String(j.status) !== 'finished') ? 'failed' : 'finished');
  }
  return out;
}

export class JobWatch {
  private readonly poller: BatchPoller<JobState>;

  constructor(o: JobWatchOptions) {
    this.poller = new BatchPoller<JobState>({
      list: async (_engine, ids) => {
        const jobs: Json[] = [];
        for (let i = 0; i < ids.length; i += PER_SEARCH) {
          const search = ids
            .slice(i, i + PER_SEARCH)
            .map((c) => `correlation_id="${c}"`)
            .join(' or ');
          jobs.push(...arr((await o.api.get('/jobs', { search })).job));
        }
        return states(jobs, ids);
      },
      // No job after a few ticks: the engine did the step without one.
      single: async () => 'none',
      singleAfterTicks: o.absentTicks ?? 3,
      done: (s) => s !== 'running',
      ...(o.minMs !== undefined ? { minMs: o.minMs } : {}),
      ...(o.maxMs !== undefined ? { maxMs: o.maxMs } : {}),
      ...(o.now ? { now: o.now } : {}),
    });
  }

  /** Jobs searches made (tests and benchmarks). */
  get reads(): number {
    return this.poller.reads;
  }

  /** Resolves when every job of the correlation id has ended; a locked error after `timeoutMs`. */
  async wait(correlation: string, what: string, ctx: ActionContext = {}, timeoutMs = 600_000): Promise<JobOutcome> {
    const state = await this.poller.wait('jobs', correlation, {
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      timeoutMs,
      onTimeout: (ms) => new ProviderLockedError(`${what}: the engine's job is not done after ${Math.round(ms / 1000)}s`),
      onTick: (s) => ctx.onProgress?.({ message: `${what}: job ${s ?? 'not seen yet'}` }),
    });
    return state === 'running' ? 'none' : state;
  }
}

/** A correlation id for one write: unique, so an earlier write's finished job never answers for it. */
export function correlationId(what: string): string {
  // Engines take at most 50 characters of [A-Za-z0-9_-].
  const tag = what.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 30);
  return `vk-${tag}-${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}
