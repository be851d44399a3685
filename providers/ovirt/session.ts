// What the per-kind clients of one engine share: the API client, the options, the engine's
// slow-changing objects (hosts, templates, networks and vNIC profiles, read every few passes
// and after a write that adds one), and the VMs of the last observation, which a disk step
// reads instead of listing again.
import type { Logger } from 'pino';
import { arr, num, obj, type Json, type OvirtClient } from './client.ts';

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
}

export interface Profile {
  network: string;
  vlan?: number;
}

export interface Lookups {
  hosts: Json[];
  templates: Json[];
  networks: Json[];
  profiles: Map<string, Profile>;
}

/** How recent the last observation's VMs must be for a disk step to use them instead of listing. */
const RECENT_MS = 3000;

export class OvirtSession {
  readonly api: OvirtClient;
  readonly o: OvirtOptions;
  private slow: Lookups | undefined;
  private passes = 0;
  private lastVms: { at: number; vms: Json[] } | undefined;
  /** The newest event index seen: every watch of this engine goes on from it. */
  eventIndex = 0;

  constructor(options: OvirtOptions) {
    this.o = options;
    this.api = options.client;
  }

  get logger(): Logger {
    return this.o.logger;
  }

  /** The slow-changing objects: cached, read again every few passes or when `force`d. */
  async lookups(force = false): Promise<Lookups> {
    if (!this.slow || force || this.passes % (this.o.slowRefreshEvery ?? 10) === 0) {
      const [hosts, templates, profiles, networks] = await Promise.all([
        // An engine inlines host statistics (the load) only when asked to follow them.
        this.api.get('/hosts', { follow: 'statistics' }),
        this.api.get('/templates'),
        this.api.get('/vnicprofiles'),
        this.api.get('/networks'),
      ]);
      const nets = arr(networks.network);
      const netById = new Map(nets.map((n) => [String(n.id), n]));
      this.slow = {
        hosts: arr(hosts.host),
        templates: arr(templates.template),
        networks: nets,
        profiles: new Map(
          arr(profiles.vnic_profile).map((p) => {
            const n = netById.get(String(obj(p.network).id));
            return [String(p.id), { network: String(n?.name ?? p.name), ...(n && num(obj(n.vlan).id) ? { vlan: num(obj(n.vlan).id) } : {}) }];
          }),
        ),
      };
    }
    return this.slow;
  }

  /** The cached lookups, if any were read (a host's name for a migration's wait). */
  cachedLookups(): Lookups | undefined {
    return this.slow;
  }

  /** After a write that adds a template or a vNIC profile: the next step must see it. */
  forgetLookups(): void {
    this.slow = undefined;
  }

  countPass(): void {
    this.passes++;
  }

  seen(vms: Json[]): void {
    this.lastVms = { at: Date.now(), vms };
  }

  /** What a write changes, the last observation no longer shows. */
  forgetVms(): void {
    this.lastVms = undefined;
  }

  /** Every VM with its disk attachments: the last observation's when recent, else one list call. */
  async recentVms(): Promise<Json[]> {
    const seen = this.lastVms;
    if (seen && Date.now() - seen.at < RECENT_MS) return seen.vms;
    return arr((await this.api.get('/vms', { follow: 'disk_attachments' })).vm);
  }
}
