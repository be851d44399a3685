// Disks in the engine: new ones (floating or through an attachment), attaching a floating one,
// growth (locked while it extends), edits and removal.
import type { EngineCore } from '../engine-core.ts';
import { badRequest, conflict, Fault, notFound } from '../faults.ts';
import { GiB, id, type SimDisk, type SimVM } from '../model.ts';
import { bool, list, num, obj, type Tree } from '../representation.ts';

export function growDisk(e: EngineCore, vm: SimVM, attachmentId: string, size: number, correlation?: string): void {
  const a = vm.attachments.find((x) => x.id === attachmentId);
  const d = a && e.state.disks.find((x) => x.id === a.disk);
  if (!a || !d) throw notFound();
  e.growFloating(d, size, correlation);
}

/** A disk of its own (`POST /disks`), or one made by a disk attachment. */
export function newDisk(e: EngineCore, disk: Tree, fallbackName: string): SimDisk {
  const size = num(disk.provisioned_size);
  if (!size) throw badRequest('[Disk [provisionedSize] required for add]');
  const sdRef = obj(list(obj(disk.storage_domains).storage_domain)[0]);
  const sd = e.state.storagedomains.find((x) => x.id === sdRef.id || x.name === sdRef.name) ?? (sdRef.id || sdRef.name ? undefined : e.state.storagedomains[0]);
  if (!sd) throw badRequest(`[Cannot add Virtual Disk. Storage Domain doesn't exist.]`);
  const d: SimDisk = {
    id: id(),
    name: String(disk.alias ?? disk.name ?? fallbackName),
    provisioned_size: size,
    actual_size: GiB,
    status: 'locked',
    format: disk.format === 'raw' ? 'raw' : 'cow',
    storage_domain: sd.id,
    sparse: disk.format !== 'raw',
    ...(disk.description ? { description: String(disk.description) } : {}),
  };
  e.state.disks.push(d);
  e.later(e.t.diskResizeMs, () => {
    d.status = 'ok';
  });
  return d;
}

/** The VM a disk is attached to, if any (disks here are not shareable). */
export function holderOf(e: EngineCore, diskId: string): SimVM | undefined {
  return e.state.vms.find((v) => v.attachments.some((a) => a.disk === diskId));
}

/** Edits a disk's alias and description (`PUT /disks/{id}`); refused while it is locked. */
export function updateDisk(d: SimDisk, change: { alias?: string; description?: string }): void {
  if (d.status === 'locked' && (change.alias !== undefined || change.description !== undefined)) throw conflict('[Cannot edit Virtual Disk. Disk is locked. Please try again later.]');
  if (change.alias !== undefined) d.name = change.alias;
  if (change.description !== undefined) d.description = change.description;
}

/** Grows a disk, attached or not (`PUT /disks/{id}` or through its attachment). */
export function growFloating(e: EngineCore, d: SimDisk, size: number, correlation?: string): void {
  if (d.status === 'locked') throw conflict('[Cannot edit Virtual Disk. Disk is locked. Please try again later.]');
  if (size < d.provisioned_size) throw new Fault(400, 'Operation Failed', '[Cannot edit Virtual Disk. New disk size cannot be smaller than the current.]');
  if (size === d.provisioned_size) return;
  d.status = 'locked';
  e.job(`Extending disk ${d.name}`, correlation, e.t.diskResizeMs, () => {
    d.provisioned_size = size;
    d.status = 'ok';
    e.event(371, `Size of the disk '${d.name}' was successfully updated to ${size / GiB} GB by admin@internal-authz.`, e.holderOf(d.id)?.id);
  });
}

export function removeDisk(e: EngineCore, d: SimDisk): void {
  const vm = e.holderOf(d.id);
  if (d.status === 'locked') throw conflict('[Cannot remove Virtual Disk. Disk is locked. Please try again later.]');
  if (vm && vm.status !== 'down') throw conflict(`[Cannot remove Virtual Disk. At least one of the VMs is not down.]`);
  if (vm) vm.attachments = vm.attachments.filter((a) => a.disk !== d.id);
  e.state.disks = e.state.disks.filter((x) => x !== d);
  e.event(2014, `Disk ${d.name} was successfully removed from domain by admin@internal-authz.`, vm?.id);
}

/** `POST /vms/{id}/diskattachments`: a new disk, or an existing floating one by id (hot-plugged when the VM is up). */
export function addDisk(e: EngineCore, vm: SimVM, body: Tree): SimVM['attachments'][number] {
  const disk = obj(body.disk);
  let d: SimDisk | undefined;
  if (disk.id) {
    e.locked(vm, 'attach Virtual Disk');
    d = e.state.disks.find((x) => x.id === disk.id);
    if (!d) throw notFound();
    const holder = e.holderOf(d.id);
    if (holder) throw conflict(`[Cannot attach Virtual Disk. The disk is not shareable and it is already attached to VM ${holder.name}.]`);
    if (d.status === 'locked') throw conflict('[Cannot attach Virtual Disk. Disk is locked. Please try again later.]');
  } else {
    if (!num(disk.provisioned_size)) throw badRequest('[DiskAttachment [disk.provisionedSize] required for add]');
    d = e.newDisk(disk, `${vm.name}_Disk${vm.attachments.length + 1}`);
  }
  const a = { id: d.id, disk: d.id, interface: String(body.interface ?? 'virtio'), bootable: bool(body.bootable) ?? false, active: bool(body.active) ?? true };
  vm.attachments.push(a);
  if (disk.id) e.event(97, `The disk ${d.name} was successfully attached to VM ${vm.name} by admin@internal-authz.`, vm.id);
  return a;
}
