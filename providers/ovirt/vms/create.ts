// Creating a VM: from its template (image_locked while the engine copies the disks), then its
// disks and NICs made as desired; an existing VM of the name is finished only when it is ours
// (its marker) or the one the reconciler's pending-create record points at.
import { ProviderConflictError, ProviderLockedError, ProviderNotFoundError, RefusedError } from '../../../controller/core/errors.ts';
import type { Target } from '../../../controller/core/actions.ts';
import type { DesiredVM } from '../../../controller/core/model.ts';
import { parseOwner, sameOwner, withMarker, type ActionContext } from '../../../controller/core/provider.ts';
import { arr, bool, nameSearch, num, obj, type Json } from '../client.ts';
import { createBody, TO_IFACE } from '../mapping.ts';
import { correlationId } from '../jobs.ts';
import type { OvirtSession } from '../session.ts';
import { addNic, profileFor } from './nics.ts';
import { ImageLockedError } from '../wait.ts';
import { afterJob, disksReady, waitVm } from './wait.ts';

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

/** Makes (or finishes) the VM; resolves with it, so the plan's next steps act on it without an observation. */
export async function createVm(s: OvirtSession, vm: DesiredVM, ctx: ActionContext, resume?: Target): Promise<{ target: Target; vm: Json | undefined }> {
  const api = s.api;
  const lockMs = s.o.imageLockTimeoutMs ?? 5000;
  // The observation just made says whether a VM of the name exists; a retry, or a resume, looks.
  const search = async () => arr((await api.get('/vms', { search: nameSearch(vm.name), follow: 'disk_attachments.disk,nics' })).vm).find((v) => v.name === vm.name);
  const look = resume !== undefined || !s.firstCreate(vm.name);
  let found = look ? await search() : undefined;
  let current: Json | undefined;
  let id = '';
  let created = Date.now();
  const stillLocked = (e: unknown) =>
    e instanceof ProviderLockedError ? new ImageLockedError(`VM ${vm.name} is still image_locked: the engine has been copying its disks since ${new Date(created).toISOString()}`) : e;
  if (!found) {
    const cluster = vm.placement.cluster ?? s.o.defaults?.cluster ?? 'Default';
    ctx.onProgress?.({ percent: 0, message: `creating ${vm.name} from ${vm.template ?? 'Blank'} in cluster ${cluster}` });
    const correlation = correlationId(vm.name);
    try {
      const r = await api.call<Json>('POST', '/vms', { body: createBody(vm, cluster), query: { ...(vm.clone === 'full' ? { clone: 'true' } : {}), correlation_id: correlation } });
      id = String(r.data.id);
      created = num(r.data.creation_time) || created;
      current = await afterJob(s, correlation, id, 'copy its disks', copied, ctx, lockMs).catch((e: unknown) => {
        throw stillLocked(e);
      });
    } catch (e) {
      // The name is taken since the observation: whose VM it is decides, as if it had been seen.
      if (look || !(e instanceof ProviderConflictError)) throw e;
      found = await search();
      if (!found) throw e;
    }
  }
  if (found) {
    const have = parseOwner(String(found.comment ?? ''));
    // Unmarked, it is finished only as the VM the reconciler's pending-create record points at.
    const unfinished = !have && resume?.providerID === String(found.id);
    if (!sameOwner(have, vm.owner) && !unfinished) throw new RefusedError(`a VM named ${vm.name} already exists on the engine and is not owned by ${vm.key}`);
    if (unfinished) await api.call('PUT', `/vms/${String(found.id)}`, { body: { comment: withMarker(String(found.comment ?? ''), vm.owner, ' ') } });
    id = String(found.id);
    created = num(found.creation_time) || created;
    current = await waitVm(s, id, 'copy its disks', copied, ctx, lockMs).catch((e: unknown) => {
      throw stillLocked(e);
    });
  }
  if (!current) throw new ProviderNotFoundError(`VM ${vm.name} was neither found nor made`);
  const grown: string[] = [];
  let added = false;
  const attachments = arr(obj(current.disk_attachments).disk_attachment).sort((a, b) => Number(bool(b.bootable)) - Number(bool(a.bootable)));
  for (const [i, d] of vm.disks.entries()) {
    const a = attachments[i];
    if (!a) {
      await addDisk(s, id, vm.name, d, i);
      added = true;
    } else if (num(obj(a.disk).provisioned_size) < d.sizeBytes) {
      const correlation = correlationId(`grow-${vm.name}`);
      await api.call('PUT', `/vms/${id}/diskattachments/${String(a.id)}`, { body: { disk: { provisioned_size: d.sizeBytes } }, query: { correlation_id: correlation } });
      grown.push(correlation);
    }
  }
  const nics = arr(obj(current.nics).nic);
  for (const [i, n] of vm.nics.entries()) {
    const profile = await profileFor(s, n);
    const have = nics[i];
    if (!have) await addNic(s, id, n, profile);
    else if (String(obj(have.vnic_profile).id ?? '') !== profile) await api.call('PUT', `/vms/${id}/nics/${String(have.id)}`, { body: { ...(profile ? { vnic_profile: { id: profile } } : {}) } });
  }
  if (vm.nics.length > 0) for (const extra of nics.slice(vm.nics.length)) await api.call('DELETE', `/vms/${id}/nics/${String(extra.id)}`);
  // A grown disk is done when its job is; a disk added here (no job to wait on) is read for.
  const jobs = await Promise.all(grown.map((c) => s.jobs.wait(c, `grow the disks of ${vm.name}`, ctx)));
  const ready = added || jobs.some((o) => o !== 'finished') ? await waitVm(s, id, 'prepare its disks', disksReady, ctx) : undefined;
  ctx.onProgress?.({ percent: 100, message: `VM ${vm.name} is ${id}` });
  // A VM that is down runs on no host: the start's placement decides. As read here, it serves a
  // start that follows (its power and cloud-init settings, which nothing above changes).
  return { target: { providerID: id, name: vm.name, owner: vm.owner }, vm: ready ?? current };
}

const copied = (v: Json) => v.status !== 'image_locked' && disksReady(v);
