// VirtualDisks on Proxmox. Proxmox ties a volume to the VM id in its name (`vm-<id>-…`) and
// destroying that VM frees every volume it owns, attached or unused (destroy_vm). So a
// VirtualDisk's volume is allocated (`POST /nodes/{node}/storage/{storage}/content`) for an id
// no VM has, DISK_OWNER_VMID, and attached to VMs by reference, as the Proxmox CSI plugin does
// with its vmid 9999: removing a VM leaves it in its storage, detaching it only drops the
// reference, and it moves by being detached from one VM and attached to another (the volume id
// never changes). The API user needs Datastore.Allocate on the storage (or VM.Config.Disk on
// /vms/DISK_OWNER_VMID). A local (non-shared) volume owned by another id cannot be migrated
// along with its VM: Proxmox refuses that, and so it moves between VMs of one node only.
//
// Volumes made by earlier versions are owned by the VM that held them (`vm-<id>-vkdisk-…`,
// renamed to `vm-<id>-disk-<n>` by a `move_disk`); they are found by the line in their VM's
// description, keep moving with `move_disk`, and make their VM's removal stop with a clear
// error rather than take them along (see releaseVirtualDisks).
//
// Which volume is a VirtualDisk's: its own name (`vm-<DISK_OWNER_VMID>-<name>`, unique per
// namespace and name), or a line `virtkeeper.io/disk=<volid> VirtualDisk/<ns>/<name>[ uid=…]`
// on the VM that holds it that names this very resource. It is never detached from, or deleted
// out of, a VM virtkeeper does not own.
import { RefusedError } from '../../controller/core/errors.ts';
import { diskMarkerVerdict, diskOwnerText, parseDiskOwnerText } from '../disk-marker.ts';
import { parseOwner, type ActionContext, type DesiredStandaloneDisk, type DiskState } from '../../controller/core/provider.ts';
import type { ProxmoxClient } from './client.ts';
import { readGuestConfig } from './guest-config.ts';
import { BUS, GiB, MiB, type ResourceRow } from './mapping.ts';

/** The VM id VirtualDisk volumes are allocated for: the highest Proxmox allows, which `nextid` never hands out. */
export const DISK_OWNER_VMID = 999_999_999;

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
  /** The line naming this resource is missing or older (no UID, another volume id). */
  stale: boolean;
}

const sizeText = (bytes: number) => (bytes % GiB === 0 ? `${bytes / GiB}G` : `${Math.ceil(bytes / MiB)}M`);
const sizeOf = (entry: string) => {
  const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)/.exec(entry);
  return m ? Math.round(Number(m[1]) * { '': 1, K: 2 ** 10, M: MiB, G: GiB, T: 2 ** 40 }[m[2] as '' | 'K' | 'M' | 'G' | 'T']) : 0;
};
const owned = (p: Place) => parseOwner(p.config.description) !== undefined;

/** The VM id Proxmox reads from a volume's name (a linked clone's last part): the VM whose destruction frees it. */
export function volumeOwner(volid: string): number | undefined {
  const m = /(?:^|[:/])(?:vm|base|subvol)-(\d+)-[^/]*$/.exec(volid);
  return m ? Number(m[1]) : undefined;
}

const ownFile = (d: DesiredStandaloneDisk) => `vm-${DISK_OWNER_VMID}-${d.name}`;
const isOwnVolume = (volid: string, d: DesiredStandaloneDisk) => (volid.split(':')[1] ?? '') === ownFile(d);

function slotOf(config: Record<string, string>, volid: string): string | undefined {
  return Object.entries(config).find(([k, v]) => (SLOT.test(k) || UNUSED.test(k)) && (v.split(',')[0] ?? '') === volid)?.[0];
}

/** The line a VM's description carries for each VirtualDisk attached to it: it survives renames and a lost state. */
export const DISK_LINE = 'virtkeeper.io/disk=';
const diskLine = (volid: string, d: DesiredStandaloneDisk) => `${DISK_LINE}${volid} ${diskOwnerText(d)}`;

function parseDiskLine(line: string): { volid: string; owner: ReturnType<typeof parseDiskOwnerText> } | undefined {
  if (!line.startsWith(DISK_LINE)) return undefined;
  const rest = line.slice(DISK_LINE.length);
  const volid = rest.split(' ')[0] ?? '';
  return { volid, owner: parseDiskOwnerText(rest.slice(volid.length)) };
}

const linesOf = (config: Record<string, string>) =>
  (config.description ?? '')
    .split('\n')
    .map(parseDiskLine)
    .filter((x) => x !== undefined);

/** The description with this disk's line set to `volid` (or removed when undefined); other resources' lines stay. */
function withDiskLine(description: string | undefined, d: DesiredStandaloneDisk, volid: string | undefined): string {
  const lines = (description ?? '').split('\n').filter((l) => {
    const p = parseDiskLine(l);
    return !p || (diskMarkerVerdict(p.owner, d) === 'other' && p.volid !== volid);
  });
  return [...lines, ...(volid ? [diskLine(volid, d)] : [])].join('\n').trim();
}

/** Whether the volume in a VM's config is this resource's: a line naming it, or (no line for it at all) its own name. */
function matches(d: DesiredStandaloneDisk, volid: string, config: Record<string, string>): { stale: boolean } | undefined {
  const line = linesOf(config).find((l) => l.volid === volid);
  if (line) {
    const verdict = diskMarkerVerdict(line.owner, d);
    return verdict === 'other' ? undefined : { stale: verdict === 'upgrade' || !(config.description ?? '').split('\n').includes(diskLine(volid, d)) };
  }
  return isOwnVolume(volid, d) ? { stale: true } : undefined;
}

/** Where the disk is referenced: first on the VMs it was last seen on or should be on, else on any VM. */
async function locate(w: DiskWork, d: DesiredStandaloneDisk, rows: ResourceRow[], known?: Place, everywhere = false, claims: { by?: ResourceRow } = {}): Promise<Location | undefined> {
  const { api } = w;
  const guests = rows.filter((r) => r.template !== 1);
  const likely = new Set([d.knownHolder, d.attachTo].filter(Boolean));
  // Where it was or should be first; every other VM only now and then (a disk moved by hand,
  // or state lost): a disk waiting for its VM must not read a thousand configs every pass.
  const last = w.fullScans?.get(d.key);
  const scanAll = everywhere || last === undefined || Date.now() - last > FULL_SCAN_EVERY_MS;
  const order = [...guests.filter((r) => likely.has(r.name)), ...(scanAll ? guests.filter((r) => !likely.has(r.name)) : [])];
  if (scanAll) w.fullScans?.set(d.key, Date.now());
  for (const row of order) {
    // The target's config, read already, serves again.
    const config = known && known.row.vmid === row.vmid ? known.config : await readGuestConfig(api, row.node, row.vmid);
    for (const [key, value] of Object.entries(config)) {
      const volid = value.split(',')[0] ?? '';
      const m = (SLOT.test(key) || UNUSED.test(key)) && !/media=cdrom|cloudinit/.test(value) ? matches(d, volid, config) : undefined;
      if (m) return { row, config, key, volid, stale: m.stale };
      // Its own volume, on a VM whose line names another resource (a UID of before): not taken.
      if ((SLOT.test(key) || UNUSED.test(key)) && isOwnVolume(volid, d)) claims.by = row;
    }
  }
  return undefined;
}

interface Free {
  node: string;
  volid: string;
  size: number;
}

/** The disk's volume in its storage when no VM config was seen referencing it; `offline` names nodes that could not be asked. */
async function findFree(w: DiskWork, d: DesiredStandaloneDisk, firstNode?: string): Promise<{ free?: Free; offline: string[] }> {
  const { api } = w;
  const storage = (d.knownID && isOwnVolume(d.knownID, d) ? d.knownID.split(':')[0] : undefined) ?? d.storage ?? w.defaultStorage;
  const volid = `${storage}:${ownFile(d)}`;
  const nodes = await api.get<{ node: string; status?: string }[]>('/nodes');
  const online = nodes
    .filter((n) => n.status !== 'offline')
    .map((n) => n.node)
    .sort((a, b) => Number(b === firstNode) - Number(a === firstNode));
  for (const node of online) {
    const list = await api.get<{ volid: string; size?: number }[]>(`/nodes/${node}/storage/${storage}/content`, { vmid: String(DISK_OWNER_VMID) });
    const hit = list.find((v) => v.volid === volid);
    if (hit) return { free: { node, volid, size: Number(hit.size ?? 0) }, offline: [] };
  }
  return { offline: nodes.filter((n) => n.status === 'offline').map((n) => n.node) };
}

async function sizeOfVolume(api: ProxmoxClient, at: Location): Promise<number> {
  if (SLOT.test(at.key)) return sizeOf(at.config[at.key] ?? '');
  const storage = at.volid.split(':')[0] ?? '';
  const owner = volumeOwner(at.volid);
  const list = await api.get<{ volid: string; size: number }[]>(`/nodes/${at.row.node}/storage/${storage}/content`, owner ? { vmid: String(owner) } : {});
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
  const state = (providerID: string, sizeBytes: number, attachedTo?: string, message?: string): DiskState => ({
    providerID,
    sizeBytes,
    ...(attachedTo ? { attachedTo } : {}),
    ...(message ? { message } : {}),
  });
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
    ctx.onProgress?.({ message: `attaching ${d.name} to ${t.row.name} as ${slot}` });
    await wait(await api.post<string>(`/nodes/${t.row.node}/qemu/${t.row.vmid}/config`, { [slot]: volid, description: withDiskLine(t.config.description, d, volid) }));
    if (size < d.sizeBytes) {
      ctx.onProgress?.({ message: `growing ${slot} of ${t.row.name} to ${sizeText(d.sizeBytes)}` });
      await wait(await api.put<string | null>(`/nodes/${t.row.node}/qemu/${t.row.vmid}/resize`, { disk: slot, size: sizeText(d.sizeBytes) }));
    }
    return state(volid, Math.max(size, d.sizeBytes), t.row.name);
  };

  let at = await locate(w, d, rows, target);
  if (!at) {
    const { free, offline } = await findFree(w, d, target?.row.node);
    if (free) {
      const why = cannotAttach();
      if (why) return state(free.volid, free.size, undefined, why);
      if (!target) return state(free.volid, free.size);
      // Attaching a volume that looks free: every VM's config is read first, so that a volume
      // someone attached elsewhere by hand is never attached twice.
      const claims: { by?: ResourceRow } = {};
      at = await locate(w, d, rows, target, true, claims);
      if (!at && claims.by)
        return state(
          free.volid,
          free.size,
          undefined,
          `disk ${d.name} is attached to VM ${claims.by.name ?? claims.by.vmid}, whose line names another VirtualDisk of this name (another UID); it is left as it is`,
        );
      if (!at) {
        if (target.row.node !== free.node)
          return state(free.volid, free.size, undefined, `VM ${d.attachTo} is on ${target.row.node} and the disk on ${free.node}; a disk on local storage attaches to VMs of its node`);
        return attach(target, free.volid, free.size);
      }
    } else if (offline.length > 0 && d.knownID) {
      return state(
        d.knownID,
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
    ctx.onProgress?.({ message: `allocating ${d.name} on ${storage}` });
    const volid = await api.post<string>(`/nodes/${target.row.node}/storage/${storage}/content`, {
      vmid: String(DISK_OWNER_VMID),
      filename: ownFile(d),
      size: sizeText(d.sizeBytes),
      ...(d.format ? { format: d.format } : {}),
    });
    return attach(target, volid, d.sizeBytes);
  }

  const holder = at.row.name ?? String(at.row.vmid);
  const attached = SLOT.test(at.key);
  // A volume of earlier versions belongs to the VM holding it: it moves by `move_disk` (renamed).
  const legacy = volumeOwner(at.volid) === at.row.vmid;
  let size = await sizeOfVolume(api, at);
  const grow = async (p: Place, key: string) => {
    if (size >= d.sizeBytes) return;
    ctx.onProgress?.({ message: `growing ${key} of ${p.row.name} to ${sizeText(d.sizeBytes)}` });
    await wait(await api.put<string | null>(`/nodes/${p.row.node}/qemu/${p.row.vmid}/resize`, { disk: key, size: sizeText(d.sizeBytes) }));
    size = d.sizeBytes;
  };
  if (attached && holder === d.attachTo) {
    await grow(at, at.key);
    if (owned(at) && at.stale) await wait(await api.post<string>(`/nodes/${at.row.node}/qemu/${at.row.vmid}/config`, { description: withDiskLine(at.config.description, d, at.volid) }));
    return state(at.volid, size, holder);
  }
  if (!owned(at)) return state(at.volid, size, attached ? holder : undefined, `disk ${d.name} is on VM ${holder}, which virtkeeper does not own; it is never detached from it`);
  const why = cannotAttach();
  if (why) return state(at.volid, size, attached ? holder : undefined, why);
  if (target && target.row.node !== at.row.node)
    return state(at.volid, size, attached ? holder : undefined, `VM ${d.attachTo} is on ${target.row.node} and the disk on ${at.row.node}; Proxmox reassigns disks between VMs of one node`);

  if (!legacy) {
    if (target && target.row.vmid === at.row.vmid) return attach(target, at.volid, size);
    // Detached: another VM id's volume just leaves the config (no unusedN) and stays in its storage.
    ctx.onProgress?.({ message: `detaching ${d.name} from ${holder}` });
    await wait(await api.post<string>(`/nodes/${at.row.node}/qemu/${at.row.vmid}/config`, { delete: at.key, description: withDiskLine(at.config.description, d, undefined) }));
    return target ? attach(target, at.volid, size) : state(at.volid, size);
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
  const claims: { by?: ResourceRow } = {};
  const at = await locate({ ...w, fullScans: new Map() }, d, await api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' }), undefined, true, claims);
  if (!at) {
    if (claims.by) throw new RefusedError(`disk ${d.name} is attached to VM ${claims.by.name ?? claims.by.vmid}, whose line names another VirtualDisk of this name (another UID); it is not deleted`);
    const { free } = await findFree(w, d);
    if (free) await wait(await api.delete<string | null>(`/nodes/${free.node}/storage/${free.volid.split(':')[0]}/content/${encodeURIComponent(free.volid)}`));
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
