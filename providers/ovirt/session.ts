// What the per-kind clients of one engine share: the API client, the options, the engine's
// slow-changing objects (hosts and templates, read every few passes; networks and vNIC
// profiles, read when a NIC is written; both again after a write that adds one), the job watch, and the VMs of the last observation, which a disk step
// reads instead of listing again.
import type { Logger } from 'pino';
import { MigrationFollower } from '../kit/migration-follow.ts';
import { readMigrations } from './migration-progress.ts';
import type { Observation } from '../../controller/core/model.ts';
import { arr, num, obj, type Json, type OvirtClient } from './client.ts';
import { JobWatch } from './jobs.ts';
import { UsageReader } from './usage.ts';

export interface OvirtOptions {
  client: OvirtClient;
  logger: Logger;
  defaults?: { cluster?: string; storageDomain?: string; datacenter?: string };
  /**
   * How long a create waits for the disk copy (image_locked) before handing the worker back
   * with a locked error that says since when (default 5 s); the retry picks the VM up again.
   */
  imageLockTimeoutMs?: number;
  /** Passes between refreshes of hosts, templates and vNIC profiles (default 10). */
  slowRefreshEvery?: number;
  pollMs?: number;
  /** Whether observations carry usage (run, ui): read by a statistics search of its own (usage.ts). */
  usage?: boolean;
  /** How old usage may be before an observation has it read again (default 15 s). */
  usageEveryMs?: number;
  /** The clock (tests inject their own). */
  now?: () => number;
}

export interface Profile {
  network: string;
  vlan?: number;
}

/** What observation needs besides the VMs: hosts (nodes) and templates. */
export interface Inventory {
  hosts: Json[];
  templates: Json[];
}

/** What NIC writes and network removal need: vNIC profile id → network name and VLAN. */
export interface Profiles {
  networks: Json[];
  profiles: Map<string, Profile>;
}

/** How recent the last observation's VMs must be for a disk step to use them instead of listing. */
const RECENT_MS = 3000;
/** How recent an observation must be for a create to trust that no VM of its name exists. */
const NAMES_MS = 60_000;

/**
 * What a start or a disk step reads of a listed VM, kept until the next observation (the rest
 * of the row, a 10,000-VM fleet's disks and NICs in full, is not): the VM's id, name, status,
 * marker and cloud-init, its attachments with their disks' ids, as `follow=disk_attachments` has them.
 */
function kept(vm: Json): Json {
  return {
    id: vm.id,
    name: vm.name,
    status: vm.status,
    comment: vm.comment,
    ...(vm.initialization ? { initialization: vm.initialization } : {}),
    disk_attachments: {
      disk_attachment: arr(obj(vm.disk_attachments).disk_attachment).map((a) => ({
        id: a.id,
        active: a.active,
        bootable: a.bootable,
        interface: a.interface,
        disk: { id: obj(a.disk).id },
      })),
    },
  };
}

export class OvirtSession {
  readonly api: OvirtClient;
  readonly o: OvirtOptions;
  private inv: Inventory | undefined;
  private prof: Profiles | undefined;
  private passes = 0;
  private lastVms: { at: number; vms: Json[]; byId: Map<string, Json>; whole: boolean } | undefined;
  private readonly dirty = new Set<string>();
  private writes = 0;
  private inventoryRead: Promise<Inventory> | undefined;
  private profilesRead: Promise<Profiles> | undefined;
  /** The newest event index seen: every watch of this engine goes on from it. */
  eventIndex = 0;
  readonly jobs: JobWatch;
  /** Live migrations followed while they run: one search for every migrating VM per tick. */
  readonly migrations: MigrationFollower;
  /** Present when usage is wanted. */
  readonly usage: UsageReader | undefined;
  readonly now: () => number;
  private observedNames: { at: number; names: Set<string> } | undefined;
  private readonly attempted = new Set<string>();

  constructor(options: OvirtOptions) {
    this.o = options;
    this.api = options.client;
    this.now = options.now ?? Date.now;
    // Ticks from 100 ms: creates and starts take seconds; a shorter tick only adds jobs searches.
    this.jobs = new JobWatch({ api: this.api, now: this.now, minMs: options.pollMs ?? 100 });
    this.migrations = new MigrationFollower({ read: (_engine, ids) => readMigrations(this, ids), now: this.now });
    this.usage = options.usage
      ? new UsageReader({ api: this.api, now: this.now, logger: options.logger, ...(options.usageEveryMs !== undefined ? { everyMs: options.usageEveryMs } : {}) })
      : undefined;
  }

  get logger(): Logger {
    return this.o.logger;
  }

  /** Hosts and templates: cached, read again every few passes or when `force`d. */
  async inventory(force = false): Promise<Inventory> {
    if (this.inv && !force && this.passes % (this.o.slowRefreshEvery ?? 10) !== 0) return this.inv;
    // One read in flight, shared by every observe that needs it meanwhile.
    this.inventoryRead ??= Promise.all([
      // An engine inlines host statistics (the load) only when asked to follow them.
      this.api.get('/hosts', { follow: 'statistics' }),
      this.api.get('/templates'),
    ])
      .then(([hosts, templates]) => {
        this.inv = { hosts: arr(hosts.host), templates: arr(templates.template) };
        return this.inv;
      })
      .finally(() => {
        this.inventoryRead = undefined;
      });
    return this.inventoryRead;
  }

  /** The cached hosts and templates, if any were read (a host's name for a migration's wait). */
  cachedInventory(): Inventory | undefined {
    return this.inv;
  }

  /** vNIC profiles with their networks: read when a NIC is written, cached, read again when `force`d or stale. */
  async profiles(force = false): Promise<Profiles> {
    if (this.prof && !force) return this.prof;
    // One read in flight, shared by every NIC write that needs it meanwhile.
    if (!this.profilesRead || force) {
      const read: Promise<Profiles> = Promise.all([this.api.get('/vnicprofiles'), this.api.get('/networks')])
        .then(([profiles, networks]) => {
          const nets = arr(networks.network);
          const netById = new Map(nets.map((n) => [String(n.id), n]));
          this.prof = {
            networks: nets,
            profiles: new Map(
              arr(profiles.vnic_profile).map((p) => {
                const n = netById.get(String(obj(p.network).id));
                return [String(p.id), { network: String(n?.name ?? p.name), ...(n && num(obj(n.vlan).id) ? { vlan: num(obj(n.vlan).id) } : {}) }];
              }),
            ),
          };
          return this.prof;
        })
        .finally(() => {
          if (this.profilesRead === read) this.profilesRead = undefined;
        });
      this.profilesRead = read;
    }
    return this.profilesRead;
  }

  /** After a write that adds a template or a vNIC profile, or a host's maintenance changed: the next step must see it. */
  forgetLookups(): void {
    this.inv = undefined;
    this.prof = undefined;
  }

  countPass(): void {
    this.passes++;
  }

  /** Counts writes: an observation or a VM read from before one is not taken for after it. */
  get writeCount(): number {
    return this.writes;
  }

  /** The VMs a list call answered; `since` is the write count when it was sent. */
  seen(listed: Json[], since: number): void {
    const fresh = since === this.writes;
    const vms = listed.map(kept);
    this.lastVms = { at: this.now(), vms, byId: new Map(vms.map((v) => [String(v.id), v])), whole: fresh };
    this.dirty.clear();
    this.observedNames = { at: this.now(), names: new Set(vms.map((v) => String(v.name))) };
  }

  /**
   * A write begins or ends: on one VM (its last observed state no longer stands), or on
   * anything (a disk moving between VMs: none does).
   */
  wrote(vmId?: string): void {
    this.writes++;
    if (!this.lastVms) return;
    if (vmId) this.dirty.add(vmId);
    else this.lastVms = undefined;
  }

  /** A VM as the last observation had it, when recent and nothing was written to it since. */
  observedVm(id: string): Json | undefined {
    const seen = this.lastVms;
    if (!seen?.whole || this.now() - seen.at >= RECENT_MS || this.dirty.has(id)) return undefined;
    return seen.byId.get(id);
  }

  /** The observation in flight, joined by an observe that starts before any write since it was sent. */
  inFlight: { since: number; observation: Promise<Observation> } | undefined;

  /**
   * Whether a create may skip looking for a VM of its name: an observation of the last minute
   * has none, and this process has not tried to make it before (a retry after a lost answer
   * looks). A VM made meanwhile by someone else makes the add fail (name in use), never a twin.
   */
  firstCreate(name: string): boolean {
    const seen = this.observedNames;
    const blind = !!seen && this.now() - seen.at < NAMES_MS && !seen.names.has(name) && !this.attempted.has(name);
    this.attempted.add(name);
    return blind;
  }

  /** Every VM with its disk attachments: the last observation's when recent, else one list call. */
  async recentVms(): Promise<Json[]> {
    const seen = this.lastVms;
    if (seen?.whole && this.dirty.size === 0 && this.now() - seen.at < RECENT_MS) return seen.vms;
    const vms: Json[] = [];
    await this.api.list('/vms', { follow: 'disk_attachments' }, (v) => vms.push(v));
    return vms;
  }
}
