// Removing a VirtualDisk: detached from the (owned) VM that holds it and freed in its storage;
// and, before a VM is destroyed, every disk in it that is not its own is let go first.
import { RefusedError } from '../../../controller/core/errors.ts';
import type { ActionContext, DesiredStandaloneDisk } from '../../../controller/core/provider.ts';
import type { ProxmoxClient } from '../client.ts';
import { readGuestConfig } from '../guest-config.ts';
import type { ResourceRow } from '../mapping.ts';
import type { FreeVolumes } from './free.ts';
import { linesOf, locate, owned, parseDiskLine, SLOT, slotOf, UNUSED, volumeOwner, withDiskLine } from './volumes.ts';

export async function deleteDisk(w: { api: ProxmoxClient; defaultStorage: string; free: FreeVolumes }, d: DesiredStandaloneDisk, ctx: ActionContext = {}): Promise<void> {
  const { api } = w;
  const wait = async (upid: string | null) => {
    if (upid) await api.waitForTask(upid, ctx.onProgress ? { onProgress: ctx.onProgress } : {});
  };
  // Deleting looks everywhere: a disk is never left behind for want of a look.
  const claims: { by?: ResourceRow } = {};
  const at = await locate(d, await api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' }), { api, fullScans: new Map(), everywhere: true, claims });
  w.free.forget();
  if (!at) {
    if (claims.by) throw new RefusedError(`disk ${d.name} is attached to VM ${claims.by.name ?? claims.by.vmid}, whose line names another VirtualDisk of this name (another UID); it is not deleted`);
    const { free } = await w.free.find(d, w.defaultStorage);
    // A detached volume is this resource's only when its record names it: a name is not a marker.
    if (free && free.volid === d.knownID) await wait(await api.delete<string | null>(`/nodes/${free.node}/storage/${free.volid.split(':')[0]}/content/${encodeURIComponent(free.volid)}`));
    w.free.forget();
    return;
  }
  if (!owned(at)) throw new RefusedError(`disk ${d.name} is on VM ${at.row.name ?? at.row.vmid}, which virtkeeper does not own; it is not deleted`);
  let key = at.key;
  const path = `/nodes/${at.row.node}/qemu/${at.row.vmid}/config`;
  if (volumeOwner(at.volid) !== at.row.vmid) {
    // Detached first (it just leaves the config), then freed in its storage.
    await wait(await api.post<string>(path, { delete: key, description: withDiskLine(at.config.description, d, undefined) }));
    await wait(await api.delete<string | null>(`/nodes/${at.row.node}/storage/${at.volid.split(':')[0]}/content/${encodeURIComponent(at.volid)}`));
    return;
  }
  if (SLOT.test(key)) {
    await wait(await api.post<string>(path, { delete: key }));
    key = slotOf(await readGuestConfig(api, at.row.node, at.row.vmid), at.volid) ?? key;
  }
  // Deleting the unused entry frees the volume (the VM owns it).
  if (UNUSED.test(key)) await wait(await api.post<string>(path, { delete: key, description: withDiskLine(at.config.description, d, undefined) }));
}

/**
 * Before a VM is destroyed: every disk in its config that is not its own (another VM id's
 * volume, a VirtualDisk's) is detached, so that nothing but its own disks goes with it. A
 * VirtualDisk volume earlier versions made under this VM's id would be destroyed with the VM
 * (Proxmox frees every volume a VM owns): the removal stops with what to do instead.
 */
export async function releaseVirtualDisks(api: ProxmoxClient, vm: { node: string; vmid: number; name: string }, config: Record<string, string>, ctx: ActionContext = {}): Promise<void> {
  const marked = new Map(linesOf(config).map((l) => [l.volid, l.owner]));
  const detach: string[] = [];
  const trapped: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!(SLOT.test(key) || UNUSED.test(key)) || /media=cdrom|cloudinit/.test(value)) continue;
    const volid = value.split(',')[0] ?? '';
    const ownedByVM = volumeOwner(volid) === vm.vmid;
    if (!ownedByVM) {
      if (SLOT.test(key) && volid.includes(':')) detach.push(key);
    } else if (marked.has(volid) || /(?:^|[:/])vm-\d+-vkdisk-/.test(volid)) {
      const owner = marked.get(volid)?.owner;
      trapped.push(`${volid}${owner ? ` (${owner.kind} ${owner.namespace}/${owner.name})` : ''}`);
    }
  }
  if (trapped.length > 0) {
    throw new RefusedError(
      `VM ${vm.name} holds ${trapped.join(', ')}, made by an earlier virtkeeper under this VM's id: Proxmox would destroy it with the VM. The VM is not removed: attach the VirtualDisk to another VM (spec.attachTo) or delete it, and the VM goes on the next pass`,
    );
  }
  if (detach.length === 0) return;
  ctx.onProgress?.({ message: `detaching ${detach.join(', ')} from ${vm.name} before removing it: they outlive it` });
  const description = (config.description ?? '')
    .split('\n')
    .filter((l) => !detach.some((k) => parseDiskLine(l)?.volid === (config[k] ?? '').split(',')[0]))
    .join('\n');
  const upid = await api.post<string>(`/nodes/${vm.node}/qemu/${vm.vmid}/config`, { delete: detach.join(','), description });
  await api.waitForTask(upid, ctx.onProgress ? { onProgress: ctx.onProgress } : {});
}
