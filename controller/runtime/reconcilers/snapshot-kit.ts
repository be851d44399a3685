// What the snapshot kinds share: finding the VM a snapshot, restore or schedule names (declared
// in the same namespace, carrying this controller's marker: any other is refused), and taking a
// snapshot with the guest's file systems frozen where asked and possible (saying why not).
import { describeId, parseKey } from '../../api/keys.ts';
import type { VirtualMachine } from '../../api/types.ts';
import type { Target } from '../../core/actions.ts';
import { safeError } from '../../core/errors.ts';
import type { DesiredVM, ObservedVM, OwnerRef } from '../../core/model.ts';
import { findObserved, type Refusal } from '../../core/plan.ts';
import type { ActionContext, DesiredSnapshot, ObservedSnapshot, SnapshotClient } from '../../core/provider.ts';
import { namespaceRefusal } from '../../core/tenancy.ts';
import type { Connected } from '../hypervisors.ts';
import type { ReconcileKit } from './types.ts';
import { desiredOf } from './vm.ts';

export interface ResolvedVM {
  vm: VirtualMachine;
  desired: DesiredVM;
  conn: Connected;
  observed: ObservedVM;
  target: Target;
  snapshots: SnapshotClient;
}

export type Resolution = { ok: true; r: ResolvedVM } | { ok: false; wait: string } | { ok: false; refusal: Refusal };

export function targetOf(vm: ObservedVM): Target {
  return { providerID: vm.providerID, name: vm.name, ...(vm.node ? { node: vm.node } : {}), ...(vm.owner ? { owner: vm.owner } : {}) };
}

/** The owner a snapshot kind's marker names. */
export function ownerOf(k: ReconcileKit, key: string): OwnerRef {
  const id = parseKey(key);
  return { kind: id.kind, namespace: id.namespace ?? 'default', name: id.name, ...(k.o.instance ? { instance: k.o.instance } : {}) };
}

/**
 * The VM `name` of namespace `ns`, as this controller manages it: declared, on a Hypervisor the
 * namespace may use, observed with this controller's marker, on a provider that makes snapshots.
 */
export async function resolveVM(k: ReconcileKit, who: string, ns: string, name: string): Promise<Resolution> {
  const entry = k.o.store.get(`VirtualMachine/${ns}/${name}`);
  if (entry?.resource.kind !== 'VirtualMachine') {
    return {
      ok: false,
      refusal: {
        code: 'VK_REFUSED_NOT_OWNED',
        field: 'spec.vm',
        message: `${who}: VirtualMachine ${ns}/${name} is not declared; virtkeeper snapshots and restores only VMs it manages (declare it, or fix spec.vm)`,
      },
    };
  }
  const vm = entry.resource;
  const hv = k.o.store.hypervisor(vm.spec.hypervisor);
  if (!hv) return { ok: false, wait: `Hypervisor ${vm.spec.hypervisor} of VirtualMachine ${ns}/${name} is not defined` };
  if (!k.rights(vm.spec.hypervisor, ns).use) return { ok: false, refusal: namespaceRefusal(who, vm.spec.hypervisor, ns) };
  const conn = await k.connect(vm.spec.hypervisor);
  // The VM as its own reconciler reads it (the connector's conventions included).
  const desired = desiredOf(k, vm, conn.conventions);
  const found = findObserved(await conn.observer.get(), desired.owner, desired.name);
  if (found.duplicates)
    return { ok: false, refusal: { code: 'VK_REFUSED_DUPLICATE', message: `${who}: ${found.duplicates.length} VMs carry the marker of ${desired.name}; nothing is done until one is removed` } };
  if (!found.mine) {
    if (found.clash)
      return {
        ok: false,
        refusal: { code: 'VK_REFUSED_NOT_OWNED', message: `${who}: VM ${desired.name} on ${vm.spec.hypervisor} does not carry this controller's marker; virtkeeper does not touch it` },
      };
    return { ok: false, wait: `VM ${desired.name} does not exist on ${vm.spec.hypervisor} yet` };
  }
  if (!conn.client.snapshots) {
    return { ok: false, refusal: { code: 'VK_UNSUPPORTED', message: `${who}: the ${hv.spec.type} provider of Hypervisor ${hv.metadata.name} does not make snapshots yet` } };
  }
  return { ok: true, r: { vm, desired, conn, observed: found.mine, target: targetOf(found.mine), snapshots: conn.client.snapshots } };
}

/** Why a VM cannot be snapshotted now (a migration, a lock), or undefined. */
export function busyReason(vm: ObservedVM): string | undefined {
  if (vm.migration) return `VM ${vm.name} is migrating${vm.migration.from || vm.migration.to ? ` (${vm.migration.from ?? '?'} → ${vm.migration.to ?? '?'})` : ''}`;
  if (vm.busy) return `VM ${vm.name} is locked (${vm.busy})`;
  return undefined;
}

export interface Quiesce {
  /** True: frozen through the guest agent; false: not quiesced (see message); undefined: left to the hypervisor. */
  frozen?: boolean;
  reason: 'Frozen' | 'NotAsked' | 'VMStopped' | 'WithMemory' | 'GuestAgentMissing' | 'ByHypervisor';
  message: string;
}

/** Takes a snapshot, freezing the guest's file systems around it when asked and the agent answers. */
export async function takeSnapshot(r: ResolvedVM, d: DesiredSnapshot, k: ReconcileKit, ctx: ActionContext): Promise<{ snapshot: ObservedSnapshot; quiesce: Quiesce }> {
  const guest = r.conn.client.guest;
  const plain = (quiesce: Quiesce) => r.conn.limit(() => r.snapshots.create(r.target, { ...d, quiesce: false }, ctx)).then((snapshot) => ({ snapshot, quiesce }));
  if (!d.quiesce) return plain({ reason: 'NotAsked', message: 'quiesce not asked' });
  if (r.observed.power !== 'running') return plain({ frozen: false, reason: 'VMStopped', message: `VM ${r.observed.name} is ${r.observed.power}: nothing to freeze, its disks are at rest` });
  // Disks and memory saved at one instant are consistent as they are; a freeze would be saved with
  // the memory, and the guest would come back frozen from a restore.
  if (d.memory) return plain({ frozen: false, reason: 'WithMemory', message: 'memory saved with the disks at one instant: consistent without a freeze (a freeze would be restored with it)' });
  if (!r.desired.guestAgent) {
    return plain({ frozen: false, reason: 'GuestAgentMissing', message: `VM ${r.observed.name} has no guest agent (spec.guestAgent is false): snapshot taken without freezing the file systems` });
  }
  if (!guest?.freeze || !guest.thaw) {
    // The provider quiesces in its own snapshot call (libvirt's QUIESCE flag, oVirt's agent call).
    const snapshot = await r.conn.limit(() => r.snapshots.create(r.target, d, ctx));
    return { snapshot, quiesce: { reason: 'ByHypervisor', message: 'quiesce asked of the hypervisor with the snapshot' } };
  }
  let frozen: number;
  try {
    frozen = await guest.freeze(r.target, ctx);
  } catch (e) {
    const why = safeError(e).message;
    k.o.logger.warn({ vm: r.observed.name }, `guest agent did not freeze: ${why}`);
    return plain({ frozen: false, reason: 'GuestAgentMissing', message: `the guest agent of VM ${r.observed.name} did not answer (${why}): snapshot taken without freezing the file systems` });
  }
  try {
    return await plain({ frozen: true, reason: 'Frozen', message: `${frozen} file system(s) frozen by the guest agent while the snapshot was taken` });
  } finally {
    await guest.thaw(r.target, ctx).catch((e: unknown) => k.o.logger.error({ vm: r.observed.name }, `guest file systems may still be frozen: ${safeError(e).message}`));
  }
}

/** `VirtualMachineSnapshot default/x`, for messages. */
export function describeKey(key: string): string {
  return describeId(parseKey(key));
}
