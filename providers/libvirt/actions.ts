// The VM actions of a plan on libvirt: every one but create (create.ts) finds the domain on
// its host and proves it the resource's before it changes anything.
import type { VMAction } from '../../controller/core/actions.ts';
import { ProviderNotFoundError, RefusedError } from '../../controller/core/errors.ts';
import { sameOwner, type ActionContext, type VMClient } from '../../controller/core/provider.ts';
import type { Observation } from '../../controller/core/model.ts';
import type { MigrationProgress, Target } from '../../controller/core/provider.ts';
import { MigrationFollower } from '../kit/index.ts';
import type { LibvirtContext } from './context.ts';
import { create } from './create.ts';
import { deviceXml, nicXml, NS, ownerElementXml, type ParsedDomain } from './domain-xml.ts';
import type { Located } from './hosts.ts';
import { migrationRequest } from './migrate-params.ts';
import { migrationsOf, readMigrations } from './migration-progress.ts';
import type { DomainObserver } from './observe.ts';
import { hostClaims, volumesOwnedBy } from './ownership.ts';
import { AffectFlags, MemoryFlags, MetadataType, orAbsent, UndefineFlags, VcpuFlags } from './rpc/protocol.ts';
import { affectFlags, attachDisk, deleteVolumes, detachDisk, growDisk } from './vm-disks.ts';

const bridgeNic = (have: ParsedDomain['nics'][number]) => deviceXml('interface', { '@type': 'bridge', ...(have.mac ? { mac: { '@address': have.mac } } : {}), source: { '@bridge': have.network } });

export class LibvirtVMs implements VMClient {
  private readonly ctx: LibvirtContext;
  private readonly observer: DomainObserver;
  private readonly now: () => number;
  /** Every migration off a host is followed with one round of job-info calls per tick. */
  readonly follower: MigrationFollower;

  constructor(ctx: LibvirtContext, observer: DomainObserver, o: { now?: () => number; progressMs?: number } = {}) {
    this.ctx = ctx;
    this.observer = observer;
    this.now = o.now ?? Date.now;
    this.follower = new MigrationFollower({ read: (host, ids) => readMigrations(ctx.hosts, host, ids, this.now), ...(o.progressMs ? { minMs: o.progressMs, maxMs: o.progressMs } : {}) });
  }

  migrations(targets: readonly Target[]): Promise<ReadonlyMap<string, MigrationProgress>> {
    return migrationsOf(this.ctx.hosts, targets, this.now);
  }

  observe(): Promise<Observation> {
    return this.observer.observe();
  }

  async execute(action: VMAction, actx: ActionContext = {}): Promise<void> {
    if (action.type === 'create') return create(this.ctx, action.vm, { node: action.node, actx, ...(action.resume ? { pending: action.resume } : {}) });
    let loc: Located;
    try {
      loc = await this.ctx.hosts.locate(action.target);
    } catch (e) {
      if (action.type === 'delete' && e instanceof ProviderNotFoundError) return;
      throw e;
    }
    const { c, d, parsed, running } = loc;
    if (action.type !== 'adopt' && action.type !== 'start' && !(action.target.owner && sameOwner(parsed.owner, action.target.owner))) {
      throw new RefusedError(`domain ${action.target.name} is not owned by this resource; virtkeeper never changes a VM it did not create`);
    }
    this.ctx.forget(action.target.providerID);
    const affect = affectFlags(running);
    switch (action.type) {
      case 'adopt':
        throw new RefusedError('adopting an existing libvirt domain is not supported yet');
      case 'mark':
        // Our <metadata> element, replaced in place (live and in the persistent definition).
        return c.setMetadata(d, { type: MetadataType.ELEMENT, xml: ownerElementXml(action.owner), key: 'vk', uri: NS, flags: affect });
      case 'start':
        if (!running) await c.create(d);
        return;
      case 'stop':
        if (running) await c.destroy(d);
        return;
      case 'restart':
        if (running) await c.destroy(d);
        return c.create(d);
      case 'reconfigure': {
        const flags = action.mode === 'live' ? AffectFlags.LIVE | AffectFlags.CONFIG : AffectFlags.CONFIG;
        if (action.maxMemoryBytes) await c.setMemory(d, Math.ceil(action.maxMemoryBytes / 1024), AffectFlags.CONFIG | MemoryFlags.MAXIMUM);
        if (action.cpu) {
          const n = action.cpu.sockets * action.cpu.cores * action.cpu.threads;
          if (n > parsed.vcpuMax) await c.setVcpus(d, n, AffectFlags.CONFIG | VcpuFlags.MAXIMUM);
          await c.setVcpus(d, n, flags);
        }
        if (action.memoryBytes) {
          const kib = Math.ceil(action.memoryBytes / 1024);
          if (kib > parsed.maxMemoryKiB && action.mode !== 'live') await c.setMemory(d, kib, AffectFlags.CONFIG | MemoryFlags.MAXIMUM);
          await c.setMemory(d, kib, flags);
        }
        return;
      }
      case 'growDisk':
        return growDisk(this.ctx, loc, action);
      case 'attachDisk':
        return attachDisk(this.ctx, loc, action);
      case 'detachDisk':
        return detachDisk(this.ctx, loc, action);
      case 'attachNic':
      case 'updateNic': {
        const have = parsed.nics[action.index];
        if (have) await c.detachDevice(d, bridgeNic(have), affect);
        return c.attachDevice(d, deviceXml('interface', nicXml({ ...action.nic, ...(have?.mac && !action.nic.mac ? { mac: have.mac } : {}) }, this.ctx.bridge)), affect);
      }
      case 'detachNic': {
        const have = parsed.nics.find((n) => n.name === action.nic);
        if (have) await c.detachDevice(d, bridgeNic(have), affect);
        return;
      }
      case 'migrate':
        return this.migrate(loc, action.to, actx);
      case 'setAutostart':
        return c.setAutostart(d, action.enabled);
      case 'delete': {
        if (running) await c.destroy(d);
        // Only the volumes the VM's record names go with it (VirtualDisks, templates and other VMs' volumes stay).
        const owned = volumesOwnedBy(parsed, await hostClaims(c, this.ctx.pool), this.ctx.pool);
        await c.undefine(d, UndefineFlags.MANAGED_SAVE | UndefineFlags.SNAPSHOTS_METADATA | UndefineFlags.NVRAM);
        return deleteVolumes(c, owned);
      }
    }
  }

  private async migrate({ c, d, host: from, parsed, running }: Located, to: string, actx: ActionContext): Promise<void> {
    if (from === to) return;
    const dest = this.ctx.hosts.entry(to);
    if (!dest) throw new ProviderNotFoundError(`no host ${to} in this Hypervisor`);
    if (!running) throw new RefusedError('a stopped libvirt domain is moved by redefining it on the other host, which is not supported yet; start it or pin it back');
    const shared = this.ctx.migration?.sharedStorage ?? false;
    // Shared storage: the destination opens the very files, but its daemon knows a pool's volumes
    // only as of its last refresh; one made since (on the source) is "not found" there until then.
    if (shared) await this.refreshPoolsOn(to, parsed);
    const { flags, params } = migrationRequest({ sourceURI: this.ctx.hosts.entry(from)?.uri ?? '', destURI: dest.uri, ...(this.ctx.migration ? { migration: this.ctx.migration } : {}) });
    await this.follower.during(from, d.uuid.toString('hex'), c.migratePerform3Params(d, dest.uri, params, flags), { to, ...(actx.onProgress ? { onProgress: actx.onProgress } : {}) });
    if (!shared) {
      // The disks were copied: the source's copies of this VM's own volumes are now garbage.
      const owned = volumesOwnedBy(parsed, await hostClaims(c, this.ctx.pool), this.ctx.pool);
      await deleteVolumes(c, owned).catch((e: unknown) => this.ctx.logger.warn({ vm: parsed.name, err: (e as Error).message }, 'could not remove the source copies after migration'));
    }
    actx.onProgress?.({ percent: 100, message: `running on ${to}` });
  }

  /** Refreshes, on a host, every pool holding one of the domain's volumes (disks and seed). */
  private async refreshPoolsOn(host: string, parsed: ParsedDomain): Promise<void> {
    const c = await this.ctx.hosts.conn(host);
    const pools = new Set([...parsed.disks.flatMap((x) => (x.pool ? [x.pool] : [])), ...(parsed.owned ?? []).map((v) => v.pool)]);
    for (const name of pools) {
      const pool = await orAbsent(c.lookupPool(name));
      if (!pool) throw new ProviderNotFoundError(`storage pool ${name} is not defined on ${host}; with migration.sharedStorage: true every host needs the same pool on the shared storage`);
      await c.refreshPool(pool);
    }
  }
}
