// Finding a VirtualDisk on the engine and deciding where it goes, without changing anything:
// the decisions DiskClient.observe reports and ensure acts on. A standalone disk is a floating
// disk whose alias is the resource's disk name and whose description carries the ownership
// marker (kind, namespace, name, UID).
import { parseOwner, sameOwner, type DesiredStandaloneDisk } from '../../controller/core/provider.ts';
import { diskMarkerVerdict, formatDiskOwner, parseDiskOwner } from '../disk-marker.ts';
import { arr, bool, nameSearch, obj, type Json, type OvirtClient } from './client.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const owned = (vm: Json) => parseOwner(String(vm.comment ?? '')) !== undefined;

export interface FoundDisk {
  /** The disk whose marker names this resource. */
  disk?: Json;
  /** Its name or marker is an older one (main's `vkdisk-<ns>-<name>`, a marker without the UID): ensure rewrites them. */
  upgrade?: boolean;
  /** A disk of this name that another resource's marker names. */
  taken?: Json;
}

/**
 * The disk whose marker names this resource: by the id last reported, by its name, or by the
 * name main gave it before (which two resources could share: only its marker tells whose it
 * is). One search names all three.
 */
export async function findDisk(api: OvirtClient, d: DesiredStandaloneDisk): Promise<FoundDisk> {
  // An id that is not one would make the whole search unparseable (an empty answer, as engines do).
  const terms = [...(d.knownID && UUID.test(d.knownID) ? [`id=${d.knownID}`] : []), nameSearch(d.name), ...(d.legacyName && d.legacyName !== d.name ? [nameSearch(d.legacyName)] : [])];
  const hits = arr((await api.get('/disks', { search: terms.join(' or ') })).disk);
  const named = (name: string) => hits.filter((x) => x.alias === name || x.name === name);
  const known = d.knownID ? hits.find((x) => String(x.id) === d.knownID) : undefined;
  const candidates = [...(known ? [known] : []), ...named(d.name), ...(d.legacyName && d.legacyName !== d.name ? named(d.legacyName) : [])];
  for (const c of candidates) {
    const verdict = diskMarkerVerdict(parseDiskOwner(String(c.description ?? '')), d);
    if (verdict !== 'other') return { disk: c, upgrade: verdict === 'upgrade' || c.alias !== d.name || String(c.description ?? '') !== formatDiskOwner(d) };
  }
  const taken = candidates.find((c) => c.alias === d.name);
  return taken ? { taken } : {};
}

export interface Holder {
  vm: Json;
  attachment: Json;
}

/** The VM holding a disk, from one list of every VM's attachments. */
export function holderOf(vms: Json[], diskId: string): Holder | undefined {
  for (const vm of vms) {
    const attachment = arr(obj(vm.disk_attachments).disk_attachment).find((a) => String(obj(a.disk).id ?? a.id) === diskId);
    if (attachment) return { vm, attachment };
  }
  return undefined;
}

/** Where the disk is and where it goes: what to detach it from, what to attach it to, or why not. */
export interface Placement {
  holder?: Holder;
  /** The VM it stays on (the one it should be on, or one virtkeeper may not take it from). */
  attachedTo?: string;
  target?: Json;
  detach: boolean;
  attach: boolean;
  problem?: string;
}

export function placement(vms: Json[], diskId: string | undefined, d: DesiredStandaloneDisk): Placement {
  const holder = diskId ? holderOf(vms, diskId) : undefined;
  const holderName = holder ? String(holder.vm.name) : undefined;
  const stays = { ...(holder ? { holder } : {}), ...(holderName ? { attachedTo: holderName } : {}), detach: false, attach: false };
  if (holderName === d.attachTo) return stays;
  if (holder && !owned(holder.vm)) return { ...stays, problem: `disk ${d.name} is attached to VM ${holderName}, which virtkeeper does not own; it is never detached from it` };
  if (!d.attachTo) return { ...(holder ? { holder } : {}), detach: !!holder, attach: false };
  const target = vms.find((v) => v.name === d.attachTo);
  if (!target) return { ...stays, problem: `VM ${d.attachTo} does not exist yet` };
  if (!owned(target)) return { ...stays, problem: `VM ${d.attachTo} is not managed by virtkeeper; a disk is never attached to it` };
  return { ...(holder ? { holder } : {}), target, detach: !!holder, attach: true };
}

/**
 * The attachments a VM's removal detaches first, so that `DELETE /vms/{id}` (which removes the
 * disks still attached) leaves them: VirtualDisks, disks another owner's marker names, shared disks.
 */
export function attachmentsToKeep(vm: Json): Json[] {
  const self = parseOwner(String(vm.comment ?? ''));
  return arr(obj(vm.disk_attachments).disk_attachment).filter((a) => {
    const disk = obj(a.disk);
    const owner = parseOwner(String(disk.description ?? ''));
    return String(disk.alias ?? '').startsWith('vkdisk-') || (owner !== undefined && !sameOwner(owner, self)) || bool(disk.shareable);
  });
}
