// What the Proxmox per-kind clients share: the HTTP client, the defaults, lock retries, the
// guest list of the last observation (a disk step in the same pass reads it, not the API), the
// per-guest config cache, and the ownership check every destructive step makes.
import type { Logger } from 'pino';
import type { Target } from '../../controller/core/actions.ts';
import { ProviderNotFoundError, RefusedError } from '../../controller/core/errors.ts';
import { describeOwner } from '../../controller/core/model.ts';
import { type ActionContext, type ProviderMemory, sameOwner } from '../../controller/core/provider.ts';
import { DetailCache } from './vms/memory.ts';
import { retryOnLock } from '../kit/retry.ts';
import type { ProxmoxClient } from './client.ts';
import { readGuestConfig } from './guest-config.ts';
import { ProxmoxMigrations } from './migration-progress.ts';
import { toObservedVM, type ResourceRow } from './mapping.ts';

export interface ProxmoxDefaults {
  node?: string;
  storage?: string;
  pool?: string;
  bridge?: string;
  importStorage?: string;
}

export interface ProxmoxProviderOptions {
  client: ProxmoxClient;
  logger: Logger;
  defaults?: ProxmoxDefaults;
  /** Attempts for lock/timeout errors before they surface (default 6). */
  lockRetries?: number;
  /** Where what was learned of the guests is kept between processes (see vms/memory.ts). */
  memory?: ProviderMemory;
  /** How long a guest's config serves while its list row is unchanged, before a full read (default 1 h). */
  fullReadMs?: number;
}

/** A guest's config as last read, and the list row it was read for. */
export type { Detail } from './vms/memory.ts';

/** How long the guests of the last list call serve a disk step before it lists again. */
const GUESTS_FRESH_MS = 3000;

export class ProxmoxContext {
  readonly api: ProxmoxClient;
  readonly logger: Logger;
  readonly defaults: ProxmoxDefaults;
  readonly details: DetailCache;
  /** Live migrations followed through their task logs while they run. */
  readonly migrations: ProxmoxMigrations;
  private readonly lockRetries: number;
  private lastGuests: { at: number; rows: ResourceRow[] } | undefined;
  /** The list call in flight for creates, joined by those that start while it runs. */
  private listing: { at: number; rows: Promise<ResourceRow[]> } | undefined;
  /** When this process last sent a create or delete for a name: a list from before then does not answer for it. */
  private readonly namesSent = new Map<string, number>();
  /** Guests this process is making now (clone or create sent, configuration not yet written): observation does not read them. */
  readonly making = new Set<string>();
  private readonly touched = new Set<string>();

  constructor(o: ProxmoxProviderOptions) {
    this.api = o.client;
    this.logger = o.logger;
    this.defaults = o.defaults ?? {};
    this.lockRetries = o.lockRetries ?? 6;
    this.migrations = new ProxmoxMigrations({ get: (path, params) => this.api.get(path, params) });
    this.details = new DetailCache({ ...(o.memory ? { memory: o.memory } : {}), ...(o.fullReadMs !== undefined ? { fullReadMs: o.fullReadMs } : {}) });
  }

  async close(): Promise<void> {
    await this.details.flush().catch((e: unknown) => this.logger.warn({ err: (e as Error).message }, 'cannot keep what was observed for the next process'));
    await this.api.close();
  }

  get defaultStorage(): string {
    return this.defaults.storage ?? 'local-lvm';
  }

  /** Every guest (templates too), from one list call. */
  listGuests(): Promise<ResourceRow[]> {
    return this.api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' });
  }

  /** Notes that a create or delete of this name is being sent (see guestsFor). */
  sending(name: string): void {
    this.namesSent.set(name, performance.now());
  }

  /**
   * Every guest, for a create of `name`: creates that start together share one list call in
   * flight, unless this process sent a create or delete of that name after it began (then it
   * could miss or still show that VM); otherwise a new list call.
   */
  guestsFor(name: string): Promise<ResourceRow[]> {
    const listing = this.listing;
    const sent = this.namesSent.get(name);
    if (listing && (sent === undefined || sent < listing.at)) return listing.rows;
    const entry = { at: performance.now(), rows: this.listGuests() };
    this.listing = entry;
    const clear = () => {
      if (this.listing === entry) this.listing = undefined;
    };
    entry.rows.then(clear, clear);
    return entry.rows;
  }

  /** Remembers what an observation listed, for the steps of the same pass. */
  rememberGuests(rows: ResourceRow[]): void {
    this.lastGuests = { at: Date.now(), rows };
    this.touched.clear();
  }

  /** A VM action moves names, nodes and locks: the remembered row of that VM no longer serves. Says whether it did until now. */
  touch(providerID: string): boolean {
    const before = !this.touched.has(providerID);
    this.touched.add(providerID);
    return before;
  }

  /** The remembered list when recent and no VM was acted on since (first attempt only), else a new list call. */
  recentGuests(fresh: boolean): Promise<ResourceRow[]> {
    const seen = this.lastGuests;
    if (!fresh && seen && this.touched.size === 0 && Date.now() - seen.at < GUESTS_FRESH_MS) return Promise.resolve(seen.rows);
    return this.listGuests();
  }

  /** The remembered row of a VM no action touched since the list, when the list is recent. */
  rememberedRow(target: Target): ResourceRow | undefined {
    const seen = this.lastGuests;
    if (!seen || Date.now() - seen.at >= GUESTS_FRESH_MS) return undefined;
    return seen.rows.find((r) => r.id === target.providerID);
  }

  /** Retries lock and config-lock timeouts with backoff; they are normal on a busy cluster. */
  retry<T>(fn: () => Promise<T>, ctx: ActionContext = {}): Promise<T> {
    return retryOnLock(fn, {
      attempts: this.lockRetries,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onRetry: (e, attempt) => {
        ctx.onProgress?.({ message: `retrying after: ${e.message}` });
        this.logger.debug({ attempt, code: (e as { code?: string }).code }, `retrying: ${e.message}`);
      },
    });
  }

  /** Waits for a task, with the action's progress and signal. */
  waiter(ctx: ActionContext = {}): (upid: string | null) => Promise<void> {
    return async (upid) => {
      if (upid) await this.api.waitForTask(upid, { ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) });
    };
  }

  /**
   * Finds a guest by its providerID (`qemu/104`) wherever it runs now, with its config. The
   * observation's list serves when recent and the VM was not acted on since; the config read
   * there proves it (a guest that moved meanwhile is looked up again with a new list call).
   */
  async locate(target: Target, o: { reuse?: boolean } = {}): Promise<{ vmid: number; node: string; row: ResourceRow; config: Record<string, string> }> {
    const vmid = Number(target.providerID.split('/')[1]);
    const remembered = o.reuse ? this.rememberedRow(target) : undefined;
    if (remembered) {
      try {
        return { vmid, node: remembered.node, row: remembered, config: await readGuestConfig(this.api, remembered.node, vmid) };
      } catch (e) {
        if (!(e instanceof ProviderNotFoundError)) throw e;
      }
    }
    const row = (await this.listGuests()).find((r) => r.vmid === vmid);
    if (!row) throw new ProviderNotFoundError(`VM ${target.name} (${target.providerID}) does not exist`);
    const config = await readGuestConfig(this.api, row.node, vmid);
    return { vmid, node: row.node, row, config };
  }

  /** Throws a RefusedError unless the config's marker names target.owner: ids are reused. */
  checkOwner(target: Target, config: Record<string, string>): void {
    const have = toObservedVM({ id: target.providerID, type: 'qemu', node: '' }, { config, pending: false }, []).owner;
    if (!target.owner || !sameOwner(have, target.owner)) {
      throw new RefusedError(
        `VM ${target.name} (${target.providerID}) is not owned by ${target.owner ? describeOwner(target.owner) : 'this resource'}${have ? ` but by ${describeOwner(have)}` : ''}; virtkeeper never changes a VM it did not create`,
      );
    }
  }
}
