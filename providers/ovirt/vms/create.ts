// Creating a VM: from its template (image_locked while the engine copies the disks), then its
// disks and NICs made as desired; an existing VM of the name is finished only when it is ours
// (its marker) or the one the reconciler's pending-create record points at.
import { ProviderLockedError, RefusedError } from '../../../controller/core/errors.ts';
import type { Target } from '../../../controller/core/actions.ts';
import type { DesiredVM } from '../../../controller/core/model.ts';
import { parseOwner, sameOwner, withMarker, type ActionContext } from '../../../controller/core/provider.ts';
import { arr, bool, nameSearch, num, obj, type Json } from '../client.ts';
import { createBody, TO_IFACE } from '../mapping.ts';
import type { OvirtSession } from '../session.ts';
import { addNic, profileFor } from './nics.ts';
import { ImageLockedError } from '../wait.ts';
import { disksReady, waitVm } from './wait.ts';

export async function addDisk(s: OvirtSession, vmId: string, vmName: string, disk: DesiredVM['disks'][number], index: number): Promise<void> {
  const sd = disk.storage ?? s.o.defaults?.storageDomain;
  await s.api.call('POST', `/vms/${vmId}/diskattachments`, {
    body: {
      bootable: index === 0 && disk.bootable,
      active: true,
      interface: TO_IFACE[disk.interface] ?? 'virtio',
      disk: {
        alias: `${vmName}_${disk.name}`,
        provisioned_size: disk.sizeBytes,
        format: disk.format === 'raw' ? 'raw' : 'cow',
        ...(sd ? { storage_domains: { storage_domain: [{ name: sd }] } } : {}),
      },
    },
  });
}

export async function createVm(s: OvirtSession, vm: DesiredVM, ctx: ActionContext, resume?: Target): Promise<void> {
  const api = s.api;
  const found = arr((await api.get('/vms', { search: nameSearch(vm.name), follow: 'disk_attachments.disk,nics' })).vm).find((v) => v.name === vm.name);
  let current: Json;
  if (found) {
    const have = parseOwner(String(found.comment ?? ''));
    // Unmarked, it is finished only as the VM the reconciler's pending-create record points at.
    const unfinished = !have && resume?.providerID === String(found.id);
    if (!sameOwner(have, vm.owner) && !unfinished) throw new RefusedError(`a VM named ${vm.name} already exists on the engine and is not owned by ${vm.key}`);
    if (unfinished) await api.call('PUT', `/vms/${String(found.id)}`, { body: { comment: withMarker(String(found.comment ?? ''), vm.owner, ' ') } });
    current = found;
  } else {
    const cluster = vm.placement.cluster ?? s.o.defaults?.cluster ?? 'Default';
    ctx.onProgress?.({ percent: 0, message: `creating ${vm.name} from ${vm.template ?? 'Blank'} in cluster ${cluster}` });
    const r = await api.call<Json>('POST', '/vms', { body: createBody(vm, cluster), query: { ...(vm.clone === 'full' ? { clone: 'true' } : {}), correlation_id: `vk-${vm.name}` } });
    current = r.data;
  }
  const id = String(current.id);
  const created = num(current.creation_time) || Date.now();
  try {
    current = await waitVm(s, id, 'copy its disks', (v) => v.status !== 'image_locked' && disksReady(v), ctx, s.o.imageLockTimeoutMs ?? 5000);
  } catch (e) {
    if (e instanceof ProviderLockedError) throw new ImageLockedError(`VM ${vm.name} is still image_locked: the engine has been copying its disks since ${new Date(created).toISOString()}`);
    throw e;
  }
  const attachments = arr(obj(current.disk_attachments).disk_attachment).sort((a, b) => Number(bool(b.bootable)) - Number(bool(a.bootable)));
  for (const [i, d] of vm.disks.entries()) {
    const a = attachments[i];
    if (!a) await addDisk(s, id, vm.name, d, i);
    else if (num(obj(a.disk).provisioned_size) < d.sizeBytes) await api.call('PUT', `/vms/${id}/diskattachments/${String(a.id)}`, { body: { disk: { provisioned_size: d.sizeBytes } } });
  }
  const nics = arr(obj(current.nics).nic);
  for (const [i, n] of vm.nics.entries()) {
    const profile = await profileFor(s, n);
    const have = nics[i];
    if (!have) await addNic(s, id, n, profile);
    else if (String(obj(have.vnic_profile).id ?? '') !== profile) await api.call('PUT', `/vms/${id}/nics/${String(have.id)}`, { body: { ...(profile ? { vnic_profile: { id: profile } } : {}) } });
  }
  if (vm.nics.length > 0) for (const extra of nics.slice(vm.nics.length)) await api.call('DELETE', `/vms/${id}/nics/${String(extra.id)}`);
  await waitVm(s, id, 'prepare its disks', disksReady, ctx);
  ctx.onProgress?.({ percent: 100, message: `VM ${vm.name} is ${id}` });
}
