// Kubernetes quantities (`2Gi`, `40G`, `512Mi`, `1.5Gi`, plain bytes) to exact byte counts.
const FACTORS: Record<string, number> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};
const RE = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|k|K|M|G|T|P)?$/;

export class QuantityError extends Error {}

/** Parses a quantity into bytes (rounded up to a whole byte). */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') {
    if (!Number.isFinite(q) || q < 0) throw new QuantityError(`invalid quantity ${q}`);
    return Math.ceil(q);
  }
  const m = RE.exec(q.trim());
  if (!m) throw new QuantityError(`invalid quantity "${q}": expected a number with an optional unit (Ki, Mi, Gi, Ti, k, M, G, T)`);
  return Math.ceil(Number(m[1]) * (FACTORS[m[2] ?? ''] ?? 1));
}

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

/** Formats bytes in the largest binary unit that divides them exactly (`2Gi`, `1536Mi`). */
export function formatBytes(bytes: number): string {
  for (const unit of ['Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const) {
    const f = FACTORS[unit] ?? 1;
    if (bytes >= f && bytes % f === 0) return `${bytes / f}${unit}`;
  }
  return String(bytes);
}

/** Parses a duration such as `60s`, `500ms`, `10m`, `1h` into milliseconds. */
export function parseDuration(d: string): number {
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(d.trim());
  if (!m) throw new QuantityError(`invalid duration "${d}": expected e.g. 500ms, 60s, 10m, 1h`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1e3 : m[2] === 'm' ? n * 6e4 : n * 3.6e6;
}
