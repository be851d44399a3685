// VirtualDisks on libvirt: a volume with a life of its own, proven this resource's by its
// owner sidecar (disk-owner.ts), made on the host of the VM it goes to, attached to and
// moved between VMs virtkeeper manages, grown, and deleted only when provably its own.
// `survey` reads what is there and decides; `observe` reports those decisions, `ensure`
// carries them out.
import { ProviderTransientError, RefusedError } from '../../controller/core/errors.ts';
import { sameOwner, type DesiredStandaloneDisk, type DiskClient, type DiskState, type KindObservation } from '../../controller/core/provider.ts';
import { formatBytes, sleep } from '../kit/index.ts';
import type { LibvirtContext } from './context.ts';
import { deleteDiskOwner, describeOwner, ownerVolumeName, readDiskOwner, writeDiskOwner } from './disk-owner.ts';
import { BUS, deviceXml, parseDomain, targetDev, volumeXml, type ParsedDomain } from './domain-xml.ts';
import { isActive, uuidText } from './hosts.ts';
import type { LibvirtConnection } from './rpc/connection.ts';
import { exists, orAbsent, StatsTypes, type Domain, type StoragePool, type StorageVol } from './rpc/protocol.ts';
import { affectFlags } from './vm-disks.ts';

interface Found {
  host: string;
  c: LibvirtConnection;
  d: Domain;
  parsed: ParsedDomain;
  running: boolean;
}
type Attached = Found & { dev: string };

/** Why ensure stops short, reported as the disk's message; nothing is changed. */
interface Blocked {
  problem: string;
  providerID: string;
  exists: boolean;
  attachedTo?: string;
}

/** What is there for a VirtualDisk that ensure may act on. */
interface Survey {
  problem?: undefined;
  volume: string;
  poolName: string;
  providerID: string;
  host: string;
  c: LibvirtConnection;
  pool: StoragePool;
  vol?: StorageVol;
  capacity: number;
  /** The owner sidecar names this resource already. */
  marked: boolean;
  current?: Attached;
  target?: Found;
}

const volumeOf = (want: DesiredStandaloneDisk) => `${want.name}.${want.format === 'raw' ? 'raw' : 'qcow2'}`;

export class LibvirtDisks implements DiskClient {
  private readonly ctx: LibvirtContext;

  constructor(ctx: LibvirtContext) {
    this.ctx = ctx;
  }

  async observe(want: DesiredStandaloneDisk): Promise<KindObservation<DiskState>> {
    let s: Survey | Blocked;
    try {
      s = await this.survey(want);
    } catch (e) {
      if (e instanceof RefusedError) return { exists: true, upToDate: false, intents: [], problem: e.message };
      throw e;
    }
    if (s.problem !== undefined) return { exists: s.exists, upToDate: false, intents: [], problem: s.problem };
    const state: DiskState = { providerID: s.providerID, sizeBytes: s.capacity, ...(s.current ? { attachedTo: s.current.parsed.name } : {}) };
    const intents: string[] = [];
    if (!s.vol) intents.push(`create volume ${s.volume} ${formatBytes(want.sizeBytes)} in pool ${s.poolName} on ${s.host}`);
    else if (!s.marked) intents.push(`record ${describeOwner(want.owner)} as the owner of ${s.volume}`);
    const moving = s.current && s.current.parsed.name !== want.attachTo;
    if (moving && s.current) intents.push(`detach from ${s.current.parsed.name}`);
    if (s.vol && s.capacity < want.sizeBytes) intents.push(`grow ${formatBytes(s.capacity)} → ${formatBytes(want.sizeBytes)}`);
    if ((!s.current || moving) && s.target) intents.push(`attach to ${s.target.parsed.name}`);
    return { exists: !!s.vol, upToDate: intents.length === 0, ...(s.vol ? { state } : {}), intents };
  }

  async ensure(want: DesiredStandaloneDisk): Promise<DiskState> {
    const s = await this.survey(want);
    const message = (m: string, attachedTo?: string): DiskState => ({ providerID: s.providerID, sizeBytes: 0, ...(attachedTo ? { attachedTo } : {}), message: m });
    if (s.problem !== undefined) return message(s.problem, s.attachedTo);
    const { c, pool } = s;
    // Proven this VirtualDisk's before anything is done to it; the marker comes before the volume.
    if (!s.marked) await writeDiskOwner(c, pool, want.name, want.owner);
    const vol = s.vol ?? (await c.createVolume(pool, volumeXml(s.volume, want.sizeBytes, undefined, want.format === 'raw' ? 'raw' : 'qcow2')));
    let current = s.current;
    if (current && current.parsed.name !== want.attachTo) {
      if (!(await this.detach(current, s.poolName, s.volume)))
        return message(`waiting for the guest of ${current.parsed.name} to release the disk (a live detach needs the guest's cooperation)`, current.parsed.name);
      current = undefined;
    }
    if (Number((await c.volumeInfo(vol)).capacity) < want.sizeBytes) {
      if (current?.running) await current.c.blockResize(current.d, current.dev, want.sizeBytes);
      else await c.resizeVolume(vol, want.sizeBytes);
    }
    const target = s.target;
    if (!current && target) {
      const bus = BUS[want.interface] ?? 'virtio';
      const used = new Set(target.parsed.disks.map((x) => x.dev));
      let i = 0;
      while (used.has(targetDev(bus, i))) i++;
      const xml = {
        '@type': 'volume',
        '@device': 'disk',
        driver: { '@name': 'qemu', '@type': want.format === 'raw' ? 'raw' : 'qcow2' },
        source: { '@pool': s.poolName, '@volume': s.volume },
        target: { '@dev': targetDev(bus, i), '@bus': bus },
      };
      await target.c.attachDevice(target.d, deviceXml('disk', xml), affectFlags(target.running));
      this.ctx.forget(uuidText(target.d.uuid));
    }
    const size = Number((await c.volumeInfo(vol)).capacity);
    return { providerID: s.providerID, sizeBytes: size, ...(want.attachTo ? { attachedTo: want.attachTo } : {}) };
  }

  async delete(want: DesiredStandaloneDisk): Promise<void> {
    const volume = volumeOf(want);
    const poolName = want.storage ?? this.ctx.pool;
    const home = await this.home(poolName, volume, want.name);
    if (!home) return;
    const pool = await home.c.lookupPool(poolName);
    const vol = await orAbsent(home.c.lookupVolume(pool, volume));
    // Nothing is detached or deleted that is not provably this VirtualDisk's.
    const marked = await ownsDiskVolume(home.c, home.host, pool, volume, want, !!vol);
    const current = vol ? await this.attachment(volume) : undefined;
    if (current) {
      if (!current.parsed.owner) throw new RefusedError(`disk ${volume} is attached to ${current.parsed.name}, which virtkeeper does not manage; it is not detached or deleted`);
      if (!(await this.detach(current, poolName, volume))) throw new ProviderTransientError(`waiting for the guest of ${current.parsed.name} to release disk ${volume}`);
    }
    if (vol) await home.c.deleteVolume(vol);
    if (marked) await deleteDiskOwner(home.c, pool, want.name);
  }

  /** Reads, never writes: where the disk is, whose it is, where it is attached and should be. */
  private async survey(want: DesiredStandaloneDisk): Promise<Survey | Blocked> {
    const volume = volumeOf(want);
    const poolName = want.storage ?? this.ctx.pool;
    const target = want.attachTo ? await this.findDomain(want.attachTo) : undefined;
    if (want.attachTo && !target) return { providerID: '', exists: false, problem: `VM ${want.attachTo} does not exist (yet) on this Hypervisor` };
    if (target && !target.parsed.owner) return { providerID: '', exists: false, problem: `VM ${want.attachTo} is not managed by virtkeeper; a VirtualDisk is only attached to VMs it owns` };
    // The volume (or its owner sidecar) lives on one host: find it, or make it where it is needed.
    const home = await this.home(poolName, volume, want.name);
    if (home && target && home.host !== target.host)
      return {
        providerID: `${home.host}/${poolName}/${volume}`,
        exists: true,
        problem: `the disk lives on ${home.host} and VM ${want.attachTo} on ${target.host}; moving a disk between hosts is not supported`,
      };
    const c = home?.c ?? target?.c ?? (await this.ctx.hosts.conn(this.ctx.hosts.list[0]?.name ?? ''));
    const host = home?.host ?? target?.host ?? this.ctx.hosts.list[0]?.name ?? '';
    const pool = await c.lookupPool(poolName);
    const vol = await orAbsent(c.lookupVolume(pool, volume));
    const providerID = `${host}/${poolName}/${volume}`;
    const marked = await ownsDiskVolume(c, host, pool, volume, want, !!vol);
    const current = vol ? await this.attachment(volume) : undefined;
    if (current && current.parsed.name !== want.attachTo && !current.parsed.owner)
      return { providerID, exists: true, attachedTo: current.parsed.name, problem: `attached to ${current.parsed.name}, which virtkeeper does not manage: it is not detached` };
    const capacity = vol ? Number((await c.volumeInfo(vol)).capacity) : 0;
    return { volume, poolName, providerID, host, c, pool, capacity, marked, ...(vol ? { vol } : {}), ...(current ? { current } : {}), ...(target ? { target } : {}) };
  }

  /**
   * Where a volume is attached now, from one bulk block-stats call per host. The stats name a
   * disk's path when libvirt resolved its pool volume (running domains, devices attached
   * since the daemon started); an inactive domain's volume disks come without one, and then
   * the observation's parse of that domain answers while its device names still match the
   * stats; only a domain left in doubt has its XML read.
   */
  private async attachment(volume: string): Promise<Attached | undefined> {
    for (const host of this.ctx.hosts.list) {
      const c = await this.ctx.hosts.conn(host.name).catch(() => undefined);
      if (!c) continue;
      for (const s of await c.allDomainStats(StatsTypes.STATE | StatsTypes.BLOCK)) {
        const n = Number(s.params.get('block.count') ?? 0);
        const blocks = Array.from({ length: n }, (_, i) => ({ dev: String(s.params.get(`block.${i}.name`) ?? ''), path: s.params.get(`block.${i}.path`) }));
        const named = blocks.some((b) => typeof b.path === 'string' && (b.path === volume || b.path.endsWith(`/${volume}`)));
        if (!named && blocks.every((b) => b.path !== undefined)) continue;
        const known = named ? undefined : this.ctx.known(s.domain);
        const devs = new Set(blocks.map((b) => b.dev));
        if (known && known.disks.length + known.cdroms.length === devs.size && known.disks.every((x) => devs.has(x.dev)) && !known.disks.some((x) => x.volume === volume)) continue;
        const xml = await orAbsent(c.xmlDesc(s.domain));
        const parsed = xml ? parseDomain(xml) : undefined;
        const disk = parsed?.disks.find((x) => x.volume === volume);
        if (parsed && disk) return { host: host.name, c, d: s.domain, parsed, dev: disk.dev, running: isActive(Number(s.params.get('state.state') ?? 0)) };
      }
    }
    return undefined;
  }

  private async findDomain(name: string): Promise<Found | undefined> {
    for (const host of this.ctx.hosts.list) {
      const c = await this.ctx.hosts.conn(host.name).catch(() => undefined);
      const d = c ? await orAbsent(c.lookupDomain(name)) : undefined;
      if (c && d) return { host: host.name, c, d, parsed: parseDomain(await c.xmlDesc(d)), running: isActive((await c.state(d)).state) };
    }
    return undefined;
  }

  /** Detaches a volume; a live detach completes only when the guest lets go, so wait a little and say. */
  private async detach(at: Attached, pool: string, volume: string): Promise<boolean> {
    await at.c.detachDevice(at.d, deviceXml('disk', { '@type': 'volume', '@device': 'disk', source: { '@pool': pool, '@volume': volume }, target: { '@dev': at.dev } }), affectFlags(at.running));
    this.ctx.forget(uuidText(at.d.uuid));
    for (let i = 0; i < 20; i++) {
      if (!parseDomain(await at.c.xmlDesc(at.d)).disks.some((x) => x.volume === volume)) return true;
      await sleep(250);
    }
    return false;
  }

  /** The host holding a VirtualDisk's volume or its owner sidecar; refused while a host that may hold it cannot be asked. */
  private async home(poolName: string, volume: string, base: string): Promise<{ host: string; c: LibvirtConnection } | undefined> {
    let home: { host: string; c: LibvirtConnection } | undefined;
    for (const host of this.ctx.hosts.list) {
      const c = await this.ctx.hosts.conn(host.name).catch(() => undefined);
      if (!c) throw new ProviderTransientError(`cannot reach host ${host.name}, which may hold disk ${volume}; the disk is handled once every host answers`);
      const pool = await orAbsent(c.lookupPool(poolName));
      if (!pool) continue;
      const has = (name: string) => exists(c.lookupVolume(pool, name));
      if (await has(volume)) return { host: host.name, c };
      if (!home && (await has(ownerVolumeName(base)))) home = { host: host.name, c };
    }
    return home;
  }
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
