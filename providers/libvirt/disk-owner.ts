// A VirtualDisk's owner, recorded where libvirt lets us: storage volumes carry no free-form
// metadata, and a detached disk has no domain to hold a record, so the marker is a sidecar
// volume `<name>.owner` beside it, a few bytes holding the owner marker. It is made before
// the disk volume (a create cut short leaves a marker, never an unmarked disk) and removed
// after it.
import { orAbsent } from './rpc/protocol.ts';
import type { OwnerRef } from '../../controller/core/model.ts';
import { formatOwner, parseOwner } from '../../controller/core/provider.ts';
import { volumeXml } from './domain-xml.ts';
import type { LibvirtConnection } from './rpc/connection.ts';
import type { StoragePool } from './rpc/protocol.ts';

export const ownerVolumeName = (base: string) => `${base}.owner`;

/** The owner the sidecar names: undefined when there is none, `null` when it names none we can read. */
export async function readDiskOwner(c: LibvirtConnection, pool: StoragePool, base: string): Promise<OwnerRef | null | undefined> {
  const vol = await orAbsent(c.lookupVolume(pool, ownerVolumeName(base)));
  if (!vol) return undefined;
  const length = Number((await c.volumeInfo(vol)).capacity);
  if (length <= 0 || length > 4096) return null;
  const chunks: Buffer[] = [];
  for await (const b of c.downloadVolume(vol, length)) chunks.push(b);
  return parseOwner(Buffer.concat(chunks).toString('utf8')) ?? null;
}

export async function writeDiskOwner(c: LibvirtConnection, pool: StoragePool, base: string, owner: OwnerRef): Promise<void> {
  const text = Buffer.from(`${formatOwner(owner)}\n`);
  const vol = await c.createVolume(pool, volumeXml(ownerVolumeName(base), text.length, undefined, 'raw'));
  await c.uploadVolume(vol, text);
}

export async function deleteDiskOwner(c: LibvirtConnection, pool: StoragePool, base: string): Promise<void> {
  const vol = await orAbsent(c.lookupVolume(pool, ownerVolumeName(base)));
  if (vol) await c.deleteVolume(vol);
}

export const describeOwner = (o: OwnerRef) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
