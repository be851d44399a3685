// The plan's summary line counts every kind: VMs by their steps, networks, disks and templates
// by what an apply would do to them; a template not fit for cloning holds others back.
import { describe, expect, it } from 'vitest';
import { renderPlan, summarize, summaryLine } from '../../controller/cli/render-plan.ts';
import type { KeyOutcome } from '../../controller/runtime/converge.ts';

const target = { providerID: 'qemu/100', name: 'web-1' };
const step = (type: 'create' | 'reconfigure' | 'delete' | 'start', extra: object = {}) =>
  ({
    resource: 'VirtualMachine/default/web-1',
    hypervisor: 'pve',
    symbol: type === 'create' ? '+' : type === 'delete' ? '-' : type === 'start' ? '>' : '~',
    changes: [],
    disruptive: type === 'delete',
    live: type === 'reconfigure',
    summary: `${type} web-1`,
    action: type === 'reconfigure' ? { type, target, memoryBytes: 1, mode: 'live' } : type === 'create' ? { type, vm: {} } : { type, target },
    ...extra,
  }) as never;

const cases: { name: string; outcomes: KeyOutcome[]; line: string }[] = [
  {
    name: 'nothing to do',
    outcomes: [{ key: 'VirtualMachine/default/web-1', ready: true, plan: { steps: [], refusals: [] } }],
    line: 'Plan: 0 to create, 0 to change live, 0 needs restart, 0 to delete.',
  },
  {
    name: 'VMs, a disk made and a disk moved, a network removed',
    outcomes: [
      { key: 'VirtualMachine/default/a', ready: false, plan: { steps: [step('create')], refusals: [] } },
      { key: 'VirtualMachine/default/b', ready: false, plan: { steps: [step('reconfigure')], refusals: [] } },
      { key: 'VirtualDisk/default/new', ready: false, intents: [{ symbol: '+', summary: 'create disk new of 2Gi' }] },
      {
        key: 'VirtualDisk/default/moved',
        ready: false,
        intents: [
          { symbol: '~', summary: 'detach disk moved from a' },
          { symbol: '~', summary: 'attach disk moved to b' },
        ],
      },
      { key: 'VirtualNetwork/old', ready: false, removal: true, intents: [{ symbol: '-', summary: 'remove VLAN 30 networks virtkeeper made, once no VM uses them' }] },
    ],
    line: 'Plan: 2 to create, 2 to change live, 0 needs restart, 1 to delete.',
  },
  {
    name: 'a template not fit for cloning holds back',
    outcomes: [{ key: 'VMTemplate/big', ready: false, intents: [{ symbol: '~', summary: 'template big is not fit for cloning: disk smaller than 20Gi', blocking: true }] }],
    line: 'Plan: 0 to create, 0 to change live, 0 needs restart, 0 to delete, 1 waiting.',
  },
];

describe('plan summary', () => {
  for (const c of cases) it(c.name, () => expect(summaryLine(summarize(c.outcomes))).toBe(c.line));

  it('lists networks, disks and templates with their steps, and ends with the summary', () => {
    const text = renderPlan(cases[1]?.outcomes ?? [], { color: false, paint: (_f: unknown, t: string) => t });
    expect(text).toMatch(/~ detach disk moved from a\n\s+~ attach disk moved to b/);
    expect(text.trim().split('\n').at(-1)).toBe('Plan: 2 to create, 2 to change live, 0 needs restart, 1 to delete.');
  });
});
