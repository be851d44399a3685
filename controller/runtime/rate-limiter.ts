// Per-item exponential backoff plus a global token bucket, the larger delay wins (after
// client-go's default controller rate limiter).
import type { Clock } from './clock.ts';

export interface RateLimiter {
  when(item: string): number;
  forget(item: string): void;
  numRequeues(item: string): number;
}

export class ExponentialBackoff implements RateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly base: number;
  private readonly max: number;
  constructor(options: { baseMs?: number; maxMs?: number } = {}) {
    this.base = options.baseMs ?? 500;
    this.max = options.maxMs ?? 5 * 60_000;
  }
  when(item: string): number {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    return Math.min(this.max, this.base * 2 ** n);
  }
  forget(item: string): void {
    this.failures.delete(item);
  }
  numRequeues(item: string): number {
    return this.failures.get(item) ?? 0;
  }
}

export class TokenBucket implements RateLimiter {
  private tokens: number;
  private last: number;
  private readonly clock: Clock;
  private readonly qps: number;
  private readonly burst: number;
  constructor(options: { clock: Clock; qps?: number; burst?: number }) {
    this.clock = options.clock;
    this.qps = options.qps ?? 10;
    this.burst = options.burst ?? 100;
    this.tokens = this.burst;
    const clock = options.clock;
    this.last = clock.now();
  }
  when(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }
  forget(): void {}
  numRequeues(): number {
    return 0;
  }
}

export class MaxOf implements RateLimiter {
  private readonly limiters: RateLimiter[];
  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }
  when(item: string): number {
    return Math.max(...this.limiters.map((l) => l.when(item)));
  }
  forget(item: string): void {
    for (const l of this.limiters) l.forget(item);
  }
  numRequeues(item: string): number {
    return Math.max(...this.limiters.map((l) => l.numRequeues(item)));
  }
}

export function defaultRateLimiter(clock: Clock): RateLimiter {
  return new MaxOf(new ExponentialBackoff(), new TokenBucket({ clock }));
}
