// VirtualDisks on libvirt: a volume with a life of its own, proven this resource's by its
// owner sidecar (disk-owner.ts), made on the host of the VM it goes to, attached to and
// moved between VMs virtkeeper manages, grown, and deleted only when provably its own.
import { ProviderTransientError, RefusedError } from '../../controller/core/errors.ts';
import { sameOwner, type DesiredStandaloneDisk, type DiskState } from '../../controller/core/provider.ts';
import { deleteDiskOwner, describeOwner, ownerVolumeName, readDiskOwner, writeDiskOwner } from './disk-owner.ts';
import { BUS, deviceXml, parseDomain, targetDev, volumeXml, type ParsedDomain } from './domain-xml.ts';
import type { LibvirtConnection } from './rpc/connection.ts';
import { AffectFlags, DomainState, exists, orAbsent, type Domain, type StoragePool } from './rpc/protocol.ts';

/** What the disk routines need of the provider. */
export interface DiskHost {
  hosts: { name: string; uri: string }[];
  pool(): string;
  conn(host: string): Promise<LibvirtConnection>;
  /** Drops a domain's cached observation after its devices changed. */
  forget(uuid: Buffer): void;
}

/** Where a volume is attached now: the domain (on any host) whose XML references it. */
async function attachment(h: DiskHost, volume: string): Promise<{ host: string; c: LibvirtConnection; d: Domain; parsed: ParsedDomain; dev: string; running: boolean } | undefined> {
  for (const host of h.hosts) {
    const c = await h.conn(host.name).catch(() => undefined);
    if (!c) continue;
    for (const d of await c.listAllDomains()) {
      const parsed = parseDomain(await c.xmlDesc(d));
      const disk = parsed.disks.find((x) => x.volume === volume);
      if (disk) return { host: host.name, c, d, parsed, dev: disk.dev, running: (await c.state(d)).state === DomainState.RUNNING };
    }
  }
  return undefined;
}

async function findDomain(h: DiskHost, name: string): Promise<{ host: string; c: LibvirtConnection; d: Domain; parsed: ParsedDomain; running: boolean } | undefined> {
  for (const host of h.hosts) {
    const c = await h.conn(host.name).catch(() => undefined);
    const d = c ? await orAbsent(c.lookupDomain(name)) : undefined;
    if (c && d) return { host: host.name, c, d, parsed: parseDomain(await c.xmlDesc(d)), running: (await c.state(d)).state === DomainState.RUNNING };
  }
  return undefined;
}

export async function ensureDisk(h: DiskHost, want: DesiredStandaloneDisk): Promise<DiskState> {
  const volume = `${want.name}.${want.format === 'raw' ? 'raw' : 'qcow2'}`;
  const poolName = want.storage ?? h.pool();
  const target = want.attachTo ? await findDomain(h, want.attachTo) : undefined;
  if (want.attachTo && !target) return { providerID: '', sizeBytes: 0, message: `VM ${want.attachTo} does not exist (yet) on this Hypervisor` };
  if (target && !target.parsed.owner) return { providerID: '', sizeBytes: 0, message: `VM ${want.attachTo} is not managed by virtkeeper; a VirtualDisk is only attached to VMs it owns` };
  // The volume (or its owner sidecar) lives on one host: find it, or make it where it is needed.
  const home = await diskHome(h, poolName, volume, want.name);
  if (home && target && home.host !== target.host)
    return {
      providerID: `${home.host}/${poolName}/${volume}`,
      sizeBytes: 0,
      message: `the disk lives on ${home.host} and VM ${want.attachTo} on ${target.host}; moving a disk between hosts is not supported`,
    };
  const c = home?.c ?? target?.c ?? (await h.conn(h.hosts[0]?.name ?? ''));
  const host = home?.host ?? target?.host ?? h.hosts[0]?.name ?? '';
  const pool = await c.lookupPool(poolName);
  let vol = await orAbsent(c.lookupVolume(pool, volume));
  // Proven this VirtualDisk's before anything is done to it; the marker comes before the volume.
  if (!(await ownsDiskVolume(c, host, pool, volume, want, !!vol))) await writeDiskOwner(c, pool, want.name, want.owner);
  if (!vol) vol = await c.createVolume(pool, volumeXml(volume, want.sizeBytes, undefined, want.format === 'raw' ? 'raw' : 'qcow2'));
  // Where it is attached now, and whether that must change.
  let current = await attachment(h, volume);
  if (current && current.parsed.name !== want.attachTo) {
    if (!current.parsed.owner)
      return {
        providerID: `${host}/${poolName}/${volume}`,
        sizeBytes: 0,
        attachedTo: current.parsed.name,
        message: `attached to ${current.parsed.name}, which virtkeeper does not manage: it is not detached`,
      };
    if (!(await detachVolume(h, current, poolName, volume))) {
      return {
        providerID: `${host}/${poolName}/${volume}`,
        sizeBytes: 0,
        attachedTo: current.parsed.name,
        message: `waiting for the guest of ${current.parsed.name} to release the disk (a live detach needs the guest's cooperation)`,
      };
    }
    current = undefined;
  }
  const info = await c.volumeInfo(vol);
  if (Number(info.capacity) < want.sizeBytes) {
    if (current?.running) await current.c.blockResize(current.d, current.dev, want.sizeBytes);
    else await c.resizeVolume(vol, want.sizeBytes);
  }
  if (!current && target) {
    const bus = BUS[want.interface] ?? 'virtio';
    const used = new Set(target.parsed.disks.map((x) => x.dev));
    let i = 0;
    while (used.has(targetDev(bus, i))) i++;
    const xml = {
      '@type': 'volume',
      '@device': 'disk',
      driver: { '@name': 'qemu', '@type': want.format === 'raw' ? 'raw' : 'qcow2' },
      source: { '@pool': poolName, '@volume': volume },
      target: { '@dev': targetDev(bus, i), '@bus': bus },
    };
    await target.c.attachDevice(target.d, deviceXml('disk', xml), target.running ? AffectFlags.LIVE | AffectFlags.CONFIG : AffectFlags.CONFIG);
    h.forget(target.d.uuid);
  }
  const size = Number((await c.volumeInfo(vol)).capacity);
  return { providerID: `${host}/${poolName}/${volume}`, sizeBytes: size, ...(want.attachTo ? { attachedTo: want.attachTo } : {}) };
}

/** Detaches a volume; a live detach completes only when the guest lets go, so wait a little and say. */
async function detachVolume(h: DiskHost, at: { c: LibvirtConnection; d: Domain; dev: string; running: boolean }, pool: string, volume: string): Promise<boolean> {
  await at.c.detachDevice(
    at.d,
    deviceXml('disk', { '@type': 'volume', '@device': 'disk', source: { '@pool': pool, '@volume': volume }, target: { '@dev': at.dev } }),
    at.running ? AffectFlags.LIVE | AffectFlags.CONFIG : AffectFlags.CONFIG,
  );
  h.forget(at.d.uuid);
  for (let i = 0; i < 20; i++) {
    if (!(await at.c.xmlDesc(at.d)).includes(`volume='${volume}'`)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

export async function deleteDisk(h: DiskHost, want: DesiredStandaloneDisk): Promise<void> {
  const volume = `${want.name}.${want.format === 'raw' ? 'raw' : 'qcow2'}`;
  const poolName = want.storage ?? h.pool();
  const home = await diskHome(h, poolName, volume, want.name);
  if (!home) return;
  const pool = await home.c.lookupPool(poolName);
  const vol = await orAbsent(home.c.lookupVolume(pool, volume));
  // Nothing is detached or deleted that is not provably this VirtualDisk's.
  const marked = await ownsDiskVolume(home.c, home.host, pool, volume, want, !!vol);
  const current = vol ? await attachment(h, volume) : undefined;
  if (current) {
    if (!current.parsed.owner) throw new RefusedError(`disk ${volume} is attached to ${current.parsed.name}, which virtkeeper does not manage; it is not detached or deleted`);
    if (!(await detachVolume(h, current, poolName, volume))) throw new ProviderTransientError(`waiting for the guest of ${current.parsed.name} to release disk ${volume}`);
  }
  if (vol) await home.c.deleteVolume(vol);
  if (marked) await deleteDiskOwner(home.c, pool, want.name);
}

/** The host holding a VirtualDisk's volume or its owner sidecar; refused while a host that may hold it cannot be asked. */
async function diskHome(h: DiskHost, poolName: string, volume: string, base: string): Promise<{ host: string; c: LibvirtConnection } | undefined> {
  let home: { host: string; c: LibvirtConnection } | undefined;
  for (const host of h.hosts) {
    const c = await h.conn(host.name).catch(() => undefined);
    if (!c) throw new ProviderTransientError(`cannot reach host ${host.name}, which may hold disk ${volume}; the disk is handled once every host answers`);
    const pool = await orAbsent(c.lookupPool(poolName));
    if (!pool) continue;
    const has = (name: string) => exists(c.lookupVolume(pool, name));
    if (await has(volume)) return { host: host.name, c };
    if (!home && (await has(ownerVolumeName(base)))) home = { host: host.name, c };
  }
  return home;
}

/**
 * Whether the volume is this VirtualDisk's: its owner sidecar names this resource (true), or
 * there is none yet (false: the caller writes it). A volume without a sidecar was made by an
 * older virtkeeper: it is taken only when this resource's own status reported it (knownID).
 * Anything else is refused.
 */
async function ownsDiskVolume(c: LibvirtConnection, host: string, pool: StoragePool, volume: string, want: DesiredStandaloneDisk, exists: boolean): Promise<boolean> {
  const marker = await readDiskOwner(c, pool, want.name);
  const where = `volume ${volume} in pool ${pool.name} on ${host}`;
  if (marker === undefined) {
    if (exists && want.knownID !== `${host}/${pool.name}/${volume}`)
      throw new RefusedError(
        `${where} exists without virtkeeper's owner record (${ownerVolumeName(want.name)}) and is not known as ${describeOwner(want.owner)}'s; it is not touched: remove or rename it if it is no one's`,
      );
    return false;
  }
  if (!marker || !sameOwner(marker, want.owner))
    throw new RefusedError(`${where} belongs to ${marker ? describeOwner(marker) : 'an owner that cannot be read'}, not to ${describeOwner(want.owner)}; it is not touched`);
  return true;
}
