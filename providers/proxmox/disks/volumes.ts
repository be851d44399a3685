// Which volume is a VirtualDisk's, and where it is: its own name (`vm-<DISK_OWNER_VMID>-<name>`),
// or a line `virtkeeper.io/disk=<volid> VirtualDisk/<ns>/<name>[ uid=…]` on the VM that holds it
// that names this very resource. Reads only; the writes are in ensure.ts and delete.ts.
import { diskMarkerVerdict, diskOwnerText, parseDiskOwnerText } from '../../disk-marker.ts';
import { parseOwner, type DesiredStandaloneDisk } from '../../../controller/core/provider.ts';
import { RefusedError } from '../../../controller/core/errors.ts';
import { sizeProperty } from '../../kit/sizes.ts';
import type { ProxmoxClient } from '../client.ts';
import { readGuestConfig } from '../guest-config.ts';
import { BUS, type ResourceRow } from '../mapping.ts';

/** The VM id VirtualDisk volumes are allocated for: the highest Proxmox allows, which `nextid` never hands out. */
export const DISK_OWNER_VMID = 999_999_999;

export const SLOT = /^(scsi|virtio|sata|ide)\d+$/;
export const UNUSED = /^unused\d+$/;
const FULL_SCAN_EVERY_MS = 10 * 60_000;

export interface Place {
  row: ResourceRow;
  config: Record<string, string>;
}

export interface Location extends Place {
  key: string;
  volid: string;
  /** The line naming this resource is missing or older (no UID, another volume id). */
  stale: boolean;
}

export const owned = (p: Place) => parseOwner(p.config.description) !== undefined;

/** The VM id Proxmox reads from a volume's name (a linked clone's last part): the VM whose destruction frees it. */
export function volumeOwner(volid: string): number | undefined {
  const m = /(?:^|[:/])(?:vm|base|subvol)-(\d+)-[^/]*$/.exec(volid);
  return m ? Number(m[1]) : undefined;
}

export const ownFile = (d: DesiredStandaloneDisk) => `vm-${DISK_OWNER_VMID}-${d.name}`;
export const isOwnVolume = (volid: string, d: DesiredStandaloneDisk) => (volid.split(':')[1] ?? '') === ownFile(d);

export function slotOf(config: Record<string, string>, volid: string): string | undefined {
  return Object.entries(config).find(([k, v]) => (SLOT.test(k) || UNUSED.test(k)) && (v.split(',')[0] ?? '') === volid)?.[0];
}

/** The line a VM's description carries for each VirtualDisk attached to it: it survives renames and a lost state. */
export const DISK_LINE = 'virtkeeper.io/disk=';
const diskLine = (volid: string, d: DesiredStandaloneDisk) => `${DISK_LINE}${volid} ${diskOwnerText(d)}`;

export function parseDiskLine(line: string): { volid: string; owner: ReturnType<typeof parseDiskOwnerText> } | undefined {
  if (!line.startsWith(DISK_LINE)) return undefined;
  const rest = line.slice(DISK_LINE.length);
  const volid = rest.split(' ')[0] ?? '';
  return { volid, owner: parseDiskOwnerText(rest.slice(volid.length)) };
}

export const linesOf = (config: Record<string, string>) =>
  (config.description ?? '')
    .split('\n')
    .map(parseDiskLine)
    .filter((x) => x !== undefined);

/** The description with this disk's line set to `volid` (or removed when undefined); other resources' lines stay. */
export function withDiskLine(description: string | undefined, d: DesiredStandaloneDisk, volid: string | undefined): string {
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

export interface LocateOptions {
  api: ProxmoxClient;
  /** When each disk last needed a read of every VM's config and was not found: not repeated for 10 minutes. */
  fullScans: Map<string, number>;
  /** A config read already (the target's), served again. */
  known?: Place;
  everywhere?: boolean;
  /** Set to a VM that holds the disk's own volume under a line naming another resource. */
  claims?: { by?: ResourceRow };
}

/** Where the disk is referenced: first on the VMs it was last seen on or should be on, else on any VM. */
export async function locate(d: DesiredStandaloneDisk, rows: ResourceRow[], o: LocateOptions): Promise<Location | undefined> {
  const guests = rows.filter((r) => r.template !== 1);
  const likely = new Set([d.knownHolder, d.attachTo].filter(Boolean));
  // Where it was or should be first; every other VM only now and then (a disk moved by hand,
  // or state lost): a disk waiting for its VM must not read a thousand configs every pass.
  const last = o.fullScans.get(d.key);
  const scanAll = o.everywhere || last === undefined || Date.now() - last > FULL_SCAN_EVERY_MS;
  const order = [...guests.filter((r) => likely.has(r.name)), ...(scanAll ? guests.filter((r) => !likely.has(r.name)) : [])];
  if (scanAll) o.fullScans.set(d.key, Date.now());
  for (const row of order) {
    const config = o.known && o.known.row.vmid === row.vmid ? o.known.config : await readGuestConfig(o.api, row.node, row.vmid);
    for (const [key, value] of Object.entries(config)) {
      if (!(SLOT.test(key) || UNUSED.test(key)) || /media=cdrom|cloudinit/.test(value)) continue;
      const volid = value.split(',')[0] ?? '';
      const m = matches(d, volid, config);
      if (m) return { row, config, key, volid, stale: m.stale };
      // Its own volume, on a VM whose line names another resource (a UID of before): not taken.
      if (isOwnVolume(volid, d) && o.claims) o.claims.by = row;
    }
  }
  return undefined;
}

export async function sizeOfVolume(api: ProxmoxClient, at: Location): Promise<number> {
  if (SLOT.test(at.key)) return sizeProperty(at.config[at.key] ?? '');
  const storage = at.volid.split(':')[0] ?? '';
  const owner = volumeOwner(at.volid);
  const list = await api.get<{ volid: string; size: number }[]>(`/nodes/${at.row.node}/storage/${storage}/content`, owner ? { vmid: String(owner) } : {});
  return list.find((v) => v.volid === at.volid)?.size ?? 0;
}

export function freeSlot(config: Record<string, string>, d: DesiredStandaloneDisk): string {
  const bus = BUS[d.interface] ?? 'scsi';
  for (let i = 1; i < 31; i++) if (!(`${bus}${i}` in config)) return `${bus}${i}`;
  throw new RefusedError(`no free ${bus} slot`);
}
