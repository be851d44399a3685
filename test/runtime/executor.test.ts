// The executor against the in-memory provider (a provider that passes the contract suite):
// steps in order, a step after create finds the new VM's id, and a signal stops between steps.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../controller/api/types.ts';
import { plan } from '../../controller/core/plan.ts';
import type { ReconcileEvent } from '../../controller/runtime/events.ts';
import { executeSteps } from '../../controller/runtime/executor.ts';
import { contractVM } from '../contract/provider-contract.ts';
import { MemoryProvider, memoryPool } from '../support/memory-provider.ts';

const hv: Hypervisor = { apiVersion: 'virtkeeper.io/v1alpha1', kind: 'Hypervisor', metadata: { name: 'contract' }, spec: { type: 'proxmox', endpoint: 'http://127.0.0.1:1' } };

async function setup() {
  const provider = new MemoryProvider({ templates: ['ubuntu'] });
  const pool = memoryPool(provider);
  const conn = await pool.get(hv);
  const desired = contractVM('web', 'ubuntu');
  const p = plan({ desired, observation: await conn.observer.get(), capabilities: conn.client.capabilities });
  const events: ReconcileEvent[] = [];
  return { provider, conn, steps: p.steps, events, emit: (e: ReconcileEvent) => events.push(e), logger: pino({ level: 'silent' }) };
}

describe('executeSteps', () => {
  it('runs create then start, the start aimed at the VM the create made', async () => {
    const s = await setup();
    expect(s.steps.map((x) => x.action.type)).toEqual(['create', 'start']);
    const last = await executeSteps({ key: 'VirtualMachine/contract/web', conn: s.conn, steps: s.steps, emit: s.emit, logger: s.logger });
    expect(last).toBe('start');
    const start = s.provider.calls.actions.find((a) => a.type === 'start');
    const made = (await s.provider.observe()).vms.find((v) => v.name === 'web');
    expect(start && 'target' in start ? start.target.providerID : undefined).toBe(made?.providerID);
    expect(s.events.filter((e) => e.type === 'action').map((e) => (e.type === 'action' ? `${e.phase} ${e.action}` : ''))).toEqual(['start create', 'done create', 'start start', 'done start']);
  });

  it('a signal aborted after the first step stops the run before the next, saying where', async () => {
    const s = await setup();
    const ac = new AbortController();
    const emit = (e: ReconcileEvent) => {
      s.emit(e);
      if (e.type === 'action' && e.phase === 'done' && e.action === 'create') ac.abort();
    };
    const run = executeSteps({ key: 'VirtualMachine/contract/web', conn: s.conn, steps: s.steps, emit, logger: s.logger, signal: ac.signal });
    await expect(run).rejects.toMatchObject({ code: 'VK_ABORTED', message: expect.stringContaining('after create') });
    expect(s.provider.calls.actions.map((a) => a.type)).toEqual(['create']);
    expect((await s.provider.observe()).vms.find((v) => v.name === 'web')?.power).toBe('stopped');
  });
});
