// The status store writes a VM's status only when it changed, comparing without serialising
// (every pass compares every VM's): the same answer as comparing the JSON, key order aside.
import { describe, expect, it } from 'vitest';
import { sameJson } from '../../controller/status/kubernetes.ts';

describe('sameJson', () => {
  const cases: [unknown, unknown][] = [
    [
      { a: 1, b: [1, 2] },
      { b: [1, 2], a: 1 },
    ],
    [{ a: 1, gone: undefined }, { a: 1 }],
    [{ a: [undefined, 1] }, { a: [null, 1] }],
    [{ a: { b: { c: 'x' } } }, { a: { b: { c: 'y' } } }],
    [{ a: [1, 2] }, { a: [1, 2, 3] }],
    [{ a: [] }, { a: {} }],
    [{ a: null }, { a: undefined }],
    [{ a: 1 }, { a: '1' }],
    [{ conditions: [{ type: 'Ready', status: 'True' }] }, { conditions: [{ status: 'True', type: 'Ready' }] }],
    [{}, { a: 0 }],
  ];
  it.each(cases)('agrees with the JSON of %j and %j', (a, b) => {
    const sorted = (v: unknown): unknown =>
      JSON.parse(JSON.stringify(v), (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => p.localeCompare(q))) : x));
    expect(sameJson(a, b)).toBe(JSON.stringify(sorted(a)) === JSON.stringify(sorted(b)));
  });
});
