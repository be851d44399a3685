// What every representation shares: the API root, links and `rel` lists, the follow set, the
// engine's fixed ids and version, statistics, the product info and events. The views/ files give
// how each object looks on the wire (before the JSON/XML rendering): the attributes a 4.5 engine
// sends, with the API model's types, the links a client follows, and what `follow` inlines; the
// README's simulator section says which attributes follow the simulated state and which are constants.
import type { EngineState, SimEvent } from '../model.ts';

export const API = '/ovirt-engine/api';
export const link = (kind: string, id: string | undefined) => (id ? { id, href: `${API}/${kind}/${id}` } : undefined);
export const rels = (base: string, names: readonly string[]) => names.map((r) => ({ rel: r, href: `${base}/${r}` }));

/** The follow set: `disk_attachments.disk` also names `disk_attachments`; names compare without underscores. */
export class Follow {
  private readonly names: Set<string>;
  constructor(names: Iterable<string>) {
    this.names = new Set([...names].map((n) => n.replace(/_/g, '').toLowerCase()));
  }
  has(name: string): boolean {
    return this.names.has(name.replace(/_/g, '').toLowerCase());
  }
  /** What is followed below `name` (`nics.reported_devices` → `reported_devices` under nics). */
  under(name: string): Follow {
    const p = `${name.replace(/_/g, '').toLowerCase()}.`;
    return new Follow([...this.names].filter((n) => n.startsWith(p)).map((n) => n.slice(p.length)));
  }
}
export const NONE = new Follow([]);
export const asFollow = (f: Follow | Set<string>) => (f instanceof Follow ? f : new Follow(f));

/** The engine's version, as `version` elements carry it. */
export const V45 = { major: 4, minor: 5, build: 6, revision: 0, full_version: '4.5.6-1.el9' };
export const CLUSTER_LEVEL = { major: 4, minor: 7 };
export const BLANK = '00000000-0000-0000-0000-000000000000';
/** The engine's fixed ids: the default CPU and disk profiles and MAC pool hang off these. */
export const fixedId = (tag: string, of: string) => `${tag.padEnd(8, '0').slice(0, 8)}-${of.slice(9)}`;

export const stat = (owner: { vm?: string; host?: string }, name: string, description: string, unit: string, datum: number, type = 'integer') => {
  const kind = owner.vm ? 'vms' : 'hosts';
  const ownerId = owner.vm ?? owner.host ?? '';
  const statId = `${Buffer.from(name).toString('hex').padEnd(32, '0').slice(0, 32)}`.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
  return {
    id: statId,
    href: `${API}/${kind}/${ownerId}/statistics/${statId}`,
    name,
    description,
    kind: 'gauge',
    type,
    unit,
    values: { value: [{ datum }] },
    ...(owner.vm ? { vm: link('vms', owner.vm) } : { host: link('hosts', owner.host) }),
  };
};

export function eventView(s: EngineState, ev: SimEvent) {
  const vm = s.vms.find((v) => v.id === ev.vm);
  return {
    id: ev.id,
    href: `${API}/events/${ev.id}`,
    index: ev.index,
    code: ev.code,
    severity: ev.severity,
    time: ev.time,
    description: ev.description,
    ...(ev.correlation_id ? { correlation_id: ev.correlation_id } : {}),
    origin: 'oVirt',
    custom_id: -1,
    flood_rate: 30,
    log_on_host: false,
    user: { id: 'f0aed3bc-0d6f-11ee-8a0e-5254000000ff', href: `${API}/users/f0aed3bc-0d6f-11ee-8a0e-5254000000ff` },
    ...(ev.vm ? { vm: link('vms', ev.vm) } : {}),
    ...(vm ? { cluster: link('clusters', vm.cluster), ...(vm.host ? { host: link('hosts', vm.host) } : {}) } : {}),
  };
}

export const productInfo = { name: 'oVirt Engine', vendor: 'ovirt.org', version: V45, instance_id: '6f3b5c52-0d6f-11ee-9a3a-525400000001' };
