// The libvirt provider: a Hypervisor lists hosts, each a placement node. Observation is one
// list-all-domains and one bulk stats call per host; a domain's XML is read only when it is
// new or its stats changed. Lifecycle events wake the reconciler at once.
import type { FlatProviderClient } from '../flat-client.ts';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Target, VMAction } from '../../controller/core/actions.ts';
import { isVkError, ProviderNotFoundError, ProviderTransientError, RefusedError } from '../../controller/core/errors.ts';
import type { Capabilities, DesiredVM, Observation, ObservedNode, ObservedVM, PowerState } from '../../controller/core/model.ts';
import type { HypervisorSpec } from '../../controller/api/types.ts';
import {
  formatOwner,
  sameOwner,
  type ActionContext,
  type DesiredNetwork,
  type DesiredStandaloneDisk,
  type DiskState,
  type NetworkState,
  type Progress,
  type TemplateFacts,
} from '../../controller/core/provider.ts';
import { deleteHostNetwork, ensureHostNetwork } from './networks.ts';
import { importTemplate, inspectTemplate, templateFromVM, templateOn, type TemplateHost } from './templates.ts';
import { buildSeedIso, seedFiles, wantsSeed } from './cloud-init.ts';
import {
  BUS,
  NS,
  deviceXml,
  diskXml,
  domainXml,
  nicXml,
  ownedVolumes,
  parseDomain,
  seedVolumeName,
  targetDev,
  volumeName,
  volumeXml,
  VOLUMES_KEY,
  VOLUMES_NS,
  volumesRecordXml,
  type DomainSpec,
  type OwnedVolume,
  type ParsedDomain,
} from './domain-xml.ts';
import { assertTemplateVolume, hostClaims, STANDALONE, volumesOwnedBy } from './ownership.ts';
import { deleteDisk, ensureDisk, type DiskHost } from './virtual-disks.ts';
import { ownerVolumeName } from './disk-owner.ts';
import { LibvirtConnection, type NodeInfo } from './rpc/connection.ts';
import { AffectFlags, DomainState, LibvirtError, MemoryFlags, MetadataType, StatsTypes, UndefineFlags, VcpuFlags, exists, orAbsent, type Domain, type StoragePool } from './rpc/protocol.ts';
import type { TransportPolicy } from './rpc/uri.ts';
import { migrationRequest } from './migrate-params.ts';

export interface LibvirtProviderOptions {
  hosts: { name: string; uri: string }[];
  logger: Logger;
  defaults?: { storagePool?: string; network?: string };
  migration?: HypervisorSpec['migration'];
  /** spec.tls: a CA bundle for TLS hosts, and whether checks may be skipped (never by a URI alone). */
  tls?: TransportPolicy;
  /** `kvm` or `qemu` (TCG); by default kvm when /dev/kvm exists here or VK_LIBVIRT_DOMAIN_TYPE says. */
  domainType?: 'kvm' | 'qemu';
}

interface Cached {
  signature: string;
  parsed: ParsedDomain;
  /** The persistent configuration: its currentMemory is what was asked, which a guest without a balloon driver never reports back. */
  config: ParsedDomain;
  autostart: boolean;
  pending?: { vcpus?: number; memoryKiB?: number };
}

const uuidText = (b: Buffer) => b.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
const POWER: Record<number, PowerState> = {
  [DomainState.RUNNING]: 'running',
  [DomainState.BLOCKED]: 'running',
  [DomainState.PAUSED]: 'paused',
  [DomainState.SHUTDOWN]: 'stopping',
  [DomainState.SHUTOFF]: 'stopped',
  [DomainState.CRASHED]: 'stopped',
  [DomainState.PMSUSPENDED]: 'paused',
};
/** A disk is the VM's own when its record lists the volume (before records: when it is not a VirtualDisk's). */
const ownsDisk = (p: ParsedDomain, volume: string) => (p.owned ? p.owned.some((v) => v.name === volume) : !volume.startsWith(STANDALONE));
const STATS = StatsTypes.STATE | StatsTypes.BALLOON | StatsTypes.VCPU | StatsTypes.BLOCK;

/** The addresses a guest agent reports, loopback and link-local left out, IPv4 first. */
export function guestAddresses(agentReply: string | undefined): string[] {
  type Iface = { name?: string; 'ip-addresses'?: { 'ip-address': string; 'ip-address-type': string }[] };
  const ifaces = ((JSON.parse(agentReply ?? '{}') as { return?: Iface[] }).return ?? []).filter((i) => i.name !== 'lo');
  const all = ifaces.flatMap((i) => i['ip-addresses'] ?? []).filter((a) => !/^(127\.|::1$|fe80:)/i.test(a['ip-address']));
  return [...all.filter((a) => a['ip-address-type'] === 'ipv4'), ...all.filter((a) => a['ip-address-type'] !== 'ipv4')].map((a) => a['ip-address']);
}

export class LibvirtProvider implements FlatProviderClient {
  readonly capabilities: Capabilities = {
    liveCpu: true,
    liveCpuDecrease: false,
    liveCpuSocketsOnly: false,
    cpuTopology: false,
    liveMemory: true,
    liveMigration: true,
    diskGrow: true,
    liveDiskAttach: true,
    guestAgent: true,
    linkedClone: true,
    listsTemplates: false,
  };
  private readonly conns = new Map<string, Promise<LibvirtConnection>>();
  /** Set by close(): connections closing then are not news worth a warning. */
  private closing = false;
  private readonly cache = new Map<string, Cached>();
  private readonly nodeInfo = new Map<string, NodeInfo>();
  private readonly listeners = new Set<(ids: string[]) => void>();
  private readonly ips = new Map<string, { at: number; list: string[] }>();
  private readonly ipFetching = new Set<string>();
  private readonly o: LibvirtProviderOptions;
  private readonly type: 'kvm' | 'qemu';

  constructor(options: LibvirtProviderOptions) {
    this.o = options;
    const env = process.env.VK_LIBVIRT_DOMAIN_TYPE;
    this.type = options.domainType ?? (env === 'qemu' || env === 'kvm' ? env : existsSync('/dev/kvm') ? 'kvm' : 'qemu');
  }

  private pool(): string {
    return this.o.defaults?.storagePool ?? 'default';
  }

  /** The connection to a host, reconnecting after a daemon restart. */
  async conn(host: string): Promise<LibvirtConnection> {
    const existing = this.conns.get(host);
    if (existing) {
      const c = await existing.catch(() => undefined);
      if (c && !c.isClosed) return c;
      this.conns.delete(host);
    }
    const h = this.o.hosts.find((x) => x.name === host);
    if (!h) throw new ProviderNotFoundError(`no host ${host} in this Hypervisor`);
    const p = LibvirtConnection.connect(h.uri, { logger: this.o.logger, ...(this.o.tls ? { policy: this.o.tls } : {}) }).then(async (c) => {
      if (this.listeners.size > 0) await this.subscribe(c);
      c.on('close', () => {
        if (!this.closing) this.o.logger.warn({ host }, 'libvirt connection closed; reconnecting on next use');
      });
      return c;
    });
    this.conns.set(host, p);
    p.catch(() => this.conns.delete(host));
    return p;
  }

  private async subscribe(c: LibvirtConnection): Promise<void> {
    c.on('lifecycle', (e: { domain: Domain }) => {
      const id = uuidText(e.domain.uuid);
      this.cache.delete(id);
      for (const l of this.listeners) l([id]);
    });
    await c.registerLifecycleEvents();
  }

  watch(onChange: (ids: string[]) => void): () => void {
    this.listeners.add(onChange);
    for (const h of this.o.hosts)
      void this.conn(h.name)
        .then((c) => this.subscribe(c))
        .catch(() => undefined);
    return () => this.listeners.delete(onChange);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const p of this.conns.values()) await p.then((c) => c.close()).catch(() => undefined);
    this.conns.clear();
  }

  // ---- observation ---------------------------------------------------------------------

  async observe(): Promise<Observation> {
    const vms: ObservedVM[] = [];
    const nodes: ObservedNode[] = [];
    const unreachable: string[] = [];
    await Promise.all(
      this.o.hosts.map(async (h) => {
        // A host that does not answer is said so: its VMs are unknown, not gone.
        const seen = await this.observeHost(h.name).catch((e: unknown) => {
          // A host this Hypervisor describes wrongly (a refused URI, missing TLS files) is an error to show, not a host away.
          if (isVkError(e) && e.kind === 'invalid') throw e;
          this.o.logger.debug({ host: h.name, err: (e as Error).message }, 'libvirt host cannot be read');
          return undefined;
        });
        if (!seen) {
          nodes.push({ name: h.name, state: 'offline' });
          unreachable.push(h.name);
          return;
        }
        vms.push(...seen.vms);
        nodes.push(seen.node);
      }),
    );
    nodes.sort((a, b) => a.name.localeCompare(b.name));
    return { vms, nodes, templates: [], version: 'libvirt', ...(unreachable.length ? { unreachable: unreachable.sort() } : {}) };
  }

  private async observeHost(host: string): Promise<{ vms: ObservedVM[]; node: ObservedNode }> {
    const vms: ObservedVM[] = [];
    const c = await this.conn(host);
    const [domains, stats] = await Promise.all([c.listAllDomains(), c.allDomainStats(STATS)]);
    if (!this.nodeInfo.has(host)) this.nodeInfo.set(host, await c.nodeInfo());
    const info = this.nodeInfo.get(host);
    const byUuid = new Map(stats.map((s) => [uuidText(s.domain.uuid), s.params]));
    let usedKiB = 0;
    for (const d of domains) {
      const id = uuidText(d.uuid);
      const p = byUuid.get(id) ?? new Map();
      const state = Number(p.get('state.state') ?? DomainState.NOSTATE);
      const blocks = Number(p.get('block.count') ?? 0);
      const sizes = Array.from({ length: blocks }, (_, i) => [String(p.get(`block.${i}.name`)), Number(p.get(`block.${i}.capacity`) ?? 0)] as const);
      const signature = JSON.stringify([state, p.get('balloon.maximum'), p.get('vcpu.current'), p.get('vcpu.maximum'), sizes], (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
      let cached = this.cache.get(id);
      if (!cached || cached.signature !== signature) {
        // A domain undefined since the list is simply not there any more.
        const read = await this.readDetail(c, d, signature, state === DomainState.RUNNING).catch((e: unknown) => {
          if (e instanceof LibvirtError && e.kind === 'not-found') return undefined;
          throw e;
        });
        if (!read) continue;
        cached = read;
        this.cache.set(id, cached);
      }
      const parsed = cached.parsed;
      const running = state === DomainState.RUNNING || state === DomainState.BLOCKED || state === DomainState.PAUSED;
      const memKiB = cached.config.currentMemoryKiB;
      if (running) usedKiB += memKiB;
      const sizeOf = new Map(sizes);
      const vm: ObservedVM = {
        providerID: id,
        name: d.name,
        node: host,
        power: POWER[state] ?? 'unknown',
        cpu: { sockets: running ? Number(p.get('vcpu.current') ?? parsed.vcpuCurrent) : parsed.vcpuCurrent, cores: 1, threads: 1 },
        memoryBytes: memKiB * 1024,
        maxMemoryBytes: cached.config.maxMemoryKiB * 1024,
        disks: parsed.disks.map((x) => ({
          name: x.dev,
          sizeBytes: sizeOf.get(x.dev) || x.sizeBytes,
          ...(x.storage ? { storage: x.storage } : {}),
          ...(x.interface ? { interface: x.interface } : {}),
          ...(x.volume && !ownsDisk(parsed, x.volume) ? { standalone: true } : {}),
        })),
        nics: parsed.nics,
        isTemplate: false,
        ipAddresses: running ? (this.ips.get(id)?.list ?? []) : [],
        autostart: cached.autostart,
        pendingRestart: !!cached.pending,
        // A create cut short, or still under way: the planner finishes it (see create()) or deletes it.
        ...(parsed.creating ? { incomplete: true, busy: 'creating' } : {}),
      };
      if (cached.pending)
        vm.pending = {
          ...(cached.pending.vcpus ? { cpu: { sockets: cached.pending.vcpus, cores: 1, threads: 1 } } : {}),
          ...(cached.pending.memoryKiB ? { memoryBytes: cached.pending.memoryKiB * 1024 } : {}),
        };
      if (parsed.owner) vm.owner = parsed.owner;
      if (!running) this.ips.delete(id);
      else if (parsed.guestAgent) this.fetchIPs(c, d, id);
      vms.push(vm);
    }
    return {
      vms,
      node: { name: host, state: 'online', ...(info ? { cpus: info.cpus, memoryBytes: Number(info.memoryKiB) * 1024 } : {}), memoryUsedBytes: usedKiB * 1024, vms: domains.length },
    };
  }

  /**
   * Guest addresses from the agent, fetched in the background (observation never waits on a
   * guest) at most every 30 s per domain; a change wakes the domain's reconcile.
   */
  private fetchIPs(c: LibvirtConnection, d: Domain, id: string): void {
    const known = this.ips.get(id);
    if (this.ipFetching.has(id) || (known && Date.now() - known.at < 30_000)) return;
    this.ipFetching.add(id);
    void c
      .agentCommand(d, JSON.stringify({ execute: 'guest-network-get-interfaces' }), 2)
      .then((text) => {
        const list = guestAddresses(text);
        const changed = JSON.stringify(list) !== JSON.stringify(known?.list ?? []);
        this.ips.set(id, { at: Date.now(), list });
        if (changed) for (const l of this.listeners) l([id]);
      })
      .catch(() => this.ips.set(id, { at: Date.now() - 20_000, list: known?.list ?? [] })) // no agent yet: try again in 10 s
      .finally(() => this.ipFetching.delete(id));
  }

  private async readDetail(c: LibvirtConnection, d: Domain, signature: string, running: boolean): Promise<Cached> {
    const [xml, autostart] = await Promise.all([c.xmlDesc(d), c.getAutostart(d)]);
    const parsed = parseDomain(xml);
    // VIR_DOMAIN_XML_INACTIVE (2): the configuration the next boot uses.
    const config = running ? parseDomain(await c.xmlDesc(d, 2)) : parsed;
    const pending: Cached['pending'] = config.vcpuCurrent !== parsed.vcpuCurrent ? { vcpus: config.vcpuCurrent } : undefined;
    if (!running) {
      // An inactive domain has no block stats: its volumes tell their capacity.
      for (const disk of parsed.disks) {
        if (!disk.volume) continue;
        const pool = await c.lookupPool(disk.pool ?? this.pool()).catch(() => undefined);
        const vol = pool ? await c.lookupVolume(pool, disk.volume).catch(() => undefined) : undefined;
        if (vol) disk.sizeBytes = Number((await c.volumeInfo(vol)).capacity);
      }
    }
    return { signature, parsed, config, autostart, ...(pending ? { pending } : {}) };
  }

  // ---- actions -------------------------------------------------------------------------

  /** Finds a domain by UUID on whichever host has it now. */
  private async locate(target: Target): Promise<{ c: LibvirtConnection; d: Domain; host: string; parsed: ParsedDomain; running: boolean }> {
    const uuid = Buffer.from(target.providerID.replace(/-/g, ''), 'hex');
    const order = [...(target.node ? [target.node] : []), ...this.o.hosts.map((h) => h.name).filter((n) => n !== target.node)];
    const silent: string[] = [];
    for (const host of order) {
      const c = await this.conn(host).catch(() => undefined);
      if (!c) {
        silent.push(host);
        continue;
      }
      try {
        const d = await c.lookupDomainByUUID(uuid);
        const { state } = await c.state(d);
        return { c, d, host, parsed: parseDomain(await c.xmlDesc(d)), running: state === DomainState.RUNNING || state === DomainState.PAUSED || state === DomainState.BLOCKED };
      } catch (e) {
        if (!(e instanceof LibvirtError && e.kind === 'not-found')) throw e;
      }
    }
    // Not found while a host did not answer is not "gone": a delete must not count it done.
    if (silent.length) throw new ProviderTransientError(`domain ${target.name} (${target.providerID}) is on none of the hosts that answer; ${silent.join(', ')} did not`);
    throw new ProviderNotFoundError(`domain ${target.name} (${target.providerID}) is on no host of this Hypervisor`);
  }

  async execute(action: VMAction, ctx: ActionContext = {}): Promise<void> {
    if (action.type === 'create') return this.create(action.vm, action.node, ctx, action.resume);
    let loc: Awaited<ReturnType<LibvirtProvider['locate']>>;
    try {
      loc = await this.locate(action.target);
    } catch (e) {
      if (action.type === 'delete' && e instanceof ProviderNotFoundError) return;
      throw e;
    }
    const { c, d, parsed, running } = loc;
    if (action.type !== 'adopt' && action.type !== 'start' && !(action.target.owner && sameOwner(parsed.owner, action.target.owner))) {
      throw new RefusedError(`domain ${action.target.name} is not owned by this resource; virtkeeper never changes a VM it did not create`);
    }
    this.cache.delete(action.target.providerID);
    const affect = running ? AffectFlags.LIVE | AffectFlags.CONFIG : AffectFlags.CONFIG;
    switch (action.type) {
      case 'adopt':
        throw new RefusedError('adopting an existing libvirt domain is not supported yet');
      case 'mark':
        // Our <metadata> element, replaced in place (live and in the persistent definition).
        await c.setMetadataElement(d, `<owner>${formatOwner(action.owner).replace(/[<>&]/g, '')}</owner>`, 'vk', NS, affect);
        return;
      case 'start':
        if (!running) await c.create(d);
        return;
      case 'stop':
        if (running) await c.destroy(d);
        return;
      case 'restart':
        if (running) await c.destroy(d);
        await c.create(d);
        return;
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
      case 'growDisk': {
        const disk = parsed.disks.find((x) => x.dev === action.disk) ?? parsed.disks[action.index];
        if (!disk) throw new ProviderNotFoundError(`domain ${action.target.name} has no disk ${action.disk}`);
        if (running) await c.blockResize(d, disk.dev, action.sizeBytes);
        else {
          const vol = await c.lookupVolume(await c.lookupPool(disk.pool ?? this.pool()), disk.volume ?? '');
          const info = await c.volumeInfo(vol);
          if (Number(info.capacity) < action.sizeBytes) await c.resizeVolume(vol, action.sizeBytes);
        }
        return;
      }
      case 'attachDisk': {
        const poolName = action.disk.storage ?? this.pool();
        const pool = await c.lookupPool(poolName);
        const name = volumeName(parsed.name, action.disk.name);
        const owned = parsed.owned ?? volumesOwnedBy(parsed, await hostClaims(c, this.pool()), this.pool());
        const recorded = owned.some((v) => v.pool === poolName && v.name === name);
        const existing = await orAbsent(c.lookupVolume(pool, name));
        if (existing && !recorded)
          throw new RefusedError(
            `volume ${name} already exists in pool ${poolName} and VM ${parsed.name} does not record it as its own; virtkeeper never takes a volume it cannot prove it made: remove or rename that volume, or rename the disk`,
          );
        // Recorded first: a crash before the attach leaves a volume the record names, never an unowned one.
        if (!recorded) await this.writeVolumesRecord(c, d, [...owned, { pool: poolName, name }], running);
        if (!existing) await c.createVolume(pool, volumeXml(name, action.disk.sizeBytes));
        const bus = BUS[action.disk.interface] ?? 'virtio';
        const used = parsed.disks.filter((x) => (BUS[x.interface ?? 'virtio'] ?? x.interface) === bus || x.interface === bus).length;
        const xml = diskXml(action.disk, parsed.name, action.disk.storage ?? this.pool(), used);
        await c.attachDevice(d, deviceXml('disk', { ...xml, target: { '@dev': targetDev(bus, used), '@bus': bus } }), affect);
        return;
      }
      case 'detachDisk': {
        const disk = parsed.disks.find((x) => x.dev === action.disk);
        if (!disk) return;
        await c.detachDevice(d, deviceXml('disk', { '@type': 'volume', '@device': 'disk', source: { '@pool': disk.pool, '@volume': disk.volume }, target: { '@dev': disk.dev } }), affect);
        // Only a volume the VM provably owns goes with it; anything else is just detached.
        const poolName = disk.pool ?? this.pool();
        const owned = volumesOwnedBy(parsed, await hostClaims(c, this.pool()), this.pool());
        if (disk.volume && owned.some((v) => v.pool === poolName && v.name === disk.volume)) {
          const vol = await orAbsent(c.lookupVolume(await c.lookupPool(poolName), disk.volume));
          if (vol) await c.deleteVolume(vol);
          if (parsed.owned)
            await this.writeVolumesRecord(
              c,
              d,
              parsed.owned.filter((v) => !(v.pool === poolName && v.name === disk.volume)),
              running,
            );
        }
        return;
      }
      case 'attachNic':
      case 'updateNic': {
        const have = parsed.nics[action.index];
        if (have) await c.detachDevice(d, deviceXml('interface', { '@type': 'bridge', ...(have.mac ? { mac: { '@address': have.mac } } : {}), source: { '@bridge': have.network } }), affect);
        await c.attachDevice(d, deviceXml('interface', nicXml({ ...action.nic, ...(have?.mac && !action.nic.mac ? { mac: have.mac } : {}) }, this.o.defaults?.network ?? 'br0')), affect);
        return;
      }
      case 'detachNic': {
        const have = parsed.nics.find((n) => n.name === action.nic);
        if (have) await c.detachDevice(d, deviceXml('interface', { '@type': 'bridge', ...(have.mac ? { mac: { '@address': have.mac } } : {}), source: { '@bridge': have.network } }), affect);
        return;
      }
      case 'migrate':
        return this.migrate(c, d, loc.host, action.to, running, ctx, parsed);
      case 'setAutostart':
        await c.setAutostart(d, action.enabled);
        return;
      case 'delete': {
        if (running) await c.destroy(d);
        // Only the volumes the VM's record names go with it (VirtualDisks, templates and other VMs' volumes stay).
        const owned = volumesOwnedBy(parsed, await hostClaims(c, this.pool()), this.pool());
        await c.undefine(d, UndefineFlags.MANAGED_SAVE | UndefineFlags.SNAPSHOTS_METADATA | UndefineFlags.NVRAM);
        await this.deleteVolumes(c, owned);
        return;
      }
    }
  }

  /** The domain's record of its own volumes, rewritten (live too when it runs). */
  private async writeVolumesRecord(c: LibvirtConnection, d: Domain, owned: OwnedVolume[], running: boolean): Promise<void> {
    await c.setMetadata(d, MetadataType.ELEMENT, volumesRecordXml(owned), VOLUMES_KEY, VOLUMES_NS, running ? AffectFlags.LIVE | AffectFlags.CONFIG : AffectFlags.CONFIG);
    this.cache.delete(uuidText(d.uuid));
  }

  private async deleteVolumes(c: LibvirtConnection, owned: OwnedVolume[]): Promise<void> {
    for (const v of owned) {
      const pool = await orAbsent(c.lookupPool(v.pool));
      const vol = pool ? await orAbsent(c.lookupVolume(pool, v.name)) : undefined;
      if (vol) await c.deleteVolume(vol);
    }
  }

  /** The VLAN's libvirt network on every host the binding lists (all hosts by default). */
  async ensureNetwork(n: DesiredNetwork): Promise<NetworkState> {
    const hosts = n.nodes?.length ? n.nodes : this.o.hosts.map((h) => h.name);
    const results: NetworkState[] = [];
    for (const host of hosts) {
      if (!this.o.hosts.some((h) => h.name === host)) {
        results.push({ present: false, providerIDs: [], message: `host ${host} is not a host of this Hypervisor` });
        continue;
      }
      results.push(await ensureHostNetwork(await this.conn(host), host, n));
    }
    const missing = results.filter((r) => !r.present);
    return { present: missing.length === 0, providerIDs: results.flatMap((r) => r.providerIDs), ...(missing.length ? { message: missing.map((r) => r.message).join('; ') } : {}) };
  }

  async deleteNetwork(n: DesiredNetwork): Promise<void> {
    for (const host of n.nodes?.length ? n.nodes : this.o.hosts.map((h) => h.name)) {
      if (this.o.hosts.some((h) => h.name === host)) await deleteHostNetwork(await this.conn(host), host, n);
    }
  }

  private templateHost(): TemplateHost {
    return { hosts: this.o.hosts, logger: this.o.logger, ...(this.o.tls ? { policy: this.o.tls } : {}), pool: () => this.pool(), conn: (h) => this.conn(h), locate: (t) => this.locate(t) };
  }

  inspectTemplate(name: string): Promise<TemplateFacts> {
    return inspectTemplate(this.templateHost(), name);
  }

  importTemplate(name: string, image: string, options: { storage?: string; onProgress?: (p: Progress) => void } = {}): Promise<TemplateFacts> {
    return importTemplate(this.templateHost(), name, image, options);
  }

  templateFromVM(target: Target, name: string, options: { storage?: string; onProgress?: (p: Progress) => void } = {}): Promise<TemplateFacts> {
    return templateFromVM(this.templateHost(), target, name, options);
  }

  ensureDisk(want: DesiredStandaloneDisk): Promise<DiskState> {
    return ensureDisk(this.diskHost(), want);
  }

  deleteDisk(want: DesiredStandaloneDisk): Promise<void> {
    return deleteDisk(this.diskHost(), want);
  }

  private diskHost(): DiskHost {
    return { hosts: this.o.hosts, pool: () => this.pool(), conn: (h) => this.conn(h), forget: (uuid) => this.cache.delete(uuidText(uuid)) };
  }

  async exec(target: Target, command: string[], options: { input?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const { c, d, parsed } = await this.locate(target);
    // Nothing runs in a domain whose marker does not name this resource.
    if (!target.owner || !sameOwner(parsed.owner, target.owner)) throw new RefusedError(`domain ${target.name} (${target.providerID}) is not owned by this resource; nothing is run in it`);
    const [path, ...arg] = command;
    const started = await c.agentCommand(
      d,
      JSON.stringify({
        execute: 'guest-exec',
        arguments: { path, arg, 'capture-output': true, ...(options.input !== undefined ? { 'input-data': Buffer.from(options.input).toString('base64') } : {}) },
      }),
    );
    const pid = (JSON.parse(started ?? '{}') as { return?: { pid?: number } }).return?.pid;
    if (pid === undefined) throw new ProviderTransientError('the guest agent did not start the command');
    const t0 = Date.now();
    for (;;) {
      options.signal?.throwIfAborted();
      const st = (
        JSON.parse((await c.agentCommand(d, JSON.stringify({ execute: 'guest-exec-status', arguments: { pid } }))) ?? '{}') as {
          return?: { exited?: boolean; exitcode?: number; 'out-data'?: string; 'err-data'?: string };
        }
      ).return;
      if (st?.exited) {
        const b64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');
        return { exitCode: st.exitcode ?? 0, stdout: b64(st['out-data']), stderr: b64(st['err-data']) };
      }
      if (options.timeoutMs && Date.now() - t0 > options.timeoutMs) throw new ProviderTransientError(`command still running in ${target.name} after ${options.timeoutMs} ms (pid ${pid})`);
      await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(50, (Date.now() - t0) / 10))));
    }
  }

  private async migrate(c: LibvirtConnection, d: Domain, from: string, to: string, running: boolean, ctx: ActionContext, parsed: ParsedDomain): Promise<void> {
    if (from === to) return;
    const dest = this.o.hosts.find((h) => h.name === to);
    if (!dest) throw new ProviderNotFoundError(`no host ${to} in this Hypervisor`);
    if (!running) throw new RefusedError('a stopped libvirt domain is moved by redefining it on the other host, which is not supported yet; start it or pin it back');
    const shared = this.o.migration?.sharedStorage ?? false;
    // Shared storage: the destination opens the very files, but its daemon knows a pool's volumes
    // only as of its last refresh; one made since (on the source) is "not found" there until then.
    if (shared) await this.refreshPoolsOn(to, parsed);
    const { flags, params } = migrationRequest({ sourceURI: this.o.hosts.find((h) => h.name === from)?.uri ?? '', destURI: dest.uri, ...(this.o.migration ? { migration: this.o.migration } : {}) });
    const done = c.migratePerform3Params(d, dest.uri, params, flags);
    let finished = false;
    void done
      .finally(() => {
        finished = true;
      })
      .catch(() => undefined);
    while (!finished) {
      await new Promise((r) => setTimeout(r, 250));
      if (finished) break;
      const job = await c.jobInfo(d).catch(() => undefined);
      if (job && job.dataTotal > 0n) ctx.onProgress?.({ percent: Math.min(99, Number((job.dataProcessed * 100n) / job.dataTotal)), message: `migrating to ${to}` });
    }
    await done;
    if (!shared) {
      // The disks were copied: the source's copies of this VM's own volumes are now garbage.
      const owned = volumesOwnedBy(parsed, await hostClaims(c, this.pool()), this.pool());
      await this.deleteVolumes(c, owned).catch((e: unknown) => this.o.logger.warn({ vm: parsed.name, err: (e as Error).message }, 'could not remove the source copies after migration'));
    }
    ctx.onProgress?.({ percent: 100, message: `running on ${to}` });
  }

  /** Refreshes, on a host, every pool holding one of the domain's volumes (disks and seed). */
  private async refreshPoolsOn(host: string, parsed: ParsedDomain): Promise<void> {
    const c = await this.conn(host);
    const pools = new Set([...parsed.disks.flatMap((x) => (x.pool ? [x.pool] : [])), ...(parsed.owned ?? []).map((v) => v.pool)]);
    for (const name of pools) {
      const pool = await orAbsent(c.lookupPool(name));
      if (!pool) throw new ProviderNotFoundError(`storage pool ${name} is not defined on ${host}; with migration.sharedStorage: true every host needs the same pool on the shared storage`);
      await c.refreshPool(pool);
    }
  }

  /**
   * Makes a VM, crash-safe and without taking anything it cannot prove is its own: the domain
   * is defined first with a record of the volumes it will own, marked `creating` (observed as
   * incomplete); then the volumes the record lists are made; then the mark goes. A
   * create cut short is finished where it began by the next create, which trusts only the
   * volumes that record names; a volume of one of those names already there otherwise is
   * someone else's and refused.
   */
  private async create(vm: DesiredVM, node: string | undefined, ctx: ActionContext, pending?: Target): Promise<void> {
    let resume: { host: string; c: LibvirtConnection; parsed: ParsedDomain } | undefined;
    for (const h of this.o.hosts) {
      const c = await this.conn(h.name).catch(() => undefined);
      // A host that cannot be asked may hold this VM: never make a second one.
      if (!c) throw new ProviderTransientError(`cannot reach host ${h.name} to check that no domain named ${vm.name} is there; VM ${vm.name} is created once every host answers`);
      const d = await c.lookupDomain(vm.name).catch((e: unknown) => {
        if (e instanceof LibvirtError && e.kind === 'not-found') return undefined;
        throw e;
      });
      if (!d) continue;
      const parsed = parseDomain(await c.xmlDesc(d));
      // An unmarked domain is ours only as the VM the reconciler's pending-create record points
      // at (a definition made by other means): it gets its marker, nothing else.
      if (!parsed.owner && pending?.providerID === uuidText(d.uuid)) {
        const { state } = await c.state(d);
        const running = state === DomainState.RUNNING || state === DomainState.PAUSED || state === DomainState.BLOCKED;
        await c.setMetadataElement(d, `<owner>${formatOwner(vm.owner).replace(/[<>&]/g, '')}</owner>`, 'vk', NS, running ? AffectFlags.LIVE | AffectFlags.CONFIG : AffectFlags.CONFIG);
        this.cache.delete(pending.providerID);
        return;
      }
      if (!sameOwner(parsed.owner, vm.owner)) throw new RefusedError(`a domain named ${vm.name} exists on ${h.name} and is not owned by ${vm.key}`);
      if (!parsed.creating) return;
      resume = { host: h.name, c, parsed };
      break;
    }
    const host = resume?.host ?? node ?? this.o.hosts[0]?.name;
    if (!host) throw new ProviderNotFoundError('this Hypervisor lists no hosts');
    const c = resume?.c ?? (await this.conn(host));
    const vcpus = vm.cpu.sockets * vm.cpu.cores * vm.cpu.threads;
    const spec: DomainSpec = {
      vm,
      type: this.type,
      pool: this.pool(),
      bridge: this.o.defaults?.network ?? 'br0',
      maxVcpus: Math.max(8, vcpus * 2),
      uuid: resume?.parsed.uuid ?? randomUUID(),
      ...(wantsSeed(vm) ? { seedVolume: seedVolumeName(vm.name) } : {}),
    };
    const proven = new Set((resume?.parsed.owned ?? []).map((v) => `${v.pool}/${v.name}`));
    const owned = ownedVolumes(spec);
    const present = new Set<string>();
    for (const v of owned) {
      const pool = await c.lookupPool(v.pool);
      if (!(await exists(c.lookupVolume(pool, v.name)))) continue;
      if (!proven.has(`${v.pool}/${v.name}`)) {
        throw new RefusedError(
          `volume ${v.name} already exists in pool ${v.pool} on ${host} and no virtkeeper VM records it as its own; virtkeeper never takes a volume it cannot prove it made: remove or rename that volume, or give the VM another name`,
        );
      }
      present.add(v.name);
    }
    const boot = vm.disks[0];
    const bootPool = boot ? await c.lookupPool(boot.storage ?? this.pool()) : undefined;
    if (vm.template && boot && bootPool && !present.has(volumeName(vm.name, boot.name))) await this.assertTemplate(host, c, bootPool, vm.template);
    ctx.onProgress?.({ message: `defining ${vm.name} on ${host}` });
    await c.defineXML(domainXml({ ...spec, creating: true }));
    for (const disk of vm.disks) {
      const pool = await c.lookupPool(disk.storage ?? this.pool());
      const name = volumeName(vm.name, disk.name);
      if (present.has(name)) continue;
      let backing: { path: string; format: string } | undefined;
      if (vm.template && disk === boot) {
        const tpl = await templateOn(this.templateHost(), host, c, pool, vm.template, ctx);
        backing = { path: await c.volumePath(tpl), format: 'qcow2' };
      }
      await c.createVolume(pool, volumeXml(name, disk.sizeBytes, backing));
    }
    if (spec.seedVolume) {
      // The NoCloud seed goes up through an RPC upload stream, so remote hosts work the same.
      // One left by a create cut short is this VM's (its record names it) and may be partial: made again.
      const pool = await c.lookupPool(this.pool());
      const old = present.has(spec.seedVolume) ? await orAbsent(c.lookupVolume(pool, spec.seedVolume)) : undefined;
      if (old) await c.deleteVolume(old);
      const iso = await buildSeedIso(seedFiles(vm));
      const vol = await c.createVolume(pool, volumeXml(spec.seedVolume, iso.length, undefined, 'raw'));
      await c.uploadVolume(vol, iso);
    }
    const d = await c.defineXML(domainXml(spec));
    this.cache.delete(uuidText(d.uuid));
    if (vm.autostart) await c.setAutostart(d, true);
    ctx.onProgress?.({ percent: 100, message: `${vm.name} is ${uuidText(d.uuid)}` });
  }

  /** The backing file of a clone must be a template volume, never a VM's or a VirtualDisk's (see ownership.ts). */
  private async assertTemplate(host: string, here: LibvirtConnection, herePool: StoragePool, template: string): Promise<void> {
    const name = `${template}.qcow2`;
    // Checked where it is: on this host, or on the first host it is copied from.
    const home = this.o.hosts[0]?.name;
    const there = await exists(here.lookupVolume(herePool, name));
    const c = there || !home || home === host ? here : await this.conn(home);
    const pool = there || c === here ? herePool : await orAbsent(c.lookupPool(herePool.name));
    // No such pool on the template's home host: no template there either, and the clone fails on its own.
    if (!pool) return;
    const claims = await hostClaims(c, this.pool(), (d) => this.cache.get(uuidText(d.uuid))?.parsed);
    const hasOwner = await exists(c.lookupVolume(pool, ownerVolumeName(template)));
    assertTemplateVolume(claims, pool.name, name, hasOwner);
  }
}
