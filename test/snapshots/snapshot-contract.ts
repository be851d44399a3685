// The SnapshotClient contract (controller/core/provider.ts), one suite for every harness: a
// provider's snapshots are listed, made once per name and marker, refused on a VM or under a
// name that is not ours, reverted (the VM stopped first where the hypervisor needs it), and
// deleted idempotently. Harnesses start the real thing (a simulator over HTTP, the memory double).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Target } from '../../controller/core/actions.ts';
import { RefusedError } from '../../controller/core/errors.ts';
import type { ObservedVM } from '../../controller/core/model.ts';
import type { ProviderClient, SnapshotClient } from '../../controller/core/provider.ts';
import { contractVM } from '../contract/provider-contract.ts';

export interface SnapshotHarness {
  client: ProviderClient;
  template?: string;
  /** Creates a VM by the hypervisor's own API, with no ownership marker. */
  createForeignVM(name: string): Promise<void>;
  close(): Promise<void>;
}

const owner = (name: string) => ({ kind: 'VirtualMachineSnapshot', namespace: 'contract', name });

export function describeSnapshotContract(name: string, makeHarness: () => Promise<SnapshotHarness>, options: { skip?: boolean } = {}): void {
  describe.skipIf(options.skip)(`SnapshotClient contract: ${name}`, () => {
    let h: SnapshotHarness;
    let snaps: SnapshotClient;
    let target: Target;
    const vmName = `vksnapc-${Date.now().toString(36)}`;
    const find = async (n: string): Promise<ObservedVM | undefined> => (await h.client.vms.observe()).vms.find((v) => v.name === n && !v.isTemplate);
    const targetOf = (v: ObservedVM): Target => ({ providerID: v.providerID, name: v.name, ...(v.node ? { node: v.node } : {}), ...(v.owner ? { owner: v.owner } : {}) });

    beforeAll(async () => {
      h = await makeHarness();
      if (!h.client.snapshots) throw new Error('the provider has no snapshots client');
      snaps = h.client.snapshots;
      await h.client.vms.execute({ type: 'create', vm: contractVM(vmName, h.template) });
      const vm = await find(vmName);
      if (!vm) throw new Error('the VM was not created');
      target = targetOf(vm);
    }, 120_000);
    afterAll(async () => {
      if (target) await h.client.vms.execute({ type: 'delete', target }).catch(() => undefined);
      await h?.close();
    }, 120_000);

    it('a new VM has no snapshots; create makes one, with its marker, once per name', async () => {
      expect(await snaps.list(target)).toEqual([]);
      const s = await snaps.create(target, { name: 'vk-one', owner: owner('one'), description: 'contract', memory: false, quiesce: false });
      expect(s).toMatchObject({ name: 'vk-one', state: 'ready', memory: false, owner: owner('one') });
      const again = await snaps.create(target, { name: 'vk-one', owner: owner('one'), memory: false, quiesce: false });
      expect(again.id).toBe(s.id);
      expect((await snaps.list(target)).map((x) => x.name)).toEqual(['vk-one']);
    }, 60_000);

    it("a snapshot of that name for another owner is refused, or is a snapshot of its own: never the first one's", async () => {
      const first = (await snaps.list(target)).find((x) => x.name === 'vk-one');
      const r = await snaps.create(target, { name: 'vk-one', owner: owner('other'), memory: false, quiesce: false }).catch((e: unknown) => e);
      if (r instanceof Error) expect(r).toBeInstanceOf(RefusedError);
      else {
        // Where names are not unique (oVirt keeps them in descriptions) it is another snapshot, with its own marker.
        expect(r).toMatchObject({ name: 'vk-one', owner: owner('other') });
        expect((r as { id: string }).id).not.toBe(first?.id);
        await snaps.delete(target, (r as { id: string }).id);
      }
      expect((await snaps.list(target)).map((x) => x.id)).toEqual([first?.id]);
    }, 60_000);

    it('a VM without our marker is refused for every call', async () => {
      const foreign = `vksnapf-${Date.now().toString(36)}`;
      await h.createForeignVM(foreign);
      const vm = await find(foreign);
      if (!vm) throw new Error('foreign VM missing');
      const t = { ...targetOf(vm), owner: { kind: 'VirtualMachine', namespace: 'contract', name: foreign } };
      await expect(snaps.list(t)).rejects.toBeInstanceOf(RefusedError);
      await expect(snaps.create(t, { name: 'vk-x', owner: owner('x'), memory: false, quiesce: false })).rejects.toBeInstanceOf(RefusedError);
    }, 60_000);

    it('revert puts the configuration back (a running VM is stopped first where the hypervisor needs it)', async () => {
      const before = await find(vmName);
      await h.client.vms.execute({ type: 'reconfigure', target, memoryBytes: 1024 * 2 ** 20, mode: 'offline' });
      expect((await find(vmName))?.memoryBytes).toBe(1024 * 2 ** 20);
      const s = (await snaps.list(target)).find((x) => x.name === 'vk-one');
      if (!s) throw new Error('snapshot missing');
      await h.client.vms.execute({ type: 'start', target });
      if (snaps.revertNeedsStop) {
        await expect(snaps.revert(target, s.id)).rejects.toThrow();
        await h.client.vms.execute({ type: 'stop', target });
      }
      await snaps.revert(target, s.id);
      expect((await find(vmName))?.memoryBytes).toBe(before?.memoryBytes);
    }, 120_000);

    it('delete removes it; deleting a missing one succeeds', async () => {
      const s = (await snaps.list(target)).find((x) => x.name === 'vk-one');
      if (!s) throw new Error('snapshot missing');
      await snaps.delete(target, s.id);
      expect(await snaps.list(target)).toEqual([]);
      await snaps.delete(target, s.id);
    }, 60_000);
  });
}
