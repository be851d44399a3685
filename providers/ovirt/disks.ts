// VirtualDisks on an oVirt engine: a floating disk (`POST /disks`) named and marked as
// disk-find.ts says, attached with a disk attachment (hot-plugged when the VM is up) and
// detached without being removed (`detach_only=true`). A VM's removal detaches it first
// (vms/actions.ts): the disk outlives the VM. `observe` reports the decisions `ensure` acts on.
import { RefusedError } from '../../controller/core/errors.ts';
import type { ActionContext, DesiredStandaloneDisk, DiskClient, DiskState, KindObservation } from '../../controller/core/provider.ts';
import { formatDiskOwner } from '../disk-marker.ts';
import { formatBytes } from '../kit/index.ts';
import { num, type Json } from './client.ts';
import { findDisk, placement, type Holder } from './disk-find.ts';
import { TO_IFACE } from './mapping.ts';
import type { OvirtSession } from './session.ts';
import { waitFor } from './wait.ts';

const size = formatBytes;

async function detach(s: OvirtSession, h: Holder): Promise<void> {
  const path = `/vms/${String(h.vm.id)}/diskattachments/${String(h.attachment.id)}`;
  // A running VM's disk is unplugged (deactivated) before its attachment goes.
  if (String(h.vm.status) !== 'down' && String(h.attachment.active) !== 'false') await s.api.call('PUT', path, { body: { active: false } });
  await s.api.call('DELETE', path, { query: { detach_only: 'true' } });
}

function unlocked(s: OvirtSession, what: string, id: string, ctx: ActionContext, done: (x: Json) => boolean = (x) => x.status !== 'locked'): Promise<Json> {
  return waitFor(what, () => s.api.get(`/disks/${id}`), done, { ...(s.o.pollMs ? { pollMs: s.o.pollMs } : {}) }, ctx);
}

async function observe(s: OvirtSession, d: DesiredStandaloneDisk): Promise<KindObservation<DiskState>> {
  const found = await findDisk(s.api, d);
  if (found.taken) {
    const state = { providerID: String(found.taken.id), sizeBytes: num(found.taken.provisioned_size) };
    return { exists: false, upToDate: false, state, intents: [], problem: `a disk named ${d.name} exists on the engine and is not owned by ${d.key}; it is left as it is` };
  }
  const disk = found.disk;
  const intents: string[] = [];
  if (!disk) intents.push(`create disk ${d.name} ${size(d.sizeBytes)}${(d.storage ?? s.o.defaults?.storageDomain) ? ` on ${d.storage ?? s.o.defaults?.storageDomain}` : ''}`);
  else {
    if (found.upgrade) intents.push(`rename disk ${String(disk.alias)} to ${d.name} and write its marker`);
    if (num(disk.provisioned_size) < d.sizeBytes) intents.push(`grow disk ${d.name} ${size(num(disk.provisioned_size))} → ${size(d.sizeBytes)}`);
  }
  const p = placement(await s.recentVms(), disk ? String(disk.id) : undefined, d);
  if (p.detach && p.holder) intents.push(`detach disk ${d.name} from VM ${String(p.holder.vm.name)}`);
  if (p.attach) intents.push(`attach disk ${d.name} to VM ${d.attachTo}`);
  const state: DiskState | undefined = disk ? { providerID: String(disk.id), sizeBytes: num(disk.provisioned_size), ...(p.holder ? { attachedTo: String(p.holder.vm.name) } : {}) } : undefined;
  return { exists: !!disk, upToDate: intents.length === 0 && !p.problem, ...(state ? { state } : {}), intents, ...(p.problem ? { problem: p.problem } : {}) };
}

async function ensure(s: OvirtSession, d: DesiredStandaloneDisk, ctx: ActionContext = {}): Promise<DiskState> {
  const found = await findDisk(s.api, d);
  if (found.taken) {
    return {
      providerID: String(found.taken.id),
      sizeBytes: num(found.taken.provisioned_size),
      message: `a disk named ${d.name} exists on the engine and is not owned by ${d.key}; it is left as it is`,
    };
  }
  let disk = found.disk;
  if (!disk) {
    const sd = d.storage ?? s.o.defaults?.storageDomain;
    ctx.onProgress?.({ message: `creating disk ${d.name}` });
    disk = (
      await s.api.call<Json>('POST', '/disks', {
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
  // What the search answered is read again only while the disk is locked (being made or grown).
  if (disk.status !== 'ok') disk = await unlocked(s, `disk ${d.name}`, id, ctx);
  if (found.upgrade) {
    // A disk main made (old name, a marker without the UID) takes this resource's name and marker.
    ctx.onProgress?.({ message: `upgrading the name and marker of disk ${String(disk.alias)} to ${d.name}` });
    await s.api.call('PUT', `/disks/${id}`, { body: { alias: d.name, description: formatDiskOwner(d) } });
    disk = await unlocked(s, `disk ${d.name}`, id, ctx);
  }
  if (num(disk.provisioned_size) < d.sizeBytes) {
    ctx.onProgress?.({ message: `growing disk ${d.name}` });
    await s.api.call('PUT', `/disks/${id}`, { body: { provisioned_size: d.sizeBytes } });
    disk = await unlocked(s, `grow disk ${d.name}`, id, ctx, (x) => x.status !== 'locked' && num(x.provisioned_size) >= d.sizeBytes);
  }
  const sizeBytes = num(disk.provisioned_size);
  const state = (attachedTo?: string, message?: string): DiskState => ({ providerID: id, sizeBytes, ...(attachedTo ? { attachedTo } : {}), ...(message ? { message } : {}) });
  const p = placement(await s.recentVms(), id, d);
  if (p.problem) return state(p.attachedTo, p.problem);
  if (!p.detach && !p.attach) return state(p.attachedTo);
  if (p.detach && p.holder) {
    ctx.onProgress?.({ message: `detaching disk ${d.name} from ${String(p.holder.vm.name)}` });
    await detach(s, p.holder);
  }
  if (!p.target) return state();
  ctx.onProgress?.({ message: `attaching disk ${d.name} to ${d.attachTo}` });
  await s.api.call('POST', `/vms/${String(p.target.id)}/diskattachments`, { body: { disk: { id }, interface: TO_IFACE[d.interface] ?? 'virtio', active: true, bootable: false } });
  return state(d.attachTo);
}

async function remove(s: OvirtSession, d: DesiredStandaloneDisk, ctx: ActionContext = {}): Promise<void> {
  const { disk } = await findDisk(s.api, d);
  if (!disk) return;
  const { attachTo: _kept, ...detached } = d;
  const p = placement(await s.recentVms(), String(disk.id), detached);
  if (p.problem) throw new RefusedError(`disk ${d.name} is attached to VM ${String(p.holder?.vm.name)}, which virtkeeper does not own; it is not deleted`);
  if (p.holder) await detach(s, p.holder);
  if (disk.status !== 'ok') await unlocked(s, `disk ${d.name}`, String(disk.id), ctx);
  await s.api.call('DELETE', `/disks/${String(disk.id)}`);
}

/** What a disk step changes, the last observation no longer shows: it is not read again. */
export function ovirtDisks(s: OvirtSession): DiskClient {
  const forget = <T>(step: () => Promise<T>) => {
    s.wrote();
    return step().finally(() => s.wrote());
  };
  return {
    observe: (d) => observe(s, d),
    ensure: (d, ctx) => forget(() => ensure(s, d, ctx)),
    delete: (d, ctx) => forget(() => remove(s, d, ctx)),
  };
}
