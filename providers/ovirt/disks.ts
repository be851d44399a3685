// VirtualDisks and templates made from VMs on an oVirt engine. A standalone disk is a floating
// disk (`POST /disks`) whose alias is the resource's disk name and whose description carries
// the ownership marker (kind, namespace, name, UID); it is attached with a disk attachment
// (hot-plugged when the VM is up) and detached without being removed (`detach_only=true`).
// A VM's removal detaches it first (providers/ovirt/provider.ts): the disk outlives the VM.
import { ProviderLockedError, ProviderNotFoundError, RefusedError } from '../../controller/core/errors.ts';
import { diskMarkerVerdict, formatDiskOwner, parseDiskOwner } from '../disk-marker.ts';
import { parseOwner, sameOwner, type ActionContext, type DesiredStandaloneDisk, type DiskState, type TemplateFacts } from '../../controller/core/provider.ts';
import type { Target } from '../../controller/core/actions.ts';
import { arr, bool, nameSearch, num, obj, type Json, type OvirtClient } from './client.ts';
import { TO_IFACE } from './mapping.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface OvirtDiskOptions {
  api: OvirtClient;
  storageDomain?: string;
  pollMs?: number;
  timeoutMs?: number;
  /** Every VM with its disk attachments: the provider's last list call when recent, else a new one. */
  vms?: () => Promise<Json[]>;
}

async function waitFor(what: string, read: () => Promise<Json>, done: (x: Json) => boolean, o: OvirtDiskOptions, ctx: ActionContext = {}): Promise<Json> {
  const since = Date.now();
  for (;;) {
    ctx.signal?.throwIfAborted();
    const x = await read();
    if (done(x)) return x;
    if (Date.now() - since > (o.timeoutMs ?? 600_000)) throw new ProviderLockedError(`${what}: still ${String(x.status)} after ${Math.round((Date.now() - since) / 1000)}s`);
    ctx.onProgress?.({ message: `${what}: ${String(x.status)}` });
    await sleep(o.pollMs ?? 100);
  }
}

const owned = (vm: Json) => parseOwner(String(vm.comment ?? '')) !== undefined;

const byName = async (o: OvirtDiskOptions, name: string): Promise<Json[]> => arr((await o.api.get('/disks', { search: nameSearch(name) })).disk).filter((d) => d.alias === name || d.name === name);

/**
 * The disk whose marker names this resource: by the id last reported, by its name, or by the
 * name main gave it before (`vkdisk-<ns>-<name>`, which two resources could share: only its
 * marker tells whose it is). `taken` is a disk of this name that another resource's marker names.
 */
async function findDisk(o: OvirtDiskOptions, d: DesiredStandaloneDisk): Promise<{ disk?: Json; upgrade?: boolean; taken?: Json }> {
  const known = d.knownID
    ? await o.api.get(`/disks/${d.knownID}`).catch((e: unknown) => {
        if (e instanceof ProviderNotFoundError) return undefined;
        throw e;
      })
    : undefined;
  const candidates = [...(known ? [known] : []), ...(await byName(o, d.name)), ...(d.legacyName && d.legacyName !== d.name ? await byName(o, d.legacyName) : [])];
  for (const c of candidates) {
    const verdict = diskMarkerVerdict(parseDiskOwner(String(c.description ?? '')), d);
    if (verdict !== 'other') return { disk: c, upgrade: verdict === 'upgrade' || c.alias !== d.name || String(c.description ?? '') !== formatDiskOwner(d) };
  }
  const taken = candidates.find((c) => c.alias === d.name);
  return taken ? { taken } : {};
}

const listVms = async (o: OvirtDiskOptions): Promise<Json[]> => (o.vms ? o.vms() : arr((await o.api.get('/vms', { follow: 'disk_attachments' })).vm));

/** The VM holding a disk, from one list of every VM's attachments. */
async function holderOf(vms: Json[], diskId: string): Promise<{ vm: Json; attachment: Json } | undefined> {
  for (const vm of vms) {
    const attachment = arr(obj(vm.disk_attachments).disk_attachment).find((a) => String(obj(a.disk).id ?? a.id) === diskId);
    if (attachment) return { vm, attachment };
  }
  return undefined;
}

async function detach(o: OvirtDiskOptions, vm: Json, attachment: Json): Promise<void> {
  const path = `/vms/${String(vm.id)}/diskattachments/${String(attachment.id)}`;
  // A running VM's disk is unplugged (deactivated) before its attachment goes.
  if (String(vm.status) !== 'down' && String(attachment.active) !== 'false') await o.api.call('PUT', path, { body: { active: false } });
  await o.api.call('DELETE', path, { query: { detach_only: 'true' } });
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

export async function ensureOvirtDisk(o: OvirtDiskOptions, d: DesiredStandaloneDisk, ctx: ActionContext = {}): Promise<DiskState> {
  const found = await findDisk(o, d);
  if (found.taken) {
    return {
      providerID: String(found.taken.id),
      sizeBytes: num(found.taken.provisioned_size),
      message: `a disk named ${d.name} exists on the engine and is not owned by ${d.key}; it is left as it is`,
    };
  }
  let disk = found.disk;
  const reread = (id: string) => () => o.api.get(`/disks/${id}`);
  if (!disk) {
    const sd = d.storage ?? o.storageDomain;
    ctx.onProgress?.({ message: `creating disk ${d.name}` });
    disk = (
      await o.api.call<Json>('POST', '/disks', {
        body: {
          alias: d.name,
          description: formatDiskOwner(d),
          provisioned_size: d.sizeBytes,
          format: d.format === 'raw' ? 'raw' : 'cow',
          sparse: d.format !== 'raw',
          ...(sd ? { storage_domains: { storage_domain: [{ name: sd }] } } : {}),
        },
      })
    ).data;
  }
  const id = String(disk.id);
  disk = await waitFor(`disk ${d.name}`, reread(id), (x) => x.status !== 'locked', o, ctx);
  if (found.upgrade) {
    // A disk main made (old name, a marker without the UID) takes this resource's name and marker.
    ctx.onProgress?.({ message: `upgrading the name and marker of disk ${String(disk.alias)} to ${d.name}` });
    await o.api.call('PUT', `/disks/${id}`, { body: { alias: d.name, description: formatDiskOwner(d) } });
    disk = await waitFor(`disk ${d.name}`, reread(id), (x) => x.status !== 'locked', o, ctx);
  }
  if (num(disk.provisioned_size) < d.sizeBytes) {
    ctx.onProgress?.({ message: `growing disk ${d.name}` });
    await o.api.call('PUT', `/disks/${id}`, { body: { provisioned_size: d.sizeBytes } });
    disk = await waitFor(`grow disk ${d.name}`, reread(id), (x) => x.status !== 'locked' && num(x.provisioned_size) >= d.sizeBytes, o, ctx);
  }
  const state = (attachedTo?: string, message?: string): DiskState => ({
    providerID: id,
    sizeBytes: num(disk?.provisioned_size),
    ...(attachedTo ? { attachedTo } : {}),
    ...(message ? { message } : {}),
  });
  const vms = await listVms(o);
  const holder = await holderOf(vms, id);
  const holderName = holder ? String(holder.vm.name) : undefined;
  if (holderName === d.attachTo) return state(holderName);
  if (holder && !owned(holder.vm)) return state(holderName, `disk ${d.name} is attached to VM ${holderName}, which virtkeeper does not own; it is never detached from it`);
  let target: Json | undefined;
  if (d.attachTo) {
    target = vms.find((v) => v.name === d.attachTo);
    if (!target) return state(holderName, `VM ${d.attachTo} does not exist yet`);
    if (!owned(target)) return state(holderName, `VM ${d.attachTo} is not managed by virtkeeper; a disk is never attached to it`);
  }
  if (holder) {
    ctx.onProgress?.({ message: `detaching disk ${d.name} from ${holderName}` });
    await detach(o, holder.vm, holder.attachment);
  }
  if (!target) return state();
  ctx.onProgress?.({ message: `attaching disk ${d.name} to ${d.attachTo}` });
  await o.api.call('POST', `/vms/${String(target.id)}/diskattachments`, { body: { disk: { id }, interface: TO_IFACE[d.interface] ?? 'virtio', active: true, bootable: false } });
  return state(d.attachTo);
}

export async function deleteOvirtDisk(o: OvirtDiskOptions, d: DesiredStandaloneDisk): Promise<void> {
  const { disk } = await findDisk(o, d);
  if (!disk) return;
  const holder = await holderOf(await listVms(o), String(disk.id));
  if (holder && !owned(holder.vm)) throw new RefusedError(`disk ${d.name} is attached to VM ${String(holder.vm.name)}, which virtkeeper does not own; it is not deleted`);
  if (holder) await detach(o, holder.vm, holder.attachment);
  await waitFor(
    `disk ${d.name}`,
    () => o.api.get(`/disks/${String(disk.id)}`),
    (x) => x.status !== 'locked',
    o,
  );
  await o.api.call('DELETE', `/disks/${String(disk.id)}`);
}

/** `POST /templates` from an owned, stopped VM; waits while the engine copies its disks. */
export async function ovirtTemplateFromVM(o: OvirtDiskOptions, target: Target, name: string, ctx: ActionContext = {}): Promise<TemplateFacts> {
  const existing = arr((await o.api.get('/templates', { search: nameSearch(name) })).template).find((t) => t.name === name);
  let t = existing;
  if (!t) {
    const vm = await o.api.get(`/vms/${target.providerID}`);
    if (!target.owner || !sameOwner(parseOwner(String(vm.comment ?? '')), target.owner)) throw new RefusedError(`VM ${target.name} is not owned by this resource; it is never made a template`);
    if (String(vm.status) !== 'down') throw new RefusedError(`VM ${target.name} is ${String(vm.status)}; a template is made only from a stopped VM (set runStrategy: Halted)`);
    ctx.onProgress?.({ percent: 0, message: `making template ${name} from VM ${target.name}` });
    t = (
      await o.api.call<Json>('POST', '/templates', {
        body: { name, vm: { id: target.providerID }, description: `made by virtkeeper from VM ${target.name}` },
        query: { correlation_id: `vk-template-${name}` },
      })
    ).data;
  }
  const id = String(t.id);
  t = await waitFor(
    `template ${name}`,
    () => o.api.get(`/templates/${id}`),
    (x) => x.status !== 'locked',
    o,
    ctx,
  );
  ctx.onProgress?.({ percent: 100, message: `template ${name} is ${id}` });
  return { found: String(t.status) !== 'illegal', providerID: id };
}
