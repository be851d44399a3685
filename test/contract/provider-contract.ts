// The reusable contract suite every provider must pass (see providers/provider.ts).
// A provider's test file calls `describeProviderContract` with a harness that starts the
// real thing (a simulator over HTTP, a real libvirtd) and can plant a foreign VM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Target } from '../../controller/core/actions.ts';
import { RefusedError, VkError } from '../../controller/core/errors.ts';
import type { DesiredVM, Observation, ObservedVM } from '../../controller/core/model.ts';
import type { DesiredNetwork, DesiredStandaloneDisk, ProviderClient } from '../../controller/core/provider.ts';

export interface ContractHarness {
  client: ProviderClient;
  /** A template the hypervisor can clone from, or undefined to create from scratch. */
  template?: string;
  /** Creates a VM by the hypervisor's own API, with no ownership marker; returns its name. */
  createForeignVM(name: string): Promise<void>;
  /** Disk size step the provider rounds to (e.g. 1 GiB on Proxmox). */
  diskGranularityBytes?: number;
  /** What a VirtualNetwork binding on this hypervisor needs (an SDN zone, a data center…). */
  networkBinding?: Partial<DesiredNetwork>;
  /** A small image file the hypervisor can import (a path it can read), when it imports images. */
  imageFile?: string;
  /** Asks the hypervisor itself (not the provider) whether a network of this name exists. */
  networkExists?(name: string): Promise<boolean>;
  /** Asks the hypervisor itself whether a disk with this provider id (or name) exists. */
  diskExists?(providerID: string, name: string): Promise<boolean>;
  /** Removes a template the suite made (a real host keeps no leftovers). */
  removeTemplate?(name: string): Promise<void>;
  close(): Promise<void>;
}

const GiB = 2 ** 30;
const MiB = 2 ** 20;

export function contractVM(name: string, template: string | undefined, overrides: Partial<DesiredVM> = {}): DesiredVM {
  return {
    key: `VirtualMachine/contract/${name}`,
    owner: { kind: 'VirtualMachine', namespace: 'contract', name },
    generation: 1,
    hypervisor: 'contract',
    name,
    ...(template ? { template } : {}),
    clone: 'full',
    placement: { strategy: 'LeastLoaded' },
    cpu: { sockets: 1, cores: 1, threads: 1 },
    memoryBytes: 512 * MiB,
    maxMemoryBytes: 2048 * MiB,
    disks: [{ name: 'root', sizeBytes: 1 * GiB, interface: 'virtio', bootable: true }],
    nics: [],
    runStrategy: 'Always',
    guestAgent: false,
    protection: false,
    deletionPolicy: 'Delete',
    updatePolicy: 'RestartAllowed',
    adopt: false,
    tags: [],
    metadata: {},
    ...overrides,
  };
}

function required<T>(f: T | undefined, name: string): T {
  expect(f, `the provider declares this capability, so it has ${name}`).toBeDefined();
  return f as T;
}

function find(obs: Observation, name: string): ObservedVM | undefined {
  return obs.vms.find((v) => v.name === name && !v.isTemplate);
}

function targetOf(vm: ObservedVM): Target {
  return { providerID: vm.providerID, name: vm.name, ...(vm.node ? { node: vm.node } : {}), ...(vm.owner ? { owner: vm.owner } : {}) };
}

/** Capabilities beyond VMs a provider declares it has: the suite then requires them. */
/** `observeKinds`: disks.observe and networks.observe answer (read only) instead of refusing. */
export type ContractCovers = 'disks' | 'networks' | 'templatesFromVM' | 'imageImport' | 'observeKinds';

export function describeProviderContract(name: string, makeHarness: () => Promise<ContractHarness>, options: { skip?: boolean; covers?: ContractCovers[] } = {}): void {
  const covers = new Set(options.covers ?? []);
  // What is said to be removed is checked on the hypervisor: a harness covering it must say how.
  // A capability declared is tested (and must be there); one not declared has no test at all.
  const itIf = (c: ContractCovers) => (covers.has(c) ? it : undefined);
  describe.skipIf(options.skip === true)(`provider contract: ${name}`, () => {
    let h: ContractHarness;
    const suffix = Math.random().toString(36).slice(2, 7);
    const vmName = `vk-test-contract-${suffix}`;
    const foreignName = `vk-test-foreign-${suffix}`;
    const unfinishedName = `vk-test-unfinished-${suffix}`;

    beforeAll(async () => {
      h = await makeHarness();
      await h.createForeignVM(foreignName);
    });
    afterAll(async () => {
      if (!h) return;
      const obs = await h.client.vms.observe().catch(() => undefined);
      for (const n of [vmName, unfinishedName]) {
        const mine = obs && find(obs, n);
        if (mine?.owner) await h.client.vms.execute({ type: 'delete', target: targetOf(mine) }).catch(() => undefined);
      }
      await h.close();
    });

    it('observe lists every VM, with owners read from markers, and never mutates', async () => {
      const a = await h.client.vms.observe();
      const b = await h.client.vms.observe();
      expect(a.nodes.length).toBeGreaterThan(0);
      const foreign = find(a, foreignName);
      expect(foreign, 'the foreign VM is observed').toBeDefined();
      expect(foreign?.owner).toBeUndefined();
      expect(b.vms.map((v) => v.providerID).sort()).toEqual(a.vms.map((v) => v.providerID).sort());
    });

    it('create makes one stopped, configured VM with the marker, and is idempotent', async () => {
      const vm = contractVM(vmName, h.template);
      await h.client.vms.execute({ type: 'create', vm });
      await h.client.vms.execute({ type: 'create', vm });
      const obs = await h.client.vms.observe();
      const matches = obs.vms.filter((v) => v.name === vmName);
      expect(matches).toHaveLength(1);
      const got = matches[0] as ObservedVM;
      expect(got.owner).toEqual(vm.owner);
      expect(got.power).toBe('stopped');
      expect(got.memoryBytes).toBe(vm.memoryBytes);
      expect(got.cpu.sockets * got.cpu.cores * got.cpu.threads).toBe(1);
      expect(got.disks[0]?.sizeBytes).toBeGreaterThanOrEqual(GiB);
    });

    it('start, and start again, leave the VM running', async () => {
      const vm = find(await h.client.vms.observe(), vmName) as ObservedVM;
      await h.client.vms.execute({ type: 'start', target: targetOf(vm) });
      await h.client.vms.execute({ type: 'start', target: targetOf(vm) });
      expect(find(await h.client.vms.observe(), vmName)?.power).toBe('running');
    });

    it('migrations (where offered) leaves out a running VM that is not migrating', async () => {
      const vm = find(await h.client.vms.observe(), vmName) as ObservedVM;
      const read = h.client.vms.migrations?.bind(h.client.vms);
      if (read) expect((await read([targetOf(vm)])).has(vm.providerID)).toBe(false);
    });

    const standalone = (attachTo?: string, sizeBytes = GiB): DesiredStandaloneDisk => ({
      key: `VirtualDisk/contract/data-${suffix}`,
      owner: { kind: 'VirtualDisk', namespace: 'contract', name: `data-${suffix}` },
      name: `vkdisk-contract-data-${suffix}`,
      sizeBytes,
      interface: 'virtio',
      ...(attachTo ? { attachTo } : {}),
    });
    let diskID = '';

    itIf('disks')?.('ensureDisk makes a standalone disk attached to a running VM it owns, once, and grows it', async () => {
      const ensure = required(h.client.disks?.ensure?.bind(h.client.disks), 'disks.ensure');
      const a = await ensure(standalone(vmName));
      const b = await ensure({ ...standalone(vmName), knownID: a.providerID, knownHolder: vmName });
      expect([a.message, b.message]).toEqual([undefined, undefined]);
      expect([a.attachedTo, b.attachedTo]).toEqual([vmName, vmName]);
      expect(b.providerID).toBe(a.providerID);
      const grown = await ensure({ ...standalone(vmName, 2 * GiB), knownID: a.providerID, knownHolder: vmName });
      expect(grown.sizeBytes).toBe(2 * GiB);
      diskID = grown.providerID;
      const vm = find(await h.client.vms.observe(), vmName) as ObservedVM;
      expect(vm.power).toBe('running');
      expect(
        vm.disks.filter((d) => d.standalone),
        'the VM sees the disk as not its own',
      ).toHaveLength(1);
    });

    itIf('disks')?.('ensureDisk never attaches a disk to a VM it does not own', async () => {
      const ensure = required(h.client.disks?.ensure?.bind(h.client.disks), 'disks.ensure');
      const r = await ensure({
        ...standalone(foreignName, 2 * GiB),
        key: `VirtualDisk/contract/other-${suffix}`,
        owner: { kind: 'VirtualDisk', namespace: 'contract', name: `other-${suffix}` },
        name: `vkdisk-contract-other-${suffix}`,
      });
      expect(r.message).toMatch(/not managed by virtkeeper|not owned|does not own/);
      expect((find(await h.client.vms.observe(), foreignName) as ObservedVM).disks.some((d) => d.standalone)).toBe(false);
    });

    itIf('observeKinds')?.('disks.observe and networks.observe change nothing, and say what ensure then does', async () => {
      const disks = required(h.client.disks, 'disks');
      const networks = required(h.client.networks, 'networks');
      const d = {
        ...standalone(vmName),
        key: `VirtualDisk/contract/obs-${suffix}`,
        owner: { kind: 'VirtualDisk', namespace: 'contract', name: `obs-${suffix}` },
        name: `vkdisk-contract-obs-${suffix}`,
      };
      const standaloneOn = async () => (find(await h.client.vms.observe(), vmName) as ObservedVM).disks.filter((x) => x.standalone).length;
      const attachedBefore = await standaloneOn();
      const first = await disks.observe(d);
      expect([first.exists, first.upToDate, first.problem]).toEqual([false, false, undefined]);
      expect(first.intents.length).toBeGreaterThan(0);
      expect(await standaloneOn(), 'observe attached nothing').toBe(attachedBefore);
      expect(await h.diskExists?.('', d.name)).not.toBe(true);
      expect((await disks.observe(d)).exists, 'a second look finds nothing made by the first').toBe(false);
      const made = await disks.ensure(d);
      const after = await disks.observe({ ...d, knownID: made.providerID, knownHolder: vmName });
      expect([after.exists, after.upToDate, after.intents, after.state?.providerID]).toEqual([true, true, [], made.providerID]);
      await disks.delete({ ...d, knownID: made.providerID, knownHolder: vmName });

      const net: DesiredNetwork = {
        key: `VirtualNetwork/vko${suffix}`,
        owner: { kind: 'VirtualNetwork', name: `vko${suffix}` },
        name: `vko${suffix}`,
        vlanId: 3900 + Math.floor(Math.random() * 90),
        ...h.networkBinding,
      };
      if (net.sdn) net.sdn = { zone: net.sdn.zone, vnet: net.name };
      const seen = await networks.observe(net);
      expect(await h.networkExists?.(net.sdn?.vnet ?? net.name), 'observe made nothing').not.toBe(true);
      await networks.ensure(net);
      const again = await networks.observe(net);
      expect([again.exists, again.upToDate, again.intents]).toEqual([true, true, []]);
      // What observe said first is what ensure had to do: nothing when it was already up to date.
      expect(seen.upToDate).toBe(seen.intents.length === 0 && seen.exists);
      await networks.delete(net);
    });

    itIf('networks')?.('ensureNetwork makes the VLAN available, idempotently, and deleteNetwork removes what it made', async () => {
      const ensure = required(h.client.networks?.ensure?.bind(h.client.networks), 'networks.ensure');
      const remove = required(h.client.networks?.delete?.bind(h.client.networks), 'networks.delete');
      const net: DesiredNetwork = {
        key: `VirtualNetwork/vkc${suffix}`,
        owner: { kind: 'VirtualNetwork', name: `vkc${suffix}` },
        name: `vkc${suffix}`,
        vlanId: 3000 + Math.floor(Math.random() * 900),
        ...h.networkBinding,
      };
      if (net.sdn) net.sdn = { zone: net.sdn.zone, vnet: net.name };
      const a = await ensure(net);
      const b = await ensure(net);
      expect([a.present, b.present, a.message]).toEqual([true, true, undefined]);
      expect(b.providerIDs).toEqual(a.providerIDs);
      expect(await h.networkExists?.(net.sdn?.vnet ?? net.name)).toBe(true);
      await remove(net);
      await remove(net);
      expect(await h.networkExists?.(net.sdn?.vnet ?? net.name)).toBe(false);
    });

    it('grows a disk, and growing to the same size again changes nothing', async () => {
      const vm = find(await h.client.vms.observe(), vmName) as ObservedVM;
      const size = (vm.disks[0]?.sizeBytes ?? GiB) + GiB;
      await h.client.vms.execute({ type: 'growDisk', target: targetOf(vm), disk: vm.disks[0]?.name ?? 'root', index: 0, sizeBytes: size });
      await h.client.vms.execute({ type: 'growDisk', target: targetOf(vm), disk: vm.disks[0]?.name ?? 'root', index: 0, sizeBytes: size });
      expect(find(await h.client.vms.observe(), vmName)?.disks[0]?.sizeBytes).toBe(size);
    });

    it('changes memory live when it can, else offline after a stop', async () => {
      let vm = find(await h.client.vms.observe(), vmName) as ObservedVM;
      if (h.client.capabilities.liveMemory) {
        await h.client.vms.execute({ type: 'reconfigure', target: targetOf(vm), memoryBytes: 1024 * MiB, mode: 'live' });
        expect(find(await h.client.vms.observe(), vmName)?.memoryBytes).toBe(1024 * MiB);
      }
      await h.client.vms.execute({ type: 'stop', target: targetOf(vm) });
      await h.client.vms.execute({ type: 'stop', target: targetOf(vm) });
      vm = find(await h.client.vms.observe(), vmName) as ObservedVM;
      expect(vm.power).toBe('stopped');
      await h.client.vms.execute({ type: 'reconfigure', target: targetOf(vm), memoryBytes: 768 * MiB, cpu: { sockets: 1, cores: 2, threads: 1 }, mode: 'offline' });
      vm = find(await h.client.vms.observe(), vmName) as ObservedVM;
      expect(vm.memoryBytes).toBe(768 * MiB);
      expect(vm.cpu.sockets * vm.cpu.cores * vm.cpu.threads).toBe(2);
    });

    itIf('disks')?.('ensureDisk detaches the disk from a stopped VM it owns; deleteDisk removes it, twice', async () => {
      const ensure = required(h.client.disks?.ensure?.bind(h.client.disks), 'disks.ensure');
      const remove = required(h.client.disks?.delete?.bind(h.client.disks), 'disks.delete');
      expect(diskID, 'the disk made earlier in this suite').not.toBe('');
      const r = await ensure({ ...standalone(undefined, 2 * GiB), knownID: diskID, knownHolder: vmName });
      expect([r.attachedTo, r.message]).toEqual([undefined, undefined]);
      expect((find(await h.client.vms.observe(), vmName) as ObservedVM).disks.filter((d) => d.standalone)).toHaveLength(0);
      expect(await h.diskExists?.(r.providerID, standalone().name)).toBe(true);
      await remove({ ...standalone(undefined, 2 * GiB), knownID: r.providerID });
      await remove({ ...standalone(undefined, 2 * GiB), knownID: r.providerID });
      expect(await h.diskExists?.(r.providerID, standalone().name)).toBe(false);
    });

    itIf('templatesFromVM')?.('templateFromVM makes a template from a stopped VM it owns, once; never from a foreign one', async () => {
      const make = required(h.client.templates?.fromVM?.bind(h.client.templates), 'templates.fromVM');
      const inspect = required(h.client.templates?.inspect?.bind(h.client.templates), 'templates.inspect');
      const src = `vk-test-tplsrc-${suffix}`;
      const tpl = `vk-test-tpl-${suffix}`;
      const vm = contractVM(src, h.template);
      await h.client.vms.execute({ type: 'create', vm });
      const made = find(await h.client.vms.observe(), src) as ObservedVM;
      try {
        const foreign = find(await h.client.vms.observe(), foreignName) as ObservedVM;
        const refused = await make({ ...targetOf(foreign), owner: vm.owner }, `${tpl}-x`).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(refused).toBeInstanceOf(VkError);
        const a = await make(targetOf(made), tpl);
        const b = await make(targetOf(made), tpl);
        expect([a.found, b.found]).toEqual([true, true]);
        expect(b.providerID).toBe(a.providerID);
        expect((await inspect(tpl)).found).toBe(true);
        expect((await inspect(`${tpl}-x`)).found).toBe(false);
      } finally {
        const left = find(await h.client.vms.observe(), src);
        if (left) await h.client.vms.execute({ type: 'delete', target: targetOf(left) });
        await h.removeTemplate?.(tpl);
      }
    });

    itIf('imageImport')?.('importTemplate makes a template from an image once, and a missing image is refused', async () => {
      const imp = required(h.client.templates?.import?.bind(h.client.templates), 'templates.import');
      const inspect = required(h.client.templates?.inspect?.bind(h.client.templates), 'templates.inspect');
      expect(h.imageFile, 'the harness gives an image file').toBeDefined();
      const image = h.imageFile ?? '';
      const tpl = `vk-test-img-${suffix}`;
      try {
        const a = await imp(tpl, image, { owner: { kind: 'VMTemplate', name: tpl } });
        const b = await imp(tpl, image, { owner: { kind: 'VMTemplate', name: tpl } });
        expect([a.found, b.found]).toEqual([true, true]);
        expect(b.providerID).toBe(a.providerID);
        expect(a.diskBytes).toBeGreaterThan(0);
        const missing = await imp(`${tpl}-x`, `${image}.missing`, { owner: { kind: 'VMTemplate', name: `${tpl}-x` } }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(missing).toBeInstanceOf(VkError);
        expect((await inspect(`${tpl}-x`)).found).toBe(false);
      } finally {
        await h.removeTemplate?.(tpl);
      }
    });

    it('refuses destructive actions on a VM it does not own', async () => {
      const foreign = find(await h.client.vms.observe(), foreignName) as ObservedVM;
      const target = { ...targetOf(foreign), owner: { kind: 'VirtualMachine', namespace: 'contract', name: foreignName } };
      for (const action of [
        { type: 'delete' as const, target },
        { type: 'growDisk' as const, target, disk: foreign.disks[0]?.name ?? 'x', index: 0, sizeBytes: 100 * GiB },
      ]) {
        const err = await h.client.vms.execute(action).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, `${action.type} of a foreign VM is refused`).toBeInstanceOf(VkError);
      }
      expect(find(await h.client.vms.observe(), foreignName)).toBeDefined();
    });

    it('exec runs nothing in a VM it does not own', async () => {
      if (!h.client.guest) return;
      const foreign = find(await h.client.vms.observe(), foreignName) as ObservedVM;
      const target = { ...targetOf(foreign), owner: { kind: 'VirtualMachine', namespace: 'contract', name: foreignName } };
      const err = await h.client.guest.exec(target, ['true'], { timeoutMs: 5000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RefusedError);
    });

    it('create refuses a name an unmarked VM holds, and finishes that VM (marked, once) when resume names it', async () => {
      await h.createForeignVM(unfinishedName);
      const vm = contractVM(unfinishedName, h.template);
      const refused = await h.client.vms.execute({ type: 'create', vm }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(RefusedError);
      const half = find(await h.client.vms.observe(), unfinishedName) as ObservedVM;
      expect(half.owner).toBeUndefined();
      await h.client.vms.execute({ type: 'create', vm, resume: targetOf(half) });
      const after = (await h.client.vms.observe()).vms.filter((v) => v.name === unfinishedName);
      expect(after.map((v) => [v.providerID, v.owner])).toEqual([[half.providerID, vm.owner]]);
    });

    it('classifies a missing VM as not-found, and deleting it twice succeeds', async () => {
      const vm = find(await h.client.vms.observe(), vmName) as ObservedVM;
      await h.client.vms.execute({ type: 'delete', target: targetOf(vm) });
      await h.client.vms.execute({ type: 'delete', target: targetOf(vm) });
      expect(find(await h.client.vms.observe(), vmName)).toBeUndefined();
      const err = await h.client.vms.execute({ type: 'start', target: targetOf(vm) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VkError);
      expect((err as VkError).kind).toBe('not-found');
    });
  });
}
