// VirtualDisks on Proxmox. A volume there always belongs to a VM id, so a standalone disk is
// allocated (`POST /nodes/{node}/storage/{storage}/content`, named `vm-<id>-vkdisk-…`) for the
// VM it is first attached to and put in a free slot (hot-plugged when the VM runs). It moves
// by being unplugged (it becomes `unusedN`) and reassigned with `move_disk target-vmid`, which
// renames it to the target's next `vm-<id>-disk-<n>`: from then on the volume id kept in the
// resource's status is what identifies it. It is never detached from, or deleted out of, a VM
// virtkeeper does not own.
import { RefusedError } from '../../controller/core/errors.ts';
import { parseOwner, type ActionContext, type DesiredStandaloneDisk, type DiskState } from '../provider.ts';
import type { ProxmoxClient } from './client.ts';
import { readGuestConfig } from './guest-config.ts';
import { BUS, GiB, MiB, type ResourceRow } from './mapping.ts';

const SLOT = /^(scsi|virtio|sata|ide)\d+$/;
const UNUSED = /^unused\d+$/;

export interface DiskWork {
  api: ProxmoxClient;
  defaultStorage: string;
  /** When each disk last needed a read of every VM's config and was not found: not repeated for 10 minutes. */
  fullScans?: Map<string, number>;
  /** The guests as the provider's last list call saw them, when that is recent: no list call per disk. */
  guests?: () => Promise<ResourceRow[]>;
}

const FULL_SCAN_EVERY_MS = 10 * 60_000;

interface Place {
  row: ResourceRow;
  config: Record<string, string>;
}

interface Location extends Place {
  key: string;
  volid: string;
}

const sizeText = (bytes: number) => (bytes % GiB === 0 ? `${bytes / GiB}G` : `${Math.ceil(bytes / MiB)}M`);
const sizeOf = (entry: string) => {
  const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)/.exec(entry);
  return m ? Math.round(Number(m[1]) * { '': 1, K: 2 ** 10, M: MiB, G: GiB, T: 2 ** 40 }[m[2] as '' | 'K' | 'M' | 'G' | 'T']) : 0;
};
const owned = (p: Place) => parseOwner(p.config.description) !== undefined;

function slotOf(config: Record<string, string>, volid: string): string | undefined {
  return Object.entries(config).find(([k, v]) => (SLOT.test(k) || UNUSED.test(k)) && (v.split(',')[0] ?? '') === volid)?.[0];
}

/** The line a VM's description carries for each VirtualDisk attached to it: it survives renames and a lost state. */
export const DISK_LINE = 'virtkeeper.io/disk=';
const diskLine = (volid: string, d: DesiredStandaloneDisk) => `${DISK_LINE}${volid} ${d.owner.kind}/${d.owner.namespace ?? 'default'}/${d.owner.name}`;
const ownerSuffix = (d: DesiredStandaloneDisk) => ` ${d.owner.kind}/${d.owner.namespace ?? 'default'}/${d.owner.name}`;

/** The description with this disk's line set to `volid` (or removed when undefined). */
function withDiskLine(description: string | undefined, d: DesiredStandaloneDisk, volid: string | undefined): string {
  const lines = (description ?? '').split('\n').filter((l) => !(l.startsWith(DISK_LINE) && l.endsWith(ownerSuffix(d))));
  return [...lines, ...(volid ? [diskLine(volid, d)] : [])].join('\n').trim();
}

const matches = (d: DesiredStandaloneDisk, volid: string, config: Record<string, string>) =>
  volid === d.knownID || (volid.split(':')[1] ?? '').endsWith(`-${d.name}`) || (config.description ?? '').split('\n').includes(diskLine(volid, d));

/** Where the disk is: first on the VMs it was last seen on or should be on, else on any VM. */
async function locate(w: DiskWork, d: DesiredStandaloneDisk, rows: ResourceRow[], known?: Place): Promise<Location | undefined> {
  const { api } = w;
  const guests = rows.filter((r) => r.template !== 1);
  const likely = new Set([d.knownHolder, d.attachTo].filter(Boolean));
  // Where it was or should be first; every other VM only now and then (a disk moved by hand,
  // or state lost): a disk waiting for its VM must not read a thousand configs every pass.
  const last = w.fullScans?.get(d.key);
  const scanAll = last === undefined || Date.now() - last > FULL_SCAN_EVERY_MS;
  const order = [...guests.filter((r) => likely.has(r.name)), ...(scanAll ? guests.filter((r) => !likely.has(r.name)) : [])];
  if (scanAll) w.fullScans?.set(d.key, Date.now());
  for (const row of order) {
    // The target's config, read already, serves again.
    const config = known && known.row.vmid === row.vmid ? known.config : await readGuestConfig(api, row.node, row.vmid);
    for (const [key, value] of Object.entries(config)) {
      const volid = value.split(',')[0] ?? '';
      if ((SLOT.test(key) || UNUSED.test(key)) && matches(d, volid, config)) return { row, config, key, volid };
    }
  }
  return undefined;
}

async function sizeOfVolume(api: ProxmoxClient, at: Location): Promise<number> {
  if (SLOT.test(at.key)) return sizeOf(at.config[at.key] ?? '');
  const storage = at.volid.split(':')[0] ?? '';
  const list = await api.get<{ volid: string; size: number }[]>(`/nodes/${at.row.node}/storage/${storage}/content`, { vmid: String(at.row.vmid) });
  return list.find((v) => v.volid === at.volid)?.size ?? 0;
}

function freeSlot(config: Record<string, string>, d: DesiredStandaloneDisk): string {
  const bus = BUS[d.interface] ?? 'scsi';
  for (let i = 1; i < 31; i++) if (!(`${bus}${i}` in config)) return `${bus}${i}`;
  throw new RefusedError(`no free ${bus} slot`);
}

export async function ensureProxmoxDisk(w: DiskWork, d: DesiredStandaloneDisk, ctx: ActionContext = {}): Promise<DiskState> {
  const { api } = w;
  const wait = async (upid: string | null) => {
    if (upid) await api.waitForTask(upid, ctx.onProgress ? { onProgress: ctx.onProgress } : {});
  };
  const rows = w.guests ? await w.guests() : await api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' });
  const targetRow = d.attachTo ? rows.find((r) => r.template !== 1 && r.name === d.attachTo) : undefined;
  const target: Place | undefined = targetRow ? { row: targetRow, config: await readGuestConfig(api, targetRow.node, targetRow.vmid) } : undefined;
  const at = await locate(w, d, rows, target);
  const state = (providerID: string, sizeBytes: number, attachedTo?: string, message?: string): DiskState => ({ providerID, sizeBytes, ...(attachedTo ? { attachedTo } : {}), ...(message ? { message } : {}) });

  if (!at) {
    if (!d.attachTo) return state('', 0, undefined, 'on Proxmox a volume belongs to a VM: a VirtualDisk is created attached to one (set attachTo)');
    if (!target) return state('', 0, undefined, `VM ${d.attachTo} does not exist yet`);
    if (!owned(target)) return state('', 0, undefined, `VM ${d.attachTo} is not managed by virtkeeper; a disk is never attached to it`);
    if (target.row.lock) return state('', 0, undefined, `VM ${d.attachTo} is busy (lock ${target.row.lock}); the disk is made when it is free`);
    const storage = d.storage ?? w.defaultStorage;
    // A volume allocated by an attempt whose attach failed is taken up, not allocated twice.
    const filename = `vm-${target.row.vmid}-${d.name}`;
    const content = await api.get<{ volid: string }[]>(`/nodes/${target.row.node}/storage/${storage}/content`, { vmid: String(target.row.vmid) });
    let volid = content.find((v) => v.volid === `${storage}:${filename}` || v.volid.endsWith(`/${filename}`))?.volid;
    if (!volid) {
      ctx.onProgress?.({ message: `allocating ${d.name} on ${storage}` });
      volid = await api.post<string>(`/nodes/${target.row.node}/storage/${storage}/content`, {
        vmid: String(target.row.vmid), filename, size: sizeText(d.sizeBytes), ...(d.format ? { format: d.format } : {}),
      });
    }
    await wait(await api.post<string>(`/nodes/${target.row.node}/qemu/${target.row.vmid}/config`, { [freeSlot(target.config, d)]: volid, description: withDiskLine(target.config.description, d, volid) }));
    return state(volid, d.sizeBytes, d.attachTo);
  }

  const holder = at.row.name ?? String(at.row.vmid);
  const attached = SLOT.test(at.key);
  let size = await sizeOfVolume(api, at);
  const grow = async (p: Place, key: string) => {
    if (size >= d.sizeBytes) return;
    ctx.onProgress?.({ message: `growing ${key} of ${p.row.name} to ${sizeText(d.sizeBytes)}` });
    await wait(await api.put<string | null>(`/nodes/${p.row.node}/qemu/${p.row.vmid}/resize`, { disk: key, size: sizeText(d.sizeBytes) }));
    size = d.sizeBytes;
  };
  if (attached && holder === d.attachTo) {
    await grow(at, at.key);
    if (owned(at) && !(at.config.description ?? '').split('\n').includes(diskLine(at.volid, d))) {
      await wait(await api.post<string>(`/nodes/${at.row.node}/qemu/${at.row.vmid}/config`, { description: withDiskLine(at.config.description, d, at.volid) }));
    }
    return state(at.volid, size, holder);
  }
  if (!owned(at)) return state(at.volid, size, attached ? holder : undefined, `disk ${d.name} is on VM ${holder}, which virtkeeper does not own; it is never detached from it`);
  if (d.attachTo) {
    if (!target) return state(at.volid, size, attached ? holder : undefined, `VM ${d.attachTo} does not exist yet`);
    if (!owned(target)) return state(at.volid, size, attached ? holder : undefined, `VM ${d.attachTo} is not managed by virtkeeper; a disk is never attached to it`);
    if (target.row.node !== at.row.node) return state(at.volid, size, attached ? holder : undefined, `VM ${d.attachTo} is on ${target.row.node} and the disk on ${at.row.node}; Proxmox reassigns disks between VMs of one node`);
  }
  let unusedKey = at.key;
  if (attached) {
    ctx.onProgress?.({ message: `unplugging ${at.key} from ${holder}` });
    // The unused volume stays marked on the VM that holds it: its own disk list never takes it.
    await wait(await api.post<string>(`/nodes/${at.row.node}/qemu/${at.row.vmid}/config`, { delete: at.key, description: withDiskLine(at.config.description, d, at.volid) }));
    unusedKey = slotOf(await readGuestConfig(api, at.row.node, at.row.vmid), at.volid) ?? at.key;
  }
  if (!target) return state(at.volid, size);
  const slot = freeSlot(target.config, d);
  if (target.row.vmid === at.row.vmid) {
    await wait(await api.post<string>(`/nodes/${at.row.node}/qemu/${at.row.vmid}/config`, { [slot]: at.volid }));
    await grow(target, slot);
    return state(at.volid, size, d.attachTo);
  }
  ctx.onProgress?.({ message: `reassigning ${d.name} from ${holder} to ${d.attachTo} as ${slot}` });
  await wait(await api.post<string>(`/nodes/${at.row.node}/qemu/${at.row.vmid}/move_disk`, { disk: unusedKey, 'target-vmid': String(target.row.vmid), 'target-disk': slot }));
  const now = await readGuestConfig(api, target.row.node, target.row.vmid);
  const volid = (now[slot] ?? '').split(',')[0] ?? at.volid;
  await wait(await api.post<string>(`/nodes/${target.row.node}/qemu/${target.row.vmid}/config`, { description: withDiskLine(now.description, d, volid) }));
  const before = await readGuestConfig(api, at.row.node, at.row.vmid);
  await wait(await api.post<string>(`/nodes/${at.row.node}/qemu/${at.row.vmid}/config`, { description: withDiskLine(before.description, d, undefined) }));
  await grow({ row: target.row, config: now }, slot);
  return state(volid, size, d.attachTo);
}

export async function deleteProxmoxDisk(w: DiskWork, d: DesiredStandaloneDisk): Promise<void> {
  const { api } = w;
  const wait = async (upid: string | null) => {
    if (upid) await api.waitForTask(upid);
  };
  // Deleting looks everywhere: a disk is never left behind for want of a look.
  const at = await locate({ ...w, fullScans: new Map() }, d, await api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' }));
  if (!at) return;
  if (!owned(at)) throw new RefusedError(`disk ${d.name} is on VM ${at.row.name ?? at.row.vmid}, which virtkeeper does not own; it is not deleted`);
  let key = at.key;
  const path = `/nodes/${at.row.node}/qemu/${at.row.vmid}/config`;
  if (SLOT.test(key)) {
    await wait(await api.post<string>(path, { delete: key }));
    key = slotOf(await readGuestConfig(api, at.row.node, at.row.vmid), at.volid) ?? key;
  }
  // Deleting the unused entry frees the volume.
  if (UNUSED.test(key)) await wait(await api.post<string>(path, { delete: key, description: withDiskLine(at.config.description, d, undefined) }));
}
