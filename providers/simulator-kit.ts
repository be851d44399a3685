// What the simulators share: a seeded random source (reproducible faults and jitter) and
// request counters by endpoint (for tests and benchmarks).

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class RequestCounter {
  private readonly counts = new Map<string, number>();
  count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  stats(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort());
  }
  reset(): void {
    this.counts.clear();
  }
}
