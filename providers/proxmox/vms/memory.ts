// What the Proxmox VM observation remembers of each guest: its config as last read and the list
// row it was read for, and its guest-agent addresses. Kept in the provider memory (the state
// directory), a fresh process reads configs only for rows that changed since (a config edited
// behind virtkeeper's back with the row unchanged is found at the full read, `fullReadMs` after
// the entry was read, spread over ±25% so a fleet is not re-read all at once).
import type { ProviderMemory } from '../../../controller/core/provider.ts';

/** What was read of one guest: its config, what is staged, and the list row it was read at. */
export interface Detail {
  signature: string;
  /** The power state the config was read at: staged changes apply when it moves. */
  status?: string;
  config: Record<string, string>;
  pending: boolean;
  staged: Record<string, string>;
  /** When it was read (ms): a config edited behind the list's back is found at the next full read. */
  readAt: number;
}

const KEY = 'proxmox-guests';
/** The signature of an entry an action wrote (seed): the first list row seen for the guest is taken as its own. */
const SEEDED = '';
const VERSION = 2;

interface Stored {
  v: number;
  guests: Record<string, { s: string; u?: string; c: Record<string, string>; p: boolean; st: Record<string, string>; r: number; ip?: string[] }>;
}

/** A stable spread in [0.75, 1.25) per guest, so entries read together expire apart. */
function spread(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return 0.75 + (h % 1000) / 2000;
}

export class DetailCache {
  private readonly map = new Map<string, Detail>();
  readonly ips = new Map<string, string[]>();
  private readonly settled = new Set<string>();
  private version = 0;
  private savedVersion = 0;
  private loaded: Promise<void> | undefined;
  private saving: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly memory: ProviderMemory | undefined;
  private readonly fullReadMs: number;
  private readonly now: () => number;

  constructor(o: { memory?: ProviderMemory; fullReadMs?: number; now?: () => number } = {}) {
    this.memory = o.memory;
    this.fullReadMs = o.fullReadMs ?? 60 * 60_000;
    this.now = o.now ?? Date.now;
  }

  /** Loads what an earlier process remembered, once; what this process read already wins. */
  load(): Promise<void> {
    this.loaded ??= (async () => {
      const text = await this.memory?.read(KEY);
      if (!text) return;
      let stored: Stored;
      try {
        stored = JSON.parse(text) as Stored;
      } catch {
        return; // a torn or foreign file: read afresh
      }
      if (stored.v !== VERSION) return;
      for (const [id, g] of Object.entries(stored.guests)) {
        if (this.map.has(id)) continue;
        this.map.set(id, { signature: g.s, ...(g.u ? { status: g.u } : {}), config: g.c, pending: g.p, staged: g.st, readAt: g.r });
        if (g.ip && !this.ips.has(id)) this.ips.set(id, g.ip);
      }
    })();
    return this.loaded;
  }

  /** The entry when it still answers for this row (signature, and status unless changes were staged) and is younger than its full read. */
  fresh(id: string, signature: string, status?: string): Detail | undefined {
    let d = this.map.get(id);
    if (d?.signature === SEEDED && !d.pending) {
      d = { ...d, signature, ...(status ? { status } : {}) };
      this.set(id, d);
    }
    if (!d || d.signature !== signature || (d.pending && d.status !== status)) return undefined;
    return this.now() - d.readAt < this.fullReadMs * spread(id) ? d : undefined;
  }

  /** Marks an entry as current although its VM was acted on (a power step): the next refresh of it is answered from here. */
  settle(id: string): void {
    this.settled.add(id);
  }

  /** Whether the entry was settled since the last look (and forgets that). */
  takeSettled(id: string): boolean {
    return this.settled.delete(id);
  }

  /**
   * Records a config an action knows exactly (it wrote it to a stopped VM with nothing staged),
   * so the next observation does not read it again; that observation's row is taken as its own.
   */
  seed(id: string, d: Pick<Detail, 'config' | 'pending' | 'staged'>): void {
    this.settled.delete(id);
    this.set(id, { ...d, signature: SEEDED, readAt: this.now() });
  }

  /** Whether an action seeded the entry at or after `t` (a list begun before then may not show the VM yet). */
  seededSince(id: string, t: number): boolean {
    const d = this.map.get(id);
    return d?.signature === SEEDED && d.readAt >= t;
  }

  get(id: string): Detail | undefined {
    return this.map.get(id);
  }

  set(id: string, d: Detail): void {
    this.map.set(id, d);
    this.changed();
  }

  delete(id: string): void {
    this.settled.delete(id);
    if (this.map.delete(id) || this.ips.delete(id)) this.changed();
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  setIPs(id: string, ips: string[]): void {
    this.ips.set(id, ips);
    this.changed();
  }

  dropIPs(id: string): void {
    if (this.ips.delete(id)) this.changed();
  }

  private changed(): void {
    this.version++;
    // Coalesced: one write a second at most while things change.
    if (this.memory && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush().catch(() => undefined);
      }, 1000);
      this.timer.unref();
    }
  }

  /** Writes what changed since the last write (at close, and a second after a change). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.saving;
    if (!this.memory || this.version === this.savedVersion) return;
    const version = this.version;
    const guests: Stored['guests'] = {};
    for (const [id, d] of this.map) {
      const ip = this.ips.get(id);
      guests[id] = { s: d.signature, ...(d.status ? { u: d.status } : {}), c: d.config, p: d.pending, st: d.staged, r: d.readAt, ...(ip ? { ip } : {}) };
    }
    const memory = this.memory;
    this.saving = memory.write(KEY, JSON.stringify({ v: VERSION, guests } satisfies Stored)).then(() => {
      this.savedVersion = Math.max(this.savedVersion, version);
    });
    await this.saving;
  }
}
