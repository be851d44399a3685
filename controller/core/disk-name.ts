// The name a VirtualDisk's volume (Proxmox volume, oVirt alias, libvirt volume) carries on the
// hypervisor. `vkdisk-<namespace>-<name>` alone made `x-y/a` and `x/y-a` one volume; a hash of
// the pair, with `/` between (neither part may contain it), makes each pair its own name. The
// readable part only helps a person find it: it is cut to keep the whole short (Proxmox puts
// `vm-<vmid>-` in front, LVM allows 127 characters) and may be shared, the hash is not.
import { createHash } from 'node:crypto';

const READABLE_MAX = 40;

/** `vkdisk-<readable>-<10 hex>`: only `[a-z0-9-]`, at most 58 characters, one per namespace and name. */
export function diskVolumeName(namespace: string, name: string): string {
  const hash = createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 10);
  const readable = `${namespace}-${name}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, READABLE_MAX)
    .replace(/-+$/, '');
  return `vkdisk-${readable}-${hash}`;
}

/** The name main gave a VirtualDisk before (ambiguous): trusted only together with a marker that names the resource. */
export function legacyDiskVolumeName(namespace: string, name: string): string {
  return `vkdisk-${namespace}-${name}`;
}
