// The shared observation: concurrent callers share one list call, but never one that began
// before an action the caller has just made (issue 12, item 13: "created but not visible yet").
import { describe, expect, it } from 'vitest';
import { Observer } from '../../controller/runtime/observer.ts';
import { contractVM } from '../contract/provider-contract.ts';
import { MemoryProvider } from '../support/memory-provider.ts';

describe('Observer', () => {
  it('shares one in-flight list call between concurrent callers', async () => {
    const client = new MemoryProvider();
    const observer = new Observer({ client: client, now: Date.now, maxAgeMs: 0 });
    await Promise.all([observer.get(), observer.get(), observer.get()]);
    expect(client.calls.observe).toBe(1);
  });

  it('after invalidate, a list call begun before it does not answer: the VM just created is seen', async () => {
    const client = new MemoryProvider();
    const observer = new Observer({ client: client, now: Date.now, maxAgeMs: 0 });
    const before = observer.get(); // another worker's pass, listing before the create
    await client.vms.execute({ type: 'create', vm: contractVM('fresh', 'ubuntu-24.04', { key: 'VirtualMachine/default/fresh' }) });
    observer.invalidate();
    const after = await observer.get({ maxAgeMs: 0 });
    expect(after.vms.map((v) => v.name)).toEqual(['fresh']);
    expect((await before).vms).toEqual([]);
    // And the older answer does not become the cached one.
    expect((await observer.get()).vms.map((v) => v.name)).toEqual(['fresh']);
  });

  it('after actions, one list call answers every action that ends within the window (and sees them all)', async () => {
    const client = new MemoryProvider();
    const observer = new Observer({ client: client, now: Date.now, maxAgeMs: 0, coalesceMs: 100 });
    await observer.get();
    const reads: Promise<unknown>[] = [];
    for (const name of ['a', 'b', 'c']) {
      await client.vms.execute({ type: 'create', vm: contractVM(name, 'ubuntu-24.04', { key: `VirtualMachine/default/${name}` }) });
      observer.invalidate();
      reads.push(observer.get({ maxAgeMs: 0, coalesce: true }).then((o) => o.vms.map((v) => v.name).sort()));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await Promise.all(reads)).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
    ]);
    expect(client.calls.observe).toBe(2);
  });
});
