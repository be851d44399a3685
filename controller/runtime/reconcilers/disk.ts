// VirtualDisks: a disk with its own life, made in its storage, grown (never shrunk), attached to
// and moved between VMs virtkeeper owns, deleted or orphaned with its resource.
import { parseQuantity, formatBytes } from '../../api/quantity.ts';
import type { VirtualDisk } from '../../api/types.ts';
import { diskVolumeName, legacyDiskVolumeName } from '../../core/disk-name.ts';
import { safeError, TerminalError } from '../../core/errors.ts';
import { isoTime as iso, setCondition } from '../../core/status.ts';
import { namespaceRefusal } from '../../core/tenancy.ts';
import { describeId, parseKey } from '../../api/keys.ts';
import type { DesiredStandaloneDisk, DiskState } from '../../core/provider.ts';
import type { StatusRecord } from '../../status/writer.ts';
import { isNoObservation, observedIntents, unchecked } from './observed.ts';
import type { AppliedRecord, Intent, KindReconciler, ReconcileKit, ReconcileResult } from './types.ts';
import type { DesiredStore } from '../../sources/store.ts';
import { appliedOf, statusOf } from '../records.ts';

export function diskFor(store: DesiredStore, key: string, disk: VirtualDisk, previous?: StatusRecord, instance?: string): DesiredStandaloneDisk {
  const known = statusOf('VirtualDisk', previous);
  const ns = disk.metadata.namespace ?? 'default';
  const vm = disk.spec.attachTo ? store.resource('VirtualMachine', `VirtualMachine/${ns}/${disk.spec.attachTo.vm}`) : undefined;
  return {
    key,
    owner: { kind: 'VirtualDisk', namespace: ns, name: disk.metadata.name, ...(instance ? { instance } : {}) },
    name: diskVolumeName(ns, disk.metadata.name),
    legacyName: legacyDiskVolumeName(ns, disk.metadata.name),
    ...(disk.metadata.uid ? { uid: disk.metadata.uid } : {}),
    sizeBytes: parseQuantity(disk.spec.size),
    interface: disk.spec.interface ?? 'virtio',
    ...(disk.spec.storage ? { storage: disk.spec.storage } : {}),
    ...(disk.spec.format ? { format: disk.spec.format } : {}),
    ...(disk.spec.attachTo ? { attachTo: vm?.spec.name ?? disk.spec.attachTo.vm } : {}),
    ...(known?.providerID ? { knownID: known.providerID } : {}),
    ...(known?.attachedTo ? { knownHolder: known.attachedTo } : {}),
  };
}

/** A disk with its own life: made in its storage, grown, attached to and moved between VMs. */
export async function reconcileDisk(k: ReconcileKit, key: string, disk: VirtualDisk, source: StatusRecord['source'], previous: StatusRecord | undefined): Promise<ReconcileResult> {
  const gen = disk.metadata.generation ?? 1;
  const prev = statusOf('VirtualDisk', previous);
  const last = appliedOf('VirtualDisk', previous);
  if (last && parseQuantity(disk.spec.size) < parseQuantity(last.spec.size))
    throw new TerminalError(`VirtualDisk ${disk.metadata.name}: cannot shrink from ${last.spec.size} to ${disk.spec.size}; disks only grow`);
  const ns = disk.metadata.namespace ?? 'default';
  if (!k.rights(disk.spec.hypervisor, ns).use) {
    const r = namespaceRefusal(describeId(parseKey(key)), disk.spec.hypervisor, ns);
    k.emit({ type: 'refused', key, code: r.code, message: r.message });
    await k.writeRecord({
      key,
      resource: disk,
      status: { ...(prev ?? {}), observedGeneration: gen, conditions: setCondition(prev?.conditions, { type: 'Ready', status: 'False', reason: r.code, message: r.message }, gen, iso(k.o.now())) },
      source,
      lastApplied: previous?.lastApplied,
    });
    return { plan: { steps: [], refusals: [r] }, ready: false };
  }
  if (k.o.dryRun) return { intents: await planDisk(k, key, disk, previous) };
  const conn = await k.connect(disk.spec.hypervisor);
  let message: string | undefined;
  let state: DiskState | undefined;
  if (!conn.client.disks) message = `the ${conn.hypervisor.spec.type} provider does not manage standalone disks yet`;
  else {
    k.emit({ type: 'action', key, phase: 'start', action: 'ensureDisk', summary: `disk ${disk.metadata.name}${disk.spec.attachTo ? ` on ${disk.spec.attachTo.vm}` : ''}` });
    try {
      state = await conn.client.disks.ensure(diskFor(k.o.store, key, disk, previous, k.o.instance), {
        onProgress: (p) => k.emit({ type: 'progress', key, action: 'ensureDisk', ...(p.message ? { message: p.message } : {}) }),
      });
    } catch (e) {
      // The failure is shown where people look (status), then retried.
      const err = safeError(e);
      conn.observer.invalidate();
      await k.writeRecord({
        key,
        resource: disk,
        status: {
          ...(prev ?? {}),
          phase: prev?.phase ?? 'Pending',
          observedGeneration: gen,
          conditions: setCondition(prev?.conditions, { type: 'Ready', status: 'False', reason: err.code, message: err.message }, gen, iso(k.o.now())),
        },
        source,
        lastApplied: previous?.lastApplied ?? disk,
      });
      k.emit({ type: 'action', key, phase: 'failed', action: 'ensureDisk', summary: `disk ${disk.metadata.name}`, message: err.message });
      throw e;
    }
    message = state.message;
    conn.observer.invalidate();
    k.emit({ type: 'action', key, phase: 'done', action: 'ensureDisk', summary: `disk ${disk.metadata.name}` });
  }
  const ready = !message;
  const status: NonNullable<VirtualDisk['status']> = {
    phase: !ready ? 'Pending' : state?.attachedTo ? 'Attached' : 'Available',
    observedGeneration: gen,
    ...(state?.providerID ? { providerID: state.providerID } : {}),
    ...(state?.attachedTo ? { attachedTo: state.attachedTo } : {}),
    ...(state?.sizeBytes ? { actualSize: formatBytes(state.sizeBytes) } : {}),
    conditions: setCondition(
      prev?.conditions,
      ready
        ? { type: 'Ready', status: 'True', reason: 'InPlace', message: `disk ${disk.metadata.name} is ${state?.attachedTo ? `attached to ${state.attachedTo}` : 'available'}` }
        : { type: 'Ready', status: 'False', reason: 'NotInPlace', message: message ?? '' },
      gen,
      iso(k.o.now()),
    ),
  };
  await k.writeRecord({ key, resource: disk, status, source, lastApplied: disk });
  return { ready, requeueAfter: ready ? 60_000 : 10_000 };
}

export async function removeDisk(k: ReconcileKit, key: string, previous: AppliedRecord<VirtualDisk>): Promise<ReconcileResult> {
  const disk = previous.lastApplied;
  if (k.o.dryRun)
    return {
      intents: [
        { symbol: '-', summary: (disk.spec.deletionPolicy ?? 'Delete') === 'Delete' ? `detach and delete disk ${disk.metadata.name}` : `forget disk ${disk.metadata.name} (deletionPolicy: Orphan)` },
      ],
    };
  if (!k.rights(disk.spec.hypervisor, disk.metadata.namespace ?? 'default').use) {
    const r = namespaceRefusal(describeId(parseKey(key)), disk.spec.hypervisor, disk.metadata.namespace ?? 'default');
    k.emit({ type: 'refused', key, code: r.code, message: r.message });
    return { plan: { steps: [], refusals: [r] }, ready: false };
  }
  if ((disk.spec.deletionPolicy ?? 'Delete') === 'Delete' && k.o.store.hypervisor(disk.spec.hypervisor)) {
    const conn = await k.connect(disk.spec.hypervisor);
    await conn.client.disks?.delete(diskFor(k.o.store, key, disk, previous, k.o.instance));
  }
  await k.o.statuses.remove(key);
  return { ready: true };
}

/** What an apply would do, as the provider observes it (or as status suggests, unchecked). */
async function planDisk(k: ReconcileKit, key: string, disk: VirtualDisk, previous: StatusRecord | undefined): Promise<Intent[]> {
  const want = diskFor(k.o.store, key, disk, previous, k.o.instance);
  const conn = await k.connect(disk.spec.hypervisor);
  if (!conn.client.disks) return [{ symbol: '~', summary: `the ${conn.hypervisor.spec.type} provider does not manage standalone disks yet`, blocking: true }];
  try {
    return observedIntents(await conn.client.disks.observe(want));
  } catch (e) {
    if (isNoObservation(e)) return unchecked(diskIntents(disk, statusOf('VirtualDisk', previous), want.attachTo));
    throw e;
  }
}

/** What an apply would do to a VirtualDisk, step by step: a move shows its detach, then its attach. */
export function diskIntents(disk: VirtualDisk, known: VirtualDisk['status'] | undefined, want: string | undefined): Intent[] {
  const name = disk.metadata.name;
  if (!known?.providerID) return [{ symbol: '+', summary: `create disk ${name} of ${disk.spec.size}${want ? `, attached to ${want}` : ''}` }];
  const out: Intent[] = [];
  if (known.actualSize && parseQuantity(disk.spec.size) > parseQuantity(known.actualSize)) out.push({ symbol: '~', summary: `grow disk ${name} from ${known.actualSize} to ${disk.spec.size}` });
  if (known.attachedTo && known.attachedTo !== want) out.push({ symbol: '~', summary: `detach disk ${name} from ${known.attachedTo}` });
  if (want && known.attachedTo !== want) out.push({ symbol: '~', summary: `attach disk ${name} to ${want}` });
  return out;
}

export const diskReconciler: KindReconciler<VirtualDisk> = {
  kind: 'VirtualDisk',
  removalDestroys: true,
  reconcile: (k, key, { resource, source }, previous) => reconcileDisk(k, key, resource, source, previous),
  remove: removeDisk,
};
