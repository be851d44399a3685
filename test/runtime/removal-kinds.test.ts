// The removal gate reads from the reconciler registry which kinds destroy something when
// removed: every registered kind says so, and the gate counts (and holds back) just those.
import { describe, expect, it } from 'vitest';
import { KIND_NAMES } from '../../controller/api/kinds.ts';
import type { AnyResource } from '../../controller/api/types.ts';
import { registeredReconcilers } from '../../controller/runtime/reconcilers/registry.ts';
import { DESTROYING_KINDS, destroys, memoryLedger, RemovalGate } from '../../controller/runtime/removals.ts';

const DESTROYING = ['VirtualMachine', 'VirtualDisk', 'VirtualNetwork', 'VirtualMachineSnapshot'];

const resource = (kind: string, deletionPolicy?: string): { key: string; resource: AnyResource } => ({
  key: `${kind}/default/rk-${kind.toLowerCase()}`,
  resource: {
    apiVersion: 'virtkeeper.io/v1alpha1',
    kind,
    metadata: { name: `rk-${kind.toLowerCase()}`, namespace: 'default' },
    spec: { hypervisor: 'rk-h', ...(deletionPolicy ? { deletionPolicy } : {}) },
  } as unknown as AnyResource,
});

describe('removal kinds', () => {
  it('every registered kind says whether its removal destroys something', () => {
    const kinds = registeredReconcilers().map((r) => r.kind);
    expect(new Set(kinds)).toEqual(new Set(KIND_NAMES));
    for (const r of registeredReconcilers()) expect(typeof r.removalDestroys, r.kind).toBe('boolean');
    expect([...DESTROYING_KINDS].sort()).toEqual([...DESTROYING].sort());
  });

  it.each(KIND_NAMES.map((k) => [k]))('destroys() of a %s follows its registry entry and its deletionPolicy', (kind) => {
    expect(destroys(resource(kind).resource)).toBe(DESTROYING.includes(kind));
    expect(destroys(resource(kind, 'Orphan').resource)).toBe(false);
  });

  it('the guard counts the destroying kinds only, and lets the others go', async () => {
    const all = KIND_NAMES.map((k) => resource(k));
    const gate = new RemovalGate({ now: () => 1_000_000, ledger: memoryLedger(), policy: { sightings: 1, graceMs: 0 } });
    await gate.review({ absent: all, present: [], managed: all });
    for (const r of all) expect(gate.admit(r.key).allowed, r.resource.kind).toBe(!DESTROYING.includes(r.resource.kind));
    expect(gate.refusal).toContain(`${DESTROYING.length} removals of ${DESTROYING.length} managed`);
  });
});
