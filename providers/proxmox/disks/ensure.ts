// Making a VirtualDisk as desired, and (the same decisions, every write replaced by its intent)
// saying what that would do without doing it. Proxmox ties a volume to the VM id in its name, so
// a VirtualDisk's volume is allocated for DISK_OWNER_VMID and attached to VMs by reference; one
// made by an earlier version under its VM's id (`legacy`) moves with `move_disk` instead.
import type { ActionContext, DesiredStandaloneDisk, DiskState } from '../../../controller/core/provider.ts';
import { sizeText } from '../../kit/sizes.ts';
import type { ProxmoxClient } from '../client.ts';
import { readGuestConfig } from '../guest-config.ts';
import type { ResourceRow } from '../mapping.ts';
import type { FreeVolumes } from './free.ts';
import { diskMarkerVerdict } from '../../disk-marker.ts';
import { freeSlot, linesOf, locate, owned, ownFile, type Place, sizeOfVolume, slotOf, volumeOwner, withDiskLine, DISK_OWNER_VMID } from './volumes.ts';

/** How a write is made: at once, or (a dry run) recorded as an intent with the answer it would give. */
export interface Effects {
  write<T>(intent: string, fn: () => Promise<T>, dry: T): Promise<T>;
}

export interface EnsureWork {
  api: ProxmoxClient;
  defaultStorage: string;
  fullScans: Map<string, number>;
  free: FreeVolumes;
  guests: () => Promise<ResourceRow[]>;
  effects: Effects;
  /** Waits for a task a write started (a dry write starts none). */
  wait: (upid: string | null) => Promise<void>;
  /** A config changed: the VM's cached detail goes. */
  touched?: (row: ResourceRow) => void;
}

/** How the intent to allocate the volume starts. */
export const CREATE_INTENT = 'create volume';

const state = (providerID: string, sizeBytes: number, attachedTo?: string, message?: string): DiskState => ({
  providerID,
  sizeBytes,
  ...(attachedTo ? { attachedTo } : {}),
  ...(message ? { message } : {}),
});

export async function ensureDisk(w: EnsureWork, d: DesiredStandaloneDisk, ctx: ActionContext = {}): Promise<DiskState> {
  const { api, effects, wait } = w;
  const rows = await w.guests();
  const targetRow = d.attachTo ? rows.find((r) => r.template !== 1 && r.name === d.attachTo) : undefined;
  const target: Place | undefined = targetRow ? { row: targetRow, config: await readGuestConfig(api, targetRow.node, targetRow.vmid) } : undefined;
  const config = async (p: Place, intent: string, params: Record<string, string>) => {
    ctx.onProgress?.({ message: intent });
    await wait(await effects.write(intent, () => api.post<string>(`/nodes/${p.row.node}/qemu/${p.row.vmid}/config`, params), null));
    w.touched?.(p.row);
  };
  const resize = async (p: Place, slot: string) => {
    const intent = `grow ${slot} of ${p.row.name} to ${sizeText(d.sizeBytes)}`;
    ctx.onProgress?.({ message: intent });
    await wait(await effects.write(intent, () => api.put<string | null>(`/nodes/${p.row.node}/qemu/${p.row.vmid}/resize`, { disk: slot, size: sizeText(d.sizeBytes) }), null));
    w.touched?.(p.row);
  };
  const cannotAttach = (): string | undefined => {
    if (!d.attachTo) return undefined;
    if (!target) return `VM ${d.attachTo} does not exist yet`;
    if (!owned(target)) return `VM ${d.attachTo} is not managed by virtkeeper; a disk is never attached to it`;
    if (target.row.lock) return `VM ${d.attachTo} is busy (lock ${target.row.lock}); the disk is attached when it is free`;
    return undefined;
  };
  /** Attaches a volume no VM references to the target (hot-plugged when it runs), with the line naming this resource. */
  const attach = async (t: Place, volid: string, size: number): Promise<DiskState> => {
    const slot = freeSlot(t.config, d);
    await config(t, `attach ${volid} to ${t.row.name} as ${slot}`, { [slot]: volid, description: withDiskLine(t.config.description, d, volid) });
    if (size < d.sizeBytes) await resize(t, slot);
    return state(volid, Math.max(size, d.sizeBytes), t.row.name);
  };

  let at = await locate(d, rows, { api, fullScans: w.fullScans, ...(target ? { known: target } : {}) });
  if (!at) {
    const { free, offline } = await w.free.find(d, w.defaultStorage, target?.row.node);
    // A line naming the volume on the target (what an allocation writes before it allocates):
    // an attempt interrupted between the two left its marker there.
    const claimed = (p: Place | undefined, volid: string) => !!p && owned(p) && linesOf(p.config).some((l) => l.volid === volid && diskMarkerVerdict(l.owner, d) !== 'other');
    if (free) {
      const proven = free.volid === d.knownID || claimed(target, free.volid);
      const why = cannotAttach();
      if (proven && why) return state(free.volid, free.size, undefined, why);
      if (proven && !target) return state(free.volid, free.size);
      // Attaching a volume that looks free, or one no record names yet: every VM's config is
      // read first, so that a volume someone attached elsewhere by hand is never attached twice.
      const claims: { by?: ResourceRow } = {};
      at = await locate(d, rows, { api, fullScans: w.fullScans, ...(target ? { known: target } : {}), everywhere: true, claims });
      if (!at && claims.by)
        return state(
          proven ? free.volid : '',
          proven ? free.size : 0,
          undefined,
          `disk ${d.name} is attached to VM ${claims.by.name ?? claims.by.vmid}, whose line names another VirtualDisk of this name (another UID); it is left as it is`,
        );
      // Its name alone does not make a detached volume this resource's: a VirtualDisk of this
      // name made before (another UID, another controller) has the same name.
      if (!at && !proven)
        return state(
          '',
          0,
          undefined,
          `volume ${free.volid} on ${free.node} has this disk's name but no record of this VirtualDisk names it (state lost, or another VirtualDisk of this name made it); it is not taken and no second one is made: attach it to an owned VM by hand to have it taken, or delete it`,
        );
      if (!at && target) {
        if (why) return state(free.volid, free.size, undefined, why);
        if (target.row.node !== free.node)
          return state(free.volid, free.size, undefined, `VM ${d.attachTo} is on ${target.row.node} and the disk on ${free.node}; a disk on local storage attaches to VMs of its node`);
        return attach(target, free.volid, free.size);
      }
    } else if (offline.length > 0) {
      // It may be on a node that did not answer: a second volume is never made meanwhile.
      return state(
        d.knownID ?? '',
        0,
        undefined,
        `disk ${d.name} was not found on the nodes that answered; ${offline.join(', ')} ${offline.length === 1 ? 'is' : 'are'} offline: nothing is made until ${offline.length === 1 ? 'it answers' : 'they answer'}`,
      );
    }
  }

  if (!at) {
    if (!d.attachTo) return state('', 0, undefined, 'on Proxmox a VirtualDisk is created attached to a VM, on its node (set attachTo)');
    const why = cannotAttach();
    if (why || !target) return state('', 0, undefined, why);
    const storage = d.storage ?? w.defaultStorage;
    // The marker first: an attempt interrupted after the allocation is taken up by the next.
    const planned = `${storage}:${ownFile(d)}`;
    await config(target, `record ${d.name} in the description of ${target.row.name}`, { description: withDiskLine(target.config.description, d, planned) });
    const intent = `${CREATE_INTENT} ${ownFile(d)} of ${sizeText(d.sizeBytes)} on ${storage} (${target.row.node})`;
    ctx.onProgress?.({ message: intent });
    const volid = await effects.write(
      intent,
      () => {
        w.free.forget();
        return api.post<string>(`/nodes/${target.row.node}/storage/${storage}/content`, {
          vmid: String(DISK_OWNER_VMID),
          filename: ownFile(d),
          size: sizeText(d.sizeBytes),
          ...(d.format ? { format: d.format } : {}),
        });
      },
      `${storage}:${ownFile(d)}`,
    );
    return attach({ row: target.row, config: { ...target.config, description: withDiskLine(target.config.description, d, planned) } }, volid, d.sizeBytes);
  }

  const found = at;
  const holder = found.row.name ?? String(found.row.vmid);
  const attached = /^(scsi|virtio|sata|ide)\d+$/.test(found.key);
  // A volume of earlier versions belongs to the VM holding it: it moves by `move_disk` (renamed).
  const legacy = volumeOwner(found.volid) === found.row.vmid;
  let size = await sizeOfVolume(api, found);
  const grow = async (p: Place, key: string) => {
    if (size >= d.sizeBytes) return;
    await resize(p, key);
    size = d.sizeBytes;
  };
  if (attached && holder === d.attachTo) {
    await grow(found, found.key);
    if (owned(found) && found.stale) await config(found, `record ${d.name} in the description of ${holder}`, { description: withDiskLine(found.config.description, d, found.volid) });
    return state(found.volid, size, holder);
  }
  if (!owned(found)) return state(found.volid, size, attached ? holder : undefined, `disk ${d.name} is on VM ${holder}, which virtkeeper does not own; it is never detached from it`);
  const why = cannotAttach();
  if (why) return state(found.volid, size, attached ? holder : undefined, why);
  if (target && target.row.node !== found.row.node)
    return state(found.volid, size, attached ? holder : undefined, `VM ${d.attachTo} is on ${target.row.node} and the disk on ${found.row.node}; Proxmox reassigns disks between VMs of one node`);

  if (!legacy) {
    if (target && target.row.vmid === found.row.vmid) return attach(target, found.volid, size);
    // Detached: another VM id's volume just leaves the config (no unusedN) and stays in its storage.
    await config(found, `detach ${d.name} from ${holder}`, { delete: found.key, description: withDiskLine(found.config.description, d, undefined) });
    w.free.forget();
    return target ? attach(target, found.volid, size) : state(found.volid, size);
  }

  let unusedKey = found.key;
  if (attached) {
    // The unused volume stays marked on the VM that holds it: its own disk list never takes it.
    await config(found, `unplug ${found.key} from ${holder}`, { delete: found.key, description: withDiskLine(found.config.description, d, found.volid) });
    unusedKey = slotOf(await readGuestConfig(api, found.row.node, found.row.vmid), found.volid) ?? found.key;
  }
  if (!target) return state(found.volid, size);
  const slot = freeSlot(target.config, d);
  if (target.row.vmid === found.row.vmid) {
    await config(found, `attach ${found.volid} to ${holder} as ${slot}`, { [slot]: found.volid });
    await grow(target, slot);
    return state(found.volid, size, d.attachTo);
  }
  const intent = `reassign ${d.name} from ${holder} to ${d.attachTo} as ${slot}`;
  ctx.onProgress?.({ message: intent });
  await wait(
    await effects.write(
      intent,
      () => api.post<string>(`/nodes/${found.row.node}/qemu/${found.row.vmid}/move_disk`, { disk: unusedKey, 'target-vmid': String(target.row.vmid), 'target-disk': slot }),
      null,
    ),
  );
  const now = await readGuestConfig(api, target.row.node, target.row.vmid);
  const volid = (now[slot] ?? '').split(',')[0] || found.volid;
  await config(target, `record ${d.name} in the description of ${d.attachTo}`, { description: withDiskLine(now.description, d, volid) });
  const before = await readGuestConfig(api, found.row.node, found.row.vmid);
  await config(found, `drop ${d.name} from the description of ${holder}`, { description: withDiskLine(before.description, d, undefined) });
  await grow({ row: target.row, config: now }, slot);
  return state(volid, size, d.attachTo);
}
