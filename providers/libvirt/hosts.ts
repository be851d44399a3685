// The hosts of a libvirt Hypervisor: one RPC connection per host, made on first use and again
// after a daemon restart; lifecycle events from every host; and finding a domain on whichever
// host has it now, where "not found" while a host is silent is never taken for "gone".
import type { Logger } from 'pino';
import type { Target } from '../../controller/core/actions.ts';
import { ProviderNotFoundError, ProviderTransientError, RefusedError } from '../../controller/core/errors.ts';
import { sameOwner } from '../../controller/core/provider.ts';
import { parseDomain, type ParsedDomain } from './domain-xml.ts';
import { LibvirtConnection } from './rpc/connection.ts';
import { DomainState, LibvirtError, type Domain } from './rpc/protocol.ts';
import type { TransportPolicy } from './rpc/uri.ts';

export interface HostEntry {
  name: string;
  uri: string;
}

/** A domain found on its host, with its live XML parsed. */
export interface Located {
  c: LibvirtConnection;
  d: Domain;
  host: string;
  parsed: ParsedDomain;
  running: boolean;
}

export const uuidText = (b: Buffer): string => b.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
export const isActive = (state: number): boolean => state === DomainState.RUNNING || state === DomainState.PAUSED || state === DomainState.BLOCKED;

export class Hosts {
  readonly list: HostEntry[];
  private readonly logger: Logger;
  private readonly policy: TransportPolicy | undefined;
  private readonly conns = new Map<string, Promise<LibvirtConnection>>();
  /** Set by close(): connections closing then are not news worth a warning. */
  private closing = false;
  private readonly listeners = new Set<(ids: string[]) => void>();
  /** Told of every domain an event names, before the listeners (the observation drops its cache entry). */
  private readonly onEvent: (id: string) => void;

  constructor(o: { hosts: HostEntry[]; logger: Logger; tls?: TransportPolicy; onEvent?: (id: string) => void }) {
    this.list = o.hosts;
    this.logger = o.logger;
    this.policy = o.tls;
    this.onEvent = o.onEvent ?? (() => undefined);
  }

  entry(host: string): HostEntry | undefined {
    return this.list.find((h) => h.name === host);
  }

  /** The connection to a host, reconnecting after a daemon restart. */
  async conn(host: string): Promise<LibvirtConnection> {
    const existing = this.conns.get(host);
    if (existing) {
      const c = await existing.catch(() => undefined);
      if (c && !c.isClosed) return c;
      this.conns.delete(host);
    }
    const h = this.entry(host);
    if (!h) throw new ProviderNotFoundError(`no host ${host} in this Hypervisor`);
    const p = LibvirtConnection.connect(h.uri, { logger: this.logger, ...(this.policy ? { policy: this.policy } : {}) }).then(async (c) => {
      if (this.listeners.size > 0) await this.subscribe(c);
      c.on('close', () => {
        if (!this.closing) this.logger.warn({ host }, 'libvirt connection closed; reconnecting on next use');
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
      this.onEvent(id);
      this.notify([id]);
    });
    await c.registerLifecycleEvents();
  }

  /** Wakes the watchers for these domains (an event, or news the observation found by itself). */
  notify(ids: string[]): void {
    for (const l of this.listeners) l(ids);
  }

  watch(onChange: (ids: string[]) => void): () => void {
    this.listeners.add(onChange);
    for (const h of this.list)
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

  /** Finds a domain by UUID on whichever host has it now (the target's node first). */
  async locate(target: Target): Promise<Located> {
    const uuid = Buffer.from(target.providerID.replace(/-/g, ''), 'hex');
    const order = [...(target.node ? [target.node] : []), ...this.list.map((h) => h.name).filter((n) => n !== target.node)];
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
        return { c, d, host, parsed: parseDomain(await c.xmlDesc(d)), running: isActive(state) };
      } catch (e) {
        if (!(e instanceof LibvirtError && e.kind === 'not-found')) throw e;
      }
    }
    // Not found while a host did not answer is not "gone": a delete must not count it done.
    if (silent.length) throw new ProviderTransientError(`domain ${target.name} (${target.providerID}) is on none of the hosts that answer; ${silent.join(', ')} did not`);
    throw new ProviderNotFoundError(`domain ${target.name} (${target.providerID}) is on no host of this Hypervisor`);
  }

  /** Finds a domain and proves it is target.owner's (its marker); `what` says what is refused. */
  async locateOwned(target: Target, what: string): Promise<Located> {
    const found = await this.locate(target);
    if (!target.owner || !sameOwner(found.parsed.owner, target.owner)) throw new RefusedError(`domain ${target.name} (${target.providerID}) is not owned by this resource; ${what}`);
    return found;
  }
}
