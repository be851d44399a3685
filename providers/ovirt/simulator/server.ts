// The oVirt engine simulator's HTTP surface under /ovirt-engine/api: SSO, Bearer and Basic
// auth, JSON and XML, the search language (search.ts) with max and case_sensitive, follow, the collections, VM
// writes and actions, faults, latency, request counters and /_sim admin endpoints.
import { RequestCounter, seededRandom } from '../../simulator-kit.ts';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { badRequest, Engine, Fault, mac, notFound } from './engine.ts';
import { id, seedEngine, type EngineState, type SimVM } from './model.ts';
import { bool, num, obj, parseBody, toJson, toXml, type Tree } from './representation.ts';
import {
  API,
  attachmentView,
  reportedDevices,
  clusterView,
  datacenterView,
  diskView,
  eventView,
  Follow,
  graphicsConsoles,
  hostStatistics,
  hostView,
  link,
  networkView,
  nicView,
  productInfo,
  storageDomainView,
  templateAttachments,
  templateView,
  vmStatistics,
  vmView,
  vnicProfileView,
} from './views.ts';
import { applySearch, engineErrorText, parseSearch, SearchSyntaxError, type ParsedSearch, type SearchRecord } from './search.ts';
import { diskRecord, eventRecord, hostRecord, jobRecord, namedRecord, SCHEMAS, templateRecord, vmRecord } from './search-fields.ts';

export interface OvirtFaults {
  /** Share of API requests answered 503 (transient). */
  errorShare?: number;
  /** Share of writes refused 409 as if the VM were locked. */
  lockShare?: number;
}

export interface OvirtSimulatorOptions {
  name?: string;
  port?: number;
  hosts?: number;
  templates?: string[];
  username?: string;
  password?: string;
  tokenLifetimeMs?: number;
  latencyMs?: number;
  jitterMs?: number;
  faults?: OvirtFaults;
  seed?: number;
  imageCopyMs?: number;
  bootStepMs?: number;
  migrateMs?: number;
  diskResizeMs?: number;
}

export class OvirtSimulator {
  readonly engine: Engine;
  readonly username: string;
  readonly password: string;
  faults: OvirtFaults;
  private readonly tokens = new Map<string, number>();
  private readonly counters = new RequestCounter();
  private readonly random: () => number;
  private server: Server | undefined;
  private readonly o: OvirtSimulatorOptions;

  constructor(options: OvirtSimulatorOptions = {}) {
    this.o = options;
    this.engine = new Engine(seedEngine({ name: options.name ?? 'engine', hosts: options.hosts ?? 2, templates: options.templates ?? ['centos-9'] }), {
      imageCopyMs: options.imageCopyMs ?? 300,
      bootStepMs: options.bootStepMs ?? 100,
      migrateMs: options.migrateMs ?? 300,
      diskResizeMs: options.diskResizeMs ?? 100,
    });
    this.username = options.username ?? 'admin@internal';
    this.password = options.password ?? randomBytes(9).toString('base64url');
    this.faults = options.faults ?? {};
    this.random = seededRandom(options.seed ?? 7);
  }

  async listen(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    // `Expect: 201-created` is the engine's synchronous mode, not an HTTP continue request.
    this.server.on('checkExpectation', (req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server?.listen(this.o.port ?? 0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${API}`;
  }

  async close(): Promise<void> {
    this.engine.stop();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  stats(): Record<string, number> {
    return this.counters.stats();
  }

  resetStats(): void {
    this.counters.reset();
  }
  /** Expires every token now (tests of re-login). */
  expireTokens(): void {
    for (const k of this.tokens.keys()) this.tokens.set(k, 0);
  }

  private count(key: string): void {
    this.counters.count(key);
  }

  private send(req: IncomingMessage, res: ServerResponse, status: number, root: string, value: unknown): void {
    const xml = !(req.headers.accept ?? '').includes('json');
    if (status === 404 && value === undefined) {
      res.writeHead(404, { 'content-length': 0 }).end();
      return;
    }
    const text = xml ? toXml(root, value) : JSON.stringify(toJson(value));
    res.writeHead(status, { 'content-type': xml ? 'application/xml;charset=UTF-8' : 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://sim');
    try {
      if (url.pathname.startsWith('/_sim/')) return this.admin(req, res, url, text);
      if (url.pathname === '/ovirt-engine/sso/oauth/token') return this.sso(res, text);
      if (url.pathname === '/ovirt-engine/services/sso-logout') {
        // The token comes in the query or the form body; the answer is JSON, as the SDKs check.
        this.tokens.delete(url.searchParams.get('token') ?? new URLSearchParams(text).get('token') ?? '');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      const lat = (this.o.latencyMs ?? 0) + (this.o.jitterMs ? this.random() * this.o.jitterMs : 0);
      if (lat > 0) await new Promise((r) => setTimeout(r, lat));
      if (!url.pathname.startsWith(API)) return this.send(req, res, 404, 'fault', undefined);
      if (!this.authorized(req)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="RESTAPI"', 'content-type': 'text/html' }).end('<html><head><title>Error</title></head><body>Unauthorized</body></html>');
        return;
      }
      const method = req.method ?? 'GET';
      const path = url.pathname.slice(API.length).replace(/\/+$/, '');
      const pattern = path.replace(/\/[0-9a-f-]{36}(?=\/|$)/g, '/{id}');
      this.count(`${method} ${pattern || '/'}`);
      if (this.random() < (this.faults.errorShare ?? 0)) throw new Fault(503, 'Service Unavailable', 'The engine is busy');
      if (method !== 'GET' && /^\/vms\/\{id\}/.test(pattern) && this.random() < (this.faults.lockShare ?? 0))
        throw new Fault(409, 'Operation Failed', '[Cannot edit VM. Related operation is currently in progress. Please try again later.]');
      const body = parseBody(text, req.headers['content-type']);
      const [status, root, value] = await this.route(method, path, url.searchParams, body, req);
      return this.send(req, res, status, root, value);
    } catch (e) {
      if (e instanceof Fault) {
        if (e.status === 404) return this.send(req, res, 404, 'fault', undefined);
        return this.send(req, res, e.status, 'fault', { reason: e.reason, detail: e.message });
      }
      return this.send(req, res, 500, 'fault', { reason: 'Operation Failed', detail: (e as Error).message });
    }
  }

  /**
   * What the links of a representation point at and the simulator does not model: the
   * subcollections answer empty (an engine's root element), the fixed objects (profiles, the
   * MAC pool, the scheduling policy) answer with themselves. Undefined: the route decides.
   */
  private linkTargets(method: string, seg: string[]): [number, string, unknown] | undefined {
    if (method !== 'GET') return undefined;
    const s = this.engine.state;
    const [col = '', oid, sub, sid, subsub] = seg;
    if (seg.length === 2 && oid && FIXED_OBJECTS[col])
      return [
        200,
        FIXED_OBJECTS[col],
        {
          id: oid,
          href: `${API}/${col}/${oid}`,
          name: col === 'macpools' ? 'Default' : col === 'users' ? 'admin' : col === 'schedulingpolicies' ? 'evenly_distributed' : col === 'networkfilters' ? 'vdsm-no-mac-spoofing' : 'default',
        },
      ];
    if (seg.length === 5 && col === 'vms' && oid && sub === 'nics' && sid && subsub) {
      const vm = this.engine.vm(oid);
      const n = vm.nics.find((x) => x.id === sid);
      if (!n) throw notFound();
      if (subsub === 'reporteddevices') return [200, 'reported_devices', reportedDevices(vm, n)];
      if (subsub === 'statistics' || subsub === 'networkfilterparameters') return [200, subsub === 'statistics' ? 'statistics' : 'network_filter_parameters', {}];
      throw notFound();
    }
    if (seg.length !== 3 || !oid || !sub || MODELLED.has(`${col}/${sub}`)) return undefined;
    const root = SUBCOLLECTION_ROOTS[sub];
    const parents: Record<string, { id: string }[]> = {
      vms: s.vms,
      templates: s.templates,
      hosts: s.hosts,
      clusters: s.clusters,
      datacenters: s.datacenters,
      storagedomains: s.storagedomains,
      networks: s.networks,
      disks: s.disks,
      vnicprofiles: s.vnicprofiles,
    };
    if (!root || !parents[col]) return undefined;
    if (!parents[col]?.some((x) => x.id === oid)) throw notFound();
    return [200, root, {}];
  }

  /** What the engine logs (engine.log), the lines a client never sees: a search it could not parse. */
  readonly log: string[] = [];

  /**
   * The search of a list request, parsed; undefined when it does not parse. As the engine: such a
   * search answers 200 with nothing in it, and the reason goes to the engine's log only.
   */
  private parse(collection: string, q: URLSearchParams): ParsedSearch | undefined {
    const text = q.get('search') ?? '';
    const max = searchOptions(q).max;
    if (max !== undefined && max < 0) throw new Fault(400, 'Operation Failed', `Illegal max count value for query : ${max}`);
    try {
      return parseSearch(text, SCHEMAS[collection] ?? { object: collection, fields: {} });
    } catch (e) {
      if (!(e instanceof SearchSyntaxError)) throw e;
      const full = `${SCHEMAS[collection]?.object ?? collection}:${text}`;
      const shifted = new SearchSyntaxError(e.code, e.start + full.length - text.length, e.end + full.length - text.length);
      this.log.push(
        e.code === 'INVALID'
          ? `WARN ResourceManager::searchBusinessObjects - Invalid search text - '${full}'`
          : `INFO ResourceManager::searchBusinessObjects - erroneous search text - '${full}' error - '${engineErrorText(full, shifted)}'`,
      );
      if (this.log.length > 1000) this.log.splice(0, this.log.length - 1000);
      return undefined;
    }
  }

  private sso(res: ServerResponse, text: string): void {
    const p = new URLSearchParams(text);
    const reply = (status: number, body: object) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (!p.get('scope')) return void reply(400, { error_code: 'invalid_request', error: "The required parameter 'scope' is missing." });
    if (p.get('grant_type') !== 'password') return void reply(400, { error_code: 'unsupported_grant_type', error: 'The grant type is not supported.' });
    if (p.get('username') !== this.username || p.get('password') !== this.password) {
      return void reply(400, { error_code: 'access_denied', error: `Cannot authenticate user '${p.get('username')}': The username or password is incorrect..` });
    }
    const token = randomBytes(32).toString('base64url');
    const exp = Date.now() + (this.o.tokenLifetimeMs ?? 3600_000);
    this.tokens.set(token, exp);
    reply(200, { access_token: token, scope: p.get('scope') === 'ovirt-app-api' ? 'ovirt-app-api ovirt-ext=token-info:authz-search' : '', exp: String(exp), token_type: 'bearer' });
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    if (h.startsWith('Bearer ')) return (this.tokens.get(h.slice(7)) ?? 0) > Date.now();
    if (h.startsWith('Basic ')) {
      const [u, ...rest] = Buffer.from(h.slice(6), 'base64').toString('utf8').split(':');
      return u === this.username && rest.join(':') === this.password;
    }
    return false;
  }

  private async route(method: string, path: string, q: URLSearchParams, body: Tree, req: IncomingMessage): Promise<[number, string, unknown]> {
    const s = this.engine.state;
    const e = this.engine;
    const follow = new Follow(
      (q.get('follow') ?? '')
        .split(',')
        .flatMap((f) => {
          const parts = f.trim().split('.');
          return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
        })
        .filter(Boolean),
    );
    const correlation = q.get('correlation_id') ?? undefined;
    const page = <T>(collection: string, items: readonly T[], record: (x: T) => SearchRecord): T[] => {
      const parsed = this.parse(collection, q);
      return parsed ? applySearch(items, record, SCHEMAS[collection] ?? { object: collection, fields: {} }, parsed, searchOptions(q)) : [];
    };
    const seg = path.split('/').filter(Boolean);
    const [col, oid, sub, sid] = seg;
    const one = <T>(items: T[], pred: (x: T) => boolean): T => {
      const x = items.find(pred);
      if (!x) throw notFound();
      return x;
    };
    const coll = (key: string, items: unknown[]) => [200, `${key}s`, items.length ? { [key]: items } : {}] as [number, string, unknown];

    if (!col)
      return [
        200,
        'api',
        {
          product_info: productInfo,
          special_objects: { blank_template: link('templates', '00000000-0000-0000-0000-000000000000') },
          summary: { vms: { total: s.vms.length, active: s.vms.filter((v) => v.status === 'up').length }, hosts: { total: s.hosts.length, active: s.hosts.length } },
          time: Date.now(),
        },
      ];

    const links = this.linkTargets(method, seg);
    if (links) return links;

    switch (col) {
      case 'datacenters':
        if (oid && sub === 'clusters')
          return coll(
            'cluster',
            s.clusters.filter((c) => c.data_center === oid).map((c) => clusterView(s, c, follow)),
          );
        if (oid && sub === 'networks')
          return coll(
            'network',
            s.networks.filter((n) => n.data_center === oid).map((n) => networkView(n, s, follow)),
          );
        if (oid && sub === 'storagedomains')
          return coll(
            'storage_domain',
            s.storagedomains.map((d) => storageDomainView(s, d)),
          );
        return oid
          ? [
              200,
              'data_center',
              datacenterView(
                s,
                one(s.datacenters, (d) => d.id === oid),
              ),
            ]
          : coll(
              'data_center',
              page('datacenters', s.datacenters, (d) => namedRecord(s, 'datacenters', d)).map((d) => datacenterView(s, d)),
            );
      case 'clusters':
        if (oid && sub === 'networks' && method === 'POST') {
          const cl = one(s.clusters, (c) => c.id === oid);
          const net = one(s.networks, (n) => n.id === obj(body).id || n.name === obj(body).name);
          if (!net.clusters.some((c) => c.id === cl.id)) net.clusters.push({ id: cl.id, required: bool(body.required) ?? false });
          return [201, 'network', networkView(net, s)];
        }
        if (oid && sub === 'networks') {
          // A network as a cluster has it: with its role there (required, display, status).
          return coll(
            'network',
            s.networks
              .filter((n) => n.clusters.some((c) => c.id === oid))
              .map((n) => ({ ...networkView(n, s), cluster: link('clusters', oid), required: n.clusters.find((c) => c.id === oid)?.required ?? false, display: false, status: 'operational' })),
          );
        }
        return oid
          ? [
              200,
              'cluster',
              clusterView(
                s,
                one(s.clusters, (c) => c.id === oid),
                follow,
              ),
            ]
          : coll(
              'cluster',
              page('clusters', s.clusters, (c) => namedRecord(s, 'clusters', c)).map((c) => clusterView(s, c, follow)),
            );
      case 'hosts':
        if (oid && sub === 'statistics')
          return coll(
            'statistic',
            hostStatistics(
              s,
              one(s.hosts, (h) => h.id === oid),
            ),
          );
        return oid
          ? [
              200,
              'host',
              hostView(
                s,
                one(s.hosts, (h) => h.id === oid),
                follow,
              ),
            ]
          : coll(
              'host',
              page('hosts', s.hosts, (h) => hostRecord(s, h)).map((h) => hostView(s, h, follow)),
            );
      case 'storagedomains':
        return oid
          ? [
              200,
              'storage_domain',
              storageDomainView(
                s,
                one(s.storagedomains, (d) => d.id === oid),
              ),
            ]
          : coll(
              'storage_domain',
              page('storagedomains', s.storagedomains, (d) => namedRecord(s, 'storagedomains', d)).map((d) => storageDomainView(s, d)),
            );
      case 'templates':
        if (!oid && method === 'POST') {
          const vmRef = obj(body.vm);
          const vm = s.vms.find((v) => v.id === vmRef.id || v.name === vmRef.name);
          if (!vm) throw badRequest('[Template [vm.id|name] required for add]');
          return [201, 'template', templateView(s, e.templateFromVm(body, vm, correlation))];
        }
        if (oid && sub === 'diskattachments')
          return coll(
            'disk_attachment',
            templateAttachments(
              one(s.templates, (x) => x.id === oid),
              follow.has('disk'),
            ),
          );
        if (oid && sub === 'nics') return coll('nic', []);
        if (oid && sub === 'graphicsconsoles')
          return coll('graphics_console', [{ id: '766e63', href: `${API}/templates/${oid}/graphicsconsoles/766e63`, protocol: 'vnc', template: link('templates', oid) }]);
        return oid
          ? [
              200,
              'template',
              templateView(
                s,
                one(s.templates, (t) => t.id === oid),
                follow,
              ),
            ]
          : coll(
              'template',
              page('templates', s.templates, (t) => templateRecord(s, t)).map((t) => templateView(s, t, follow)),
            );
      case 'networks':
        if (method === 'POST') {
          const dcRef = obj(body.data_center);
          const dc = s.datacenters.find((d) => d.id === dcRef.id || d.name === dcRef.name);
          if (!body.name || !dc) throw badRequest('[Network [name, dataCenter.id|name] required for add]');
          if (s.networks.some((n) => n.name === body.name && n.data_center === dc.id)) throw new Fault(409, 'Operation Failed', '[Cannot add Network. The network name is already in use.]');
          const vlan = num(obj(body.vlan).id);
          const net = {
            id: id(),
            name: String(body.name),
            data_center: dc.id,
            mtu: num(body.mtu) ?? 1500,
            clusters: [],
            ...(vlan ? { vlan } : {}),
            ...(body.description ? { description: String(body.description) } : {}),
          };
          s.networks.push(net);
          s.vnicprofiles.push({ id: id(), name: net.name, network: net.id });
          return [201, 'network', networkView(net, s)];
        }
        if (oid && method === 'DELETE') {
          s.networks = s.networks.filter((n) => n.id !== oid);
          s.vnicprofiles = s.vnicprofiles.filter((p) => p.network !== oid);
          return [200, 'action', { status: 'complete' }];
        }
        if (oid && sub === 'vnicprofiles')
          return coll(
            'vnic_profile',
            s.vnicprofiles.filter((p) => p.network === oid).map((p) => vnicProfileView(s, p, follow)),
          );
        return oid
          ? [
              200,
              'network',
              networkView(
                one(s.networks, (n) => n.id === oid),
                s,
                follow,
              ),
            ]
          : coll(
              'network',
              page('networks', s.networks, (n) => namedRecord(s, 'networks', n)).map((n) => networkView(n, s, follow)),
            );
      case 'vnicprofiles':
        return oid
          ? [
              200,
              'vnic_profile',
              vnicProfileView(
                s,
                one(s.vnicprofiles, (p) => p.id === oid),
                follow,
              ),
            ]
          : coll(
              'vnic_profile',
              s.vnicprofiles.map((p) => vnicProfileView(s, p, follow)),
            );
      case 'disks': {
        if (!oid && method === 'POST') return [201, 'disk', diskView(e.newDisk(body, 'disk'), s)];
        const d = oid ? one(s.disks, (x) => x.id === oid) : undefined;
        if (d && method === 'PUT') {
          // As the engine (4.4+): a floating disk's alias and description may change, its size only grow.
          e.updateDisk(d, { ...(body.alias !== undefined ? { alias: String(body.alias) } : {}), ...(body.description !== undefined ? { description: String(body.description) } : {}) });
          if (body.provisioned_size !== undefined) e.growFloating(d, num(body.provisioned_size) ?? d.provisioned_size);
          return [200, 'disk', diskView(d, s)];
        }
        if (d && method === 'DELETE') {
          e.removeDisk(d);
          return [200, 'action', { status: 'complete' }];
        }
        return d
          ? [200, 'disk', diskView(d, s)]
          : coll(
              'disk',
              page('disks', s.disks, (x) => diskRecord(s, x)).map((x) => diskView(x, s)),
            );
      }
      case 'jobs':
        return coll(
          'job',
          page('jobs', s.jobs, jobRecord).map((j) => ({ ...j, href: `${API}/jobs/${j.id}` })),
        );
      case 'events': {
        const from = Number(q.get('from') ?? 0);
        const max = Number(q.get('max') ?? 100);
        const parsed = this.parse('events', q);
        const matching = parsed
          ? applySearch(
              s.events.filter((ev) => ev.index > from),
              (ev) => eventRecord(s, ev),
              SCHEMAS.events ?? { object: 'Events', fields: {} },
              { ...(parsed.where ? { where: parsed.where } : {}) },
              searchOptions(q),
            )
          : [];
        const items = matching.sort((a, b) => b.index - a.index).slice(0, from ? undefined : max);
        return coll(
          'event',
          items.map((ev) => eventView(s, ev)),
        );
      }
      case 'tags':
        if (method === 'POST') {
          const t = { id: id(), name: String(body.name ?? '') };
          s.tags.push(t);
          return [201, 'tag', { ...t, href: `${API}/tags/${t.id}` }];
        }
        return coll(
          'tag',
          s.tags.map((t) => ({ ...t, href: `${API}/tags/${t.id}` })),
        );
      case 'vms':
        return this.vms(method, oid, sub, sid, q, body, req, follow, correlation, page);
      default:
        throw notFound();
    }
  }

  private vms(
    method: string,
    oid: string | undefined,
    sub: string | undefined,
    sid: string | undefined,
    q: URLSearchParams,
    body: Tree,
    req: IncomingMessage,
    follow: Follow,
    correlation: string | undefined,
    page: <T>(collection: string, items: readonly T[], record: (x: T) => SearchRecord) => T[],
  ): Promise<[number, string, unknown]> | [number, string, unknown] {
    const s = this.engine.state;
    const e = this.engine;
    if (!oid) {
      if (method === 'POST') {
        const vm = e.createVm(body, q.get('clone') === 'true', correlation);
        if (req.headers.expect === '201-created') {
          return new Promise((resolve) => {
            const poll = () => (vm.status === 'image_locked' ? setTimeout(poll, 20) : resolve([201, 'vm', vmView(s, vm, follow)]));
            poll();
          });
        }
        return [202, 'vm', vmView(s, vm, follow)];
      }
      const items = page('vms', s.vms, (v) => vmRecord(s, v)).map((v) => vmView(s, v, follow));
      return [200, 'vms', items.length ? { vm: items } : {}];
    }
    const vm = e.vm(oid);
    if (!sub) {
      if (method === 'PUT') {
        e.updateVm(vm, body, q.get('next_run') === 'true');
        return [200, 'vm', vmView(s, vm, follow)];
      }
      if (method === 'DELETE') {
        e.deleteVm(vm, { detachOnly: q.get('detach_only') === 'true' });
        return [200, 'action', { status: 'complete' }];
      }
      return [200, 'vm', vmView(s, vm, follow, q.get('next_run') === 'true')];
    }
    if (['start', 'stop', 'shutdown', 'reboot', 'migrate', 'cancelmigration'].includes(sub) && method === 'POST') {
      e.action(vm, sub, body, correlation);
      return [200, 'action', { status: 'complete', vm: link('vms', vm.id) }];
    }
    if (sub === 'diskattachments') {
      if (method === 'POST') return [201, 'disk_attachment', attachmentView(s, vm, e.addDisk(vm, body), true)];
      if (sid && method === 'PUT') {
        const a = vm.attachments.find((x) => x.id === sid);
        if (!a) throw notFound();
        if (bool(body.active) !== undefined) a.active = bool(body.active) ?? a.active;
        const size = num(obj(body.disk).provisioned_size);
        if (size !== undefined) e.growDisk(vm, sid, size);
        return [200, 'disk_attachment', attachmentView(s, vm, vm.attachments.find((a) => a.id === sid) as SimVM['attachments'][number], true)];
      }
      if (sid && method === 'DELETE') {
        const a = vm.attachments.find((x) => x.id === sid);
        if (!a) throw notFound();
        vm.attachments = vm.attachments.filter((x) => x !== a);
        // v4: a disk attachment's removal only detaches, unless detach_only=false.
        if (q.get('detach_only') === 'false') s.disks = s.disks.filter((d) => d.id !== a.disk);
        return [200, 'action', { status: 'complete' }];
      }
      return [200, 'disk_attachments', vm.attachments.length ? { disk_attachment: vm.attachments.map((a) => attachmentView(s, vm, a, follow.has('disk'))) } : {}];
    }
    if (sub === 'nics') {
      if (method === 'POST') {
        const n = {
          id: id(),
          name: String(body.name ?? `nic${vm.nics.length + 1}`),
          interface: String(body.interface ?? 'virtio'),
          mac: String(obj(body.mac).address ?? mac()),
          ...(obj(body.vnic_profile).id ? { vnic_profile: String(obj(body.vnic_profile).id) } : {}),
          plugged: true,
          linked: true,
        };
        vm.nics.push(n);
        return [201, 'nic', nicView(vm, n, s)];
      }
      const n = sid ? vm.nics.find((x) => x.id === sid) : undefined;
      if (sid && !n) throw notFound();
      if (n && method === 'PUT') {
        const p = obj(body.vnic_profile).id;
        if (p) n.vnic_profile = String(p);
        if (body.interface) n.interface = String(body.interface);
        return [200, 'nic', nicView(vm, n, s, follow)];
      }
      if (n && method === 'DELETE') {
        vm.nics = vm.nics.filter((x) => x !== n);
        return [200, 'action', { status: 'complete' }];
      }
      if (n) return [200, 'nic', nicView(vm, n, s, follow)];
      return [200, 'nics', vm.nics.length ? { nic: vm.nics.map((x) => nicView(vm, x, s, follow)) } : {}];
    }
    if (sub === 'cdroms' && method === 'GET')
      return [200, 'cdroms', { cdrom: [{ id: '00000000-0000-0000-0000-000000000000', href: `${API}/vms/${vm.id}/cdroms/00000000-0000-0000-0000-000000000000`, vm: link('vms', vm.id) }] }];
    if (sub === 'snapshots' && method === 'GET') {
      return [
        200,
        'snapshots',
        {
          snapshot: [
            {
              id: `${vm.id.slice(0, 24)}a0715e000000`,
              href: `${API}/vms/${vm.id}/snapshots/${vm.id.slice(0, 24)}a0715e000000`,
              description: 'Active VM',
              date: vm.creation_time,
              snapshot_type: 'active',
              snapshot_status: 'ok',
              persist_memorystate: false,
              vm: link('vms', vm.id),
            },
          ],
        },
      ];
    }
    const empty = EMPTY_VM_COLLECTIONS[sub];
    if (empty && method === 'GET') return [200, empty, {}];
    if (sub === 'graphicsconsoles' && method === 'GET') return [200, 'graphics_consoles', { graphics_console: graphicsConsoles(vm, q.get('current') === 'true') }];
    if (sub === 'statistics' && method === 'GET') return [200, 'statistics', { statistic: vmStatistics(vm) }];
    if (sub === 'tags' && method === 'GET')
      return [200, 'tags', vm.tags.length ? { tag: vm.tags.map((t) => ({ ...link('tags', t), name: s.tags.find((x) => x.id === t)?.name, vm: link('vms', vm.id) })) } : {}];
    if (sub === 'tags' && method === 'POST') {
      const t = s.tags.find((x) => x.id === obj(body).id || x.name === obj(body).name);
      if (!t) throw badRequest('[Tag [id|name] required]');
      if (!vm.tags.includes(t.id)) vm.tags.push(t.id);
      return [201, 'tag', { ...t, href: `${API}/tags/${t.id}` }];
    }
    throw notFound();
  }

  private admin(req: IncomingMessage, res: ServerResponse, url: URL, text: string): void {
    const json = (v: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /_sim/stats':
        return void json(this.stats());
      case 'POST /_sim/reset-stats':
        this.resetStats();
        return void json({});
      case 'GET /_sim/state':
        return void json(this.engine.state);
      case 'GET /_sim/log':
        return void json(this.log);
      case 'PUT /_sim/state':
        this.engine.state = JSON.parse(text) as EngineState;
        return void json({});
      case 'POST /_sim/faults':
        this.faults = JSON.parse(text || '{}') as OvirtFaults;
        return void json(this.faults);
      default:
        res.writeHead(404).end();
    }
  }
}

/** `max` and `case_sensitive` as the engine reads them: a value that is not a number or a boolean is ignored. */
function searchOptions(q: URLSearchParams): { max?: number; caseSensitive: boolean } {
  const m = q.get('max');
  const max = m !== null && /^-?\d+$/.test(m) ? Number(m) : undefined;
  const cs = q.get('case_sensitive');
  const caseSensitive = cs === null || cs === '' || !/^(false|no|0)$/i.test(cs);
  return { ...(max !== undefined ? { max } : {}), caseSensitive };
}

/** A VM's collections the simulator keeps empty, by their element name (the engine's root elements). */
const EMPTY_VM_COLLECTIONS: Record<string, string> = {
  numanodes: 'vm_numa_nodes',
  watchdogs: 'watchdogs',
  floppies: 'floppies',
  hostdevices: 'host_devices',
  permissions: 'permissions',
  reporteddevices: 'reported_devices',
  sessions: 'sessions',
  applications: 'applications',
  affinitylabels: 'affinity_labels',
  katelloerrata: 'katello_errata',
  mediateddevices: 'vm_mediated_devices',
  backups: 'backups',
  checkpoints: 'checkpoints',
};

/** The subcollections the routes above answer themselves. */
const MODELLED = new Set([
  'clusters/networks',
  'datacenters/clusters',
  'datacenters/networks',
  'datacenters/storagedomains',
  'hosts/statistics',
  'templates/diskattachments',
  'templates/nics',
  'templates/graphicsconsoles',
  'networks/vnicprofiles',
  'vms/diskattachments',
  'vms/nics',
  'vms/tags',
  'vms/graphicsconsoles',
  'vms/statistics',
  'vms/cdroms',
  'vms/snapshots',
  ...Object.keys(EMPTY_VM_COLLECTIONS).map((k) => `vms/${k}`),
]);

/** Every other subcollection a link names, by the root element an engine answers it with. */
const SUBCOLLECTION_ROOTS: Record<string, string> = {
  affinitygroups: 'affinity_groups',
  affinitylabels: 'affinity_labels',
  cdroms: 'cdroms',
  cpuprofiles: 'cpu_profiles',
  devices: 'host_devices',
  diskprofiles: 'disk_profiles',
  disks: 'disks',
  disksnapshots: 'disk_snapshots',
  enabledfeatures: 'cluster_features',
  externalnetworkproviders: 'external_providers',
  fenceagents: 'agents',
  glusterhooks: 'gluster_hooks',
  glustervolumes: 'gluster_volumes',
  hooks: 'hooks',
  iscsibonds: 'iscsi_bonds',
  katelloerrata: 'katello_errata',
  mediateddevices: 'vm_mediated_devices',
  networkattachments: 'network_attachments',
  networkfilters: 'network_filters',
  networklabels: 'network_labels',
  nics: 'host_nics',
  numanodes: 'host_numa_nodes',
  permissions: 'permissions',
  qoss: 'qoss',
  quotas: 'quotas',
  statistics: 'statistics',
  storage: 'host_storages',
  storageconnectionextensions: 'storage_connection_extensions',
  storageconnections: 'storage_connections',
  tags: 'tags',
  templates: 'templates',
  unmanagednetworks: 'unmanaged_networks',
  vms: 'vms',
  watchdogs: 'watchdogs',
};

/** Objects with fixed ids that representations link to (the default profiles, MAC pool, scheduling policy, the admin user). */
const FIXED_OBJECTS: Record<string, string> = {
  cpuprofiles: 'cpu_profile',
  diskprofiles: 'disk_profile',
  macpools: 'mac_pool',
  schedulingpolicies: 'scheduling_policy',
  networkfilters: 'network_filter',
  users: 'user',
};
