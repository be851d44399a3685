// Where a VMTemplate comes from, decided per case: adopted, or made from a declared, owned,
// stopped VM once; every reason to wait or refuse named. Over the in-memory provider.
import { describe, expect, it } from 'vitest';
import type { Hypervisor, VirtualMachine, VMTemplate } from '../../controller/api/types.ts';
import type { ValidResource } from '../../controller/api/validate.ts';
import { Observer } from '../../controller/runtime/observer.ts';
import { DesiredStore } from '../../controller/sources/store.ts';
import { resolveTemplateSource, vmRefKey } from '../../controller/runtime/template-source.ts';
import type { Connected } from '../../controller/runtime/hypervisors.ts';
import { MemoryProvider } from '../support/memory-provider.ts';

const hv: Hypervisor = { apiVersion: 'virtkeeper.io/v1alpha1', kind: 'Hypervisor', metadata: { name: 'mem' }, spec: { type: 'proxmox', endpoint: 'http://x' } };
const vmRes = (name: string, hypervisor = 'mem'): VirtualMachine => ({
  apiVersion: 'virtkeeper.io/v1alpha1',
  kind: 'VirtualMachine',
  metadata: { name, namespace: 'default' },
  spec: { hypervisor, memory: '1Gi' },
});
const tpl = (source: VMTemplate['spec']['source']): VMTemplate => ({ apiVersion: 'virtkeeper.io/v1alpha1', kind: 'VMTemplate', metadata: { name: 'gold' }, spec: { hypervisor: 'mem', source } });
const valid = (r: VirtualMachine): ValidResource => ({
  id: { kind: 'VirtualMachine', namespace: 'default', name: r.metadata.name },
  key: `VirtualMachine/default/${r.metadata.name}`,
  resource: r,
  source: { file: 'x.yaml', line: 1, lineOf: () => 1 },
});
const owner = (name: string) => ({ kind: 'VirtualMachine', namespace: 'default', name });

interface Case {
  name: string;
  template: VMTemplate;
  declared?: VirtualMachine[];
  planted?: { name: string; owner?: ReturnType<typeof owner>; power: 'running' | 'stopped'; busy?: string }[];
  dryRun?: boolean;
  expect: { found: boolean; reason?: string; problem?: RegExp; intent?: RegExp };
}

const cases: Case[] = [
  { name: 'adopts an existing template', template: tpl({ existing: 'ubuntu-24.04' }), expect: { found: true } },
  { name: 'an existing template that is not there is not found', template: tpl({ existing: 'nope' }), expect: { found: false } },
  { name: 'a VM that is not declared', template: tpl({ fromVirtualMachine: 'builder' }), expect: { found: false, reason: 'NotDeclared', problem: /VirtualMachine default\/builder is not declared/ } },
  {
    name: 'a VM on another hypervisor',
    template: tpl({ fromVirtualMachine: 'builder' }),
    declared: [vmRes('builder', 'other')],
    expect: { found: false, reason: 'NotDeclared', problem: /on Hypervisor other, not mem/ },
  },
  {
    name: 'a VM not made yet',
    template: tpl({ fromVirtualMachine: 'builder' }),
    declared: [vmRes('builder')],
    expect: { found: false, reason: 'Waiting', problem: /waiting for VM default\/builder to be created/ },
  },
  {
    name: 'a VM of the same name someone else made is not used',
    template: tpl({ fromVirtualMachine: 'builder' }),
    declared: [vmRes('builder')],
    planted: [{ name: 'builder', power: 'stopped' }],
    expect: { found: false, reason: 'Waiting', problem: /to be created/ },
  },
  {
    name: 'a running VM',
    template: tpl({ fromVirtualMachine: 'default/builder' }),
    declared: [vmRes('builder')],
    planted: [{ name: 'builder', owner: owner('builder'), power: 'running' }],
    expect: { found: false, reason: 'Waiting', problem: /to stop \(it is running; set runStrategy: Halted\)/ },
  },
  {
    name: 'a busy VM',
    template: tpl({ fromVirtualMachine: 'builder' }),
    declared: [vmRes('builder')],
    planted: [{ name: 'builder', owner: owner('builder'), power: 'stopped', busy: 'clone' }],
    expect: { found: false, reason: 'Waiting', problem: /\(clone\)/ },
  },
  {
    name: 'a plan says what it would make',
    template: tpl({ fromVirtualMachine: 'builder' }),
    declared: [vmRes('builder')],
    planted: [{ name: 'builder', owner: owner('builder'), power: 'stopped' }],
    dryRun: true,
    expect: { found: false, intent: /make template gold from VM builder/ },
  },
  {
    name: 'a stopped, owned VM is made a template',
    template: tpl({ fromVirtualMachine: 'builder' }),
    declared: [vmRes('builder')],
    planted: [{ name: 'builder', owner: owner('builder'), power: 'stopped' }],
    expect: { found: true },
  },
  { name: 'an image on a provider that cannot import', template: tpl({ image: '/x.qcow2' }), expect: { found: false, reason: 'Unsupported', problem: /cannot import images/ } },
];

describe('VMTemplate sources', () => {
  it('reads VM references with and without a namespace', () => {
    expect([vmRefKey('builder'), vmRefKey('team/builder')]).toEqual([
      { namespace: 'default', name: 'builder' },
      { namespace: 'team', name: 'builder' },
    ]);
  });
  for (const c of cases) {
    it(c.name, async () => {
      const client = new MemoryProvider();
      for (const p of c.planted ?? []) client.plant({ name: p.name, power: p.power, ...(p.owner ? { owner: p.owner } : {}), ...(p.busy ? { busy: p.busy } : {}) });
      const store = new DesiredStore();
      store.update({ resources: (c.declared ?? []).map(valid), problems: [], brokenFiles: new Set() }, () => '');
      const conn = {
        name: 'mem',
        conventions: {},
        hypervisor: hv,
        client: client,
        observer: new Observer({ client: client, now: Date.now, maxAgeMs: 0 }),
        resyncMs: 1000,
        limit: (fn) => fn(),
      } as Connected;
      const r = await resolveTemplateSource(c.template, { conn, store, dryRun: !!c.dryRun, onProgress: () => undefined });
      expect(r.facts.found).toBe(c.expect.found);
      if (c.expect.reason) expect(r.reason).toBe(c.expect.reason);
      if (c.expect.problem) expect(r.problem).toMatch(c.expect.problem);
      else expect(r.problem).toBeUndefined();
      if (c.expect.intent) expect(r.intent).toMatch(c.expect.intent);
      // A plan never makes anything.
      if (c.dryRun) expect((await client.inspectTemplate('gold')).found).toBe(false);
    });
  }
});
