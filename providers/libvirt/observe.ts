// Observation: per host one list-all-domains, one bulk stats call (state, balloon, vCPUs,
// block, CPU time, interfaces) and, once, the node's info. A domain's XML is read only when it
// is new or its stats changed; usage comes from the same stats (CPU as a ratio between two
// observations); guest addresses come from the agent in the background.
import type { Logger } from 'pino';
import { isVkError } from '../../controller/core/errors.ts';
import type { Observation, ObservedNode, ObservedVM, PowerState, VMUsage } from '../../controller/core/model.ts';
import { parseDomain, type ParsedDomain } from './domain-xml.ts';
import { fetchGuestAddresses } from './guest-agent.ts';
import { isActive, uuidText, type Hosts } from './hosts.ts';
import { STANDALONE } from './ownership.ts';
import type { LibvirtConnection, NodeInfo } from './rpc/connection.ts';
import { DomainState, LibvirtError, StatsTypes, XmlFlags, type Domain, type TypedValue } from './rpc/protocol.ts';

interface Cached {
  signature: string;
  parsed: ParsedDomain;
  /** The persistent configuration: its currentMemory is what was asked, which a guest without a balloon driver never reports back. */
  config: ParsedDomain;
  autostart: boolean;
  pending?: { vcpus?: number; memoryKiB?: number };
}

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
export const STATS = StatsTypes.STATE | StatsTypes.CPU_TOTAL | StatsTypes.BALLOON | StatsTypes.VCPU | StatsTypes.INTERFACE | StatsTypes.BLOCK;

type Params = Map<string, TypedValue>;
const num = (p: Params, key: string): number | undefined => {
  const v = p.get(key);
  return v === undefined ? undefined : Number(v);
};
const sum = (p: Params, kind: 'block' | 'net', field: string): number | undefined => {
  const n = num(p, `${kind}.count`);
  if (n === undefined) return undefined;
  let total = 0;
  for (let i = 0; i < n; i++) total += num(p, `${kind}.${i}.${field}`) ?? 0;
  return total;
};

/**
 * What the bulk stats say a domain uses. CPU is the share of its vCPUs busy since the last
 * observation (none the first time, or after a restart reset the counter); memory is what the
 * guest uses when its balloon driver says, else what QEMU holds resident.
 */
export function usageOf(p: Params, previous: { cpuNs: number; at: number } | undefined, at: number, vcpus: number): VMUsage {
  const cpuNs = num(p, 'cpu.time');
  const avail = num(p, 'balloon.available');
  const unused = num(p, 'balloon.unused');
  const usedKiB = avail !== undefined && unused !== undefined ? avail - unused : (num(p, 'balloon.rss') ?? num(p, 'balloon.current'));
  const elapsedNs = previous ? (at - previous.at) * 1e6 : 0;
  const u: VMUsage = {};
  if (cpuNs !== undefined && previous && elapsedNs > 0 && cpuNs >= previous.cpuNs && vcpus > 0) u.cpuRatio = Math.min(1, (cpuNs - previous.cpuNs) / (elapsedNs * vcpus));
  if (usedKiB !== undefined) u.memoryUsedBytes = usedKiB * 1024;
  const fields = [
    ['diskReadBytes', sum(p, 'block', 'rd.bytes')],
    ['diskWriteBytes', sum(p, 'block', 'wr.bytes')],
    ['networkReceiveBytes', sum(p, 'net', 'rx.bytes')],
    ['networkTransmitBytes', sum(p, 'net', 'tx.bytes')],
  ] as const;
  for (const [k, v] of fields) if (v !== undefined) u[k] = v;
  return u;
}

export class DomainObserver {
  private readonly cache = new Map<string, Cached>();
  private readonly nodeInfo = new Map<string, NodeInfo>();
  private readonly cpu = new Map<string, { cpuNs: number; at: number }>();
  private readonly ips = new Map<string, { at: number; list: string[] }>();
  private readonly ipFetching = new Set<string>();

  private readonly o: { hosts: Hosts; logger: Logger; pool: () => string; now: () => number };

  constructor(o: { hosts: Hosts; logger: Logger; pool: () => string; now: () => number }) {
    this.o = o;
  }

  /** Bumped by forget: a detail read that began before is not cached (it may predate the change). */
  private readonly epochs = new Map<string, number>();

  /** Drops a domain's cached detail (it changed, or is about to). */
  forget(id: string): void {
    this.cache.delete(id);
    this.epochs.set(id, (this.epochs.get(id) ?? 0) + 1);
  }

  /** A domain's parsed XML as last observed, while its stats have not moved since. */
  known(d: Domain): ParsedDomain | undefined {
    return this.cache.get(uuidText(d.uuid))?.parsed;
  }

  async observe(): Promise<Observation> {
    const vms: ObservedVM[] = [];
    const nodes: ObservedNode[] = [];
    const unreachable: string[] = [];
    await Promise.all(
      this.o.hosts.list.map(async (h) => {
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
    const c = await this.o.hosts.conn(host);
    const [domains, stats] = await Promise.all([c.listAllDomains(), c.allDomainStats(STATS)]);
    const at = this.o.now();
    if (!this.nodeInfo.has(host)) this.nodeInfo.set(host, await c.nodeInfo());
    const info = this.nodeInfo.get(host);
    const byUuid = new Map(stats.map((s) => [uuidText(s.domain.uuid), s.params]));
    let usedKiB = 0;
    for (const d of domains) {
      const id = uuidText(d.uuid);
      const p: Params = byUuid.get(id) ?? new Map();
      const state = Number(p.get('state.state') ?? DomainState.NOSTATE);
      const blocks = Number(p.get('block.count') ?? 0);
      const sizes = Array.from({ length: blocks }, (_, i) => [String(p.get(`block.${i}.name`)), Number(p.get(`block.${i}.capacity`) ?? 0)] as const);
      const signature = JSON.stringify([state, p.get('balloon.maximum'), p.get('vcpu.current'), p.get('vcpu.maximum'), sizes], (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
      let cached = this.cache.get(id);
      if (!cached || cached.signature !== signature) {
        const epoch = this.epochs.get(id) ?? 0;
        // A domain undefined since the list is simply not there any more.
        const read = await this.readDetail(c, d, signature, state === DomainState.RUNNING, new Map(sizes)).catch((e: unknown) => {
          if (e instanceof LibvirtError && e.kind === 'not-found') return undefined;
          throw e;
        });
        if (!read) continue;
        cached = read;
        // An action changed the domain while this was read (a create's second define): used for this pass only.
        if ((this.epochs.get(id) ?? 0) === epoch) this.cache.set(id, cached);
      }
      const parsed = cached.parsed;
      const running = isActive(state);
      const memKiB = cached.config.currentMemoryKiB;
      if (running) usedKiB += memKiB;
      const sizeOf = new Map(sizes);
      const vcpus = running ? Number(p.get('vcpu.current') ?? parsed.vcpuCurrent) : parsed.vcpuCurrent;
      const vm: ObservedVM = {
        providerID: id,
        name: d.name,
        node: host,
        power: POWER[state] ?? 'unknown',
        cpu: { sockets: vcpus, cores: 1, threads: 1 },
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
        // A create cut short, or still under way: the planner finishes it (see create.ts) or deletes it.
        ...(parsed.creating ? { incomplete: true, busy: 'creating' } : {}),
      };
      if (running) {
        const usage = usageOf(p, this.cpu.get(id), at, vcpus);
        const cpuNs = num(p, 'cpu.time');
        if (cpuNs !== undefined) this.cpu.set(id, { cpuNs, at });
        if (Object.keys(usage).length) vm.usage = usage;
      } else this.cpu.delete(id);
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
    if (this.ipFetching.has(id) || (known && this.o.now() - known.at < 30_000)) return;
    this.ipFetching.add(id);
    void fetchGuestAddresses(c, d)
      .then((list) => {
        const changed = JSON.stringify(list) !== JSON.stringify(known?.list ?? []);
        this.ips.set(id, { at: this.o.now(), list });
        if (changed) this.o.hosts.notify([id]);
      })
      .catch(() => this.ips.set(id, { at: this.o.now() - 20_000, list: known?.list ?? [] })) // no agent yet: try again in 10 s
      .finally(() => this.ipFetching.delete(id));
  }

  private async readDetail(c: LibvirtConnection, d: Domain, signature: string, running: boolean, statSizes: Map<string, number>): Promise<Cached> {
    const [xml, autostart] = await Promise.all([c.xmlDesc(d), c.getAutostart(d)]);
    const parsed = parseDomain(xml);
    // The configuration the next boot uses.
    const config = running ? parseDomain(await c.xmlDesc(d, XmlFlags.INACTIVE)) : parsed;
    const pending: Cached['pending'] = config.vcpuCurrent !== parsed.vcpuCurrent ? { vcpus: config.vcpuCurrent } : undefined;
    if (!running) {
      // The bulk stats give an inactive domain's capacities too (libvirt 9); where they do not, the volumes tell.
      for (const disk of parsed.disks) {
        if (!disk.volume || statSizes.get(disk.dev)) continue;
        const pool = await c.lookupPool(disk.pool ?? this.o.pool()).catch(() => undefined);
        const vol = pool ? await c.lookupVolume(pool, disk.volume).catch(() => undefined) : undefined;
        if (vol) disk.sizeBytes = Number((await c.volumeInfo(vol)).capacity);
      }
    }
    return { signature, parsed, config, autostart, ...(pending ? { pending } : {}) };
  }
}
