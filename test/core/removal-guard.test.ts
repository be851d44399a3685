import { describe, expect, it } from 'vitest';
import { DEFAULT_GUARD, guardRemovals, type Removable } from '../../controller/core/removal-guard.ts';
import { memoryLedger, RemovalGate } from '../../controller/runtime/removals.ts';
import type { AnyResource } from '../../controller/api/types.ts';

const on = (hv: string, ...names: string[]): Removable[] => names.map((n) => ({ key: `VirtualMachine/default/${n}`, hypervisors: [hv] }));
const fleet = [...on('big', ...'abcdefghij'.split('')), ...on('small', 'x', 'y')];

describe('guardRemovals', () => {
  it.each([
    { what: 'one of twelve', candidates: on('big', 'a'), recent: [], allowed: true },
    { what: 'three of ten on big (30%)', candidates: on('big', 'a', 'b', 'c'), recent: [], allowed: true },
    { what: 'four of ten on big', candidates: on('big', 'a', 'b', 'c', 'd'), recent: [], allowed: false, message: /4 removals of 12 managed on the fleet/ },
    { what: 'every VM of a small hypervisor, though 2 of 12 in the fleet', candidates: on('small', 'x', 'y'), recent: [], allowed: false, message: /removes everything virtkeeper manages there/ },
    { what: 'repetition: two now after two earlier in the window', candidates: on('big', 'c', 'd'), recent: on('big', 'a', 'b'), allowed: false, message: /and 2 done earlier/ },
    { what: 'one now after two earlier (3 of 10)', candidates: on('big', 'c'), recent: on('big', 'a', 'b'), allowed: true },
  ])('$what', ({ candidates, recent, allowed, message }) => {
    const managed = fleet.filter((m) => !recent.some((r) => r.key === m.key));
    const v = guardRemovals({ candidates, managed, recent, policy: DEFAULT_GUARD });
    expect(v.allowed).toBe(allowed);
    if (message) expect(v.message).toMatch(message);
  });

  it('a fleet of one is not emptied by the allowance, only with --max-delete-share 1', () => {
    const one = on('h', 'only');
    expect(guardRemovals({ candidates: one, managed: one, recent: [], policy: DEFAULT_GUARD })).toMatchObject({ allowed: false, message: expect.stringContaining('--max-delete-share 1') });
    expect(guardRemovals({ candidates: one, managed: one, recent: [], policy: { ...DEFAULT_GUARD, maxShare: 1 } }).allowed).toBe(true);
  });

  it('an allowance set by a person lets more go in a small scope', () => {
    const three = on('h', 'a', 'b', 'c');
    expect(guardRemovals({ candidates: on('h', 'a', 'b'), managed: three, recent: [], policy: DEFAULT_GUARD }).allowed).toBe(false);
    expect(guardRemovals({ candidates: on('h', 'a', 'b'), managed: three, recent: [], policy: { ...DEFAULT_GUARD, allowance: 2 } }).allowed).toBe(true);
  });
});

const vm = (name: string, policy?: 'Orphan'): { key: string; resource: AnyResource } => ({
  key: `VirtualMachine/default/${name}`,
  resource: {
    apiVersion: 'virtkeeper.io/v1alpha1',
    kind: 'VirtualMachine',
    metadata: { name },
    spec: { hypervisor: 'h', memory: '1Gi', ...(policy ? { deletionPolicy: policy } : {}) },
  } as AnyResource,
});

describe('RemovalGate', () => {
  const all = ['a', 'b', 'c', 'd', 'e'].map((n) => vm(n));
  it('holds a removal until it is absent on two reads spanning the grace', async () => {
    let now = 1_000_000;
    const gate = new RemovalGate({ now: () => now, ledger: memoryLedger(), policy: { graceMs: 30_000 } });
    const present = ['b', 'c', 'd', 'e'].map((n) => `VirtualMachine/default/${n}`);
    await gate.review({ absent: [all[0] ?? vm('a')], present, managed: all });
    expect(gate.admit('VirtualMachine/default/a')).toMatchObject({ allowed: false, code: 'VK_DELETE_GRACE' });
    now += 10_000;
    await gate.review({ absent: [all[0] ?? vm('a')], present, managed: all });
    expect(gate.admit('VirtualMachine/default/a')).toMatchObject({ allowed: false, code: 'VK_DELETE_GRACE', retryAfterMs: 20_000 });
    now += 20_000;
    await gate.review({ absent: [all[0] ?? vm('a')], present, managed: all });
    expect(gate.admit('VirtualMachine/default/a')).toEqual({ allowed: true });
  });

  it('forgets an absence the source took back: the grace starts again', async () => {
    let now = 0;
    const gate = new RemovalGate({ now: () => now, policy: { graceMs: 0 } });
    await gate.review({ absent: [vm('a')], present: [], managed: all });
    await gate.review({ absent: [], present: ['VirtualMachine/default/a'], managed: all });
    now += 1;
    await gate.review({ absent: [vm('a')], present: [], managed: all });
    expect(gate.admit('VirtualMachine/default/a')).toMatchObject({ allowed: false, code: 'VK_DELETE_GRACE' });
  });

  it('counts removals done in the window across passes, and an orphan is no removal', async () => {
    const ledger = memoryLedger();
    const gate = new RemovalGate({ now: () => 0, ledger, policy: { graceMs: 0, sightings: 1, maxShare: 0.2 } });
    await gate.review({ absent: [vm('a')], present: [], managed: all });
    expect(gate.admit('VirtualMachine/default/a').allowed).toBe(true);
    await gate.done('VirtualMachine/default/a', ['h']);
    // A new process on the same ledger (the state directory) still counts it.
    const next = new RemovalGate({ now: () => 1000, ledger, policy: { graceMs: 0, sightings: 1, maxShare: 0.2 } });
    const rest = all.slice(1);
    await next.review({ absent: [vm('b'), vm('c', 'Orphan')], present: [], managed: rest });
    expect(next.admit('VirtualMachine/default/b')).toMatchObject({ allowed: false, code: 'VK_DELETE_GUARD' });
    expect(next.admit('VirtualMachine/default/c')).toEqual({ allowed: true });
  });
});
