// A VM's own disks: grown (live through the block layer, else the volume), attached (the
// domain's record names the volume before it exists) and detached (its volume deleted only
// when the record proves it the VM's). Also the record itself and the volumes' removal.
import type { VMAction } from '../../controller/core/actions.ts';
import { ProviderNotFoundError, RefusedError } from '../../controller/core/errors.ts';
import type { LibvirtContext } from './context.ts';
import { BUS, deviceXml, diskXml, targetDev, volumeName, volumesRecordXml, volumeXml, VOLUMES_KEY, VOLUMES_NS, type OwnedVolume } from './domain-xml.ts';
import { uuidText, type Located } from './hosts.ts';
import { hostClaims, volumesOwnedBy } from './ownership.ts';
import type { LibvirtConnection } from './rpc/connection.ts';
import { AffectFlags, MetadataType, orAbsent, type Domain } from './rpc/protocol.ts';

type Of<T extends VMAction['type']> = Extract<VMAction, { type: T }>;
export const affectFlags = (running: boolean): number => (running ? AffectFlags.LIVE | AffectFlags.CONFIG : AffectFlags.CONFIG);

/** The domain's record of its own volumes, rewritten (live too when it runs). */
export async function writeVolumesRecord(ctx: LibvirtContext, c: LibvirtConnection, d: Domain, owned: OwnedVolume[], running: boolean): Promise<void> {
  await c.setMetadata(d, { type: MetadataType.ELEMENT, xml: volumesRecordXml(owned), key: VOLUMES_KEY, uri: VOLUMES_NS, flags: affectFlags(running) });
  ctx.forget(uuidText(d.uuid));
}

export async function deleteVolumes(c: LibvirtConnection, owned: OwnedVolume[]): Promise<void> {
  for (const v of owned) {
    const pool = await orAbsent(c.lookupPool(v.pool));
    const vol = pool ? await orAbsent(c.lookupVolume(pool, v.name)) : undefined;
    if (vol) await c.deleteVolume(vol);
  }
}

export async function growDisk(ctx: LibvirtContext, { c, d, parsed, running }: Located, action: Of<'growDisk'>): Promise<void> {
  const disk = parsed.disks.find((x) => x.dev === action.disk) ?? parsed.disks[action.index];
  if (!disk) throw new ProviderNotFoundError(`domain ${action.target.name} has no disk ${action.disk}`);
  if (running) return c.blockResize(d, disk.dev, action.sizeBytes);
  const vol = await c.lookupVolume(await c.lookupPool(disk.pool ?? ctx.pool), disk.volume ?? '');
  const info = await c.volumeInfo(vol);
  if (Number(info.capacity) < action.sizeBytes) await c.resizeVolume(vol, action.sizeBytes);
}

export async function attachDisk(ctx: LibvirtContext, { c, d, parsed, running }: Located, action: Of<'attachDisk'>): Promise<void> {
  const poolName = action.disk.storage ?? ctx.pool;
  const pool = await c.lookupPool(poolName);
  const name = volumeName(parsed.name, action.disk.name);
  const owned = parsed.owned ?? volumesOwnedBy(parsed, await hostClaims(c, ctx.pool), ctx.pool);
  const recorded = owned.some((v) => v.pool === poolName && v.name === name);
  const existing = await orAbsent(c.lookupVolume(pool, name));
  if (existing && !recorded)
    throw new RefusedError(
      `volume ${name} already exists in pool ${poolName} and VM ${parsed.name} does not record it as its own; virtkeeper never takes a volume it cannot prove it made: remove or rename that volume, or rename the disk`,
    );
  // Recorded first: a crash before the attach leaves a volume the record names, never an unowned one.
  if (!recorded) await writeVolumesRecord(ctx, c, d, [...owned, { pool: poolName, name }], running);
  if (!existing) await c.createVolume(pool, volumeXml(name, action.disk.sizeBytes));
  const bus = BUS[action.disk.interface] ?? 'virtio';
  const used = parsed.disks.filter((x) => (BUS[x.interface ?? 'virtio'] ?? x.interface) === bus || x.interface === bus).length;
  const xml = diskXml(action.disk, parsed.name, poolName, used);
  await c.attachDevice(d, deviceXml('disk', { ...xml, target: { '@dev': targetDev(bus, used), '@bus': bus } }), affectFlags(running));
}

export async function detachDisk(ctx: LibvirtContext, { c, d, parsed, running }: Located, action: Of<'detachDisk'>): Promise<void> {
  const disk = parsed.disks.find((x) => x.dev === action.disk);
  if (!disk) return;
  await c.detachDevice(d, deviceXml('disk', { '@type': 'volume', '@device': 'disk', source: { '@pool': disk.pool, '@volume': disk.volume }, target: { '@dev': disk.dev } }), affectFlags(running));
  // Only a volume the VM provably owns goes with it; anything else is just detached.
  const poolName = disk.pool ?? ctx.pool;
  const owned = volumesOwnedBy(parsed, await hostClaims(c, ctx.pool), ctx.pool);
  if (!disk.volume || !owned.some((v) => v.pool === poolName && v.name === disk.volume)) return;
  const vol = await orAbsent(c.lookupVolume(await c.lookupPool(poolName), disk.volume));
  if (vol) await c.deleteVolume(vol);
  if (parsed.owned)
    await writeVolumesRecord(
      ctx,
      c,
      d,
      parsed.owned.filter((v) => !(v.pool === poolName && v.name === disk.volume)),
      running,
    );
}
