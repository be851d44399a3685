// The engine's search language: the parser's tables, then the simulator over HTTP as clients
// send it (the ovirt.ovirt collection quotes every value: `name="Default"`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { applySearch, parseSearch, SearchSyntaxError, tokenize, type SearchRecord } from '../../providers/ovirt/simulator/search.ts';
import { SCHEMAS } from '../../providers/ovirt/simulator/search-fields.ts';

const vms = SCHEMAS.vms ?? { object: 'VMs', fields: {} };
interface Row {
  NAME: string;
  STATUS: string;
  CLUSTER: string;
  MEMORY: number;
  TAG: string[];
  host?: string;
}
const rows: Row[] = [
  { NAME: 'web-1', STATUS: 'Up', CLUSTER: 'Default', MEMORY: 2048, TAG: ['prod'], host: 'host1' },
  { NAME: 'web-2', STATUS: 'Down', CLUSTER: 'Default', MEMORY: 4096, TAG: [] },
  { NAME: 'Web_3', STATUS: 'ImageLocked', CLUSTER: 'Edge', MEMORY: 1024, TAG: ['prod', 'edge'] },
  { NAME: 'db 1', STATUS: 'Up', CLUSTER: 'Edge', MEMORY: 8192, TAG: [], host: 'host2' },
];
const record = (r: Row): SearchRecord => ({
  field: (f) => (r as unknown as Record<string, string | number | string[]>)[f],
  ref: (n) => (n === 'HOST' && r.host ? [{ field: (f) => (f === 'NAME' ? r.host : undefined) }] : []),
});
const names = (search: string, o: { caseSensitive?: boolean; max?: number } = {}) => applySearch(rows, record, vms, parseSearch(search, vms), o).map((r) => r.NAME);

describe('tokenizer', () => {
  it.each([
    ['name=web*', ['word:name', 'rel:=', 'value:web*']],
    ['name="db 1"', ['word:name', 'rel:=', 'value:db 1']],
    ['memory>=2048 and status!=down', ['word:memory', 'rel:>=', 'value:2048', 'word:and', 'word:status', 'rel:!=', 'value:down']],
    ['sortby name desc page 2', ['word:sortby', 'word:name', 'word:desc', 'word:page', 'word:2']],
    ['"free text"', ['word:free text']],
    ['hello! name=x!', ['word:hello!', 'word:name', 'rel:=', 'value:x!']],
  ])('%s', (text, want) => {
    expect(tokenize(text).map((t) => `${t.kind}:${t.text}`)).toEqual(want);
  });
});

describe('search semantics (as the engine: LIKE, enum names, AND before OR, default sort by name)', () => {
  it.each([
    ['', ['db 1', 'Web_3', 'web-1', 'web-2']], // by name in the database's collation: case does not come first
    ['name=web-1', ['web-1']],
    ['name="web-1"', ['web-1']],
    ['name="db 1"', ['db 1']],
    ['name=web*', ['web-1', 'web-2']],
    ['name=*-*', ['web-1', 'web-2']],
    ['name=web_3', []], // `_` is literal, and the match is case-sensitive
    ['NAME=Web_3', ['Web_3']],
    ['name!=web*', ['db 1', 'Web_3']],
    ['status=up', ['db 1', 'web-1']],
    ['status=imagelocked', ['Web_3']],
    ['status=up and cluster=Edge', ['db 1']],
    ['status=up cluster=Edge', ['db 1']], // side by side is AND
    ['status=down or cluster=Edge and memory<2048', ['Web_3', 'web-2']], // AND binds tighter
    ['memory>2048', ['db 1', 'web-2']],
    ['memory<=2048', ['Web_3', 'web-1']],
    ['tag=prod', ['Web_3', 'web-1']],
    ['tag=edge', ['Web_3']],
    ['host=host2', ['db 1']],
    ['host.name=host*', ['db 1', 'web-1']],
    ['hosts.name=host1', ['web-1']],
    ['web', ['web-1', 'web-2']], // free text: any text field contains it
    ['sortby memory desc', ['db 1', 'web-2', 'web-1', 'Web_3']],
    ['name=web* sortby name desc', ['web-2', 'web-1']],
    ['sortby name asc page 2', []], // no max: everything is on page 1
  ])('%s', (search, want) => {
    expect(names(search)).toEqual(want);
  });

  it('case_sensitive=false matches as ILIKE', () => {
    expect(names('name=web*', { caseSensitive: false })).toEqual(['Web_3', 'web-1', 'web-2']);
    expect(names('name=WEB-1', { caseSensitive: false })).toEqual(['web-1']);
  });

  it('pages by max', () => {
    expect(names('sortby name asc', { max: 3 })).toEqual(['db 1', 'Web_3', 'web-1']);
    expect(names('sortby name asc page 2', { max: 3 })).toEqual(['web-2']);
    expect(names('name=web* page 1', { max: 1 })).toEqual(['web-1']);
  });

  it.each([
    ['status=running', 'INVALID_CONDITION_VALUE'], // REST says up; the search takes the engine's enum names
    ['status=image_locked', 'INVALID_CONDITION_VALUE'],
    ['memory=lots', 'INVALID_CONDITION_VALUE'],
    ['name>web', 'INVALID_CONDITION_RELATION'],
    ["name='web'", 'INVALID_CHARECTER'],
    ['name=web;', 'INVALID_CHARECTER'],
    ['name=ab"c', 'INVALID_CONDITION_VALUE'],
    ['name=web\\', 'INVALID'], // the engine refuses a trailing escape character
    ['name="web', 'INVALID'],
    ['name=', 'INVALID'],
    ['and name=web', 'INVALID_POST_OR_AND_PHRASE'],
    ['name=web and', 'INVALID_POST_OR_AND_PHRASE'],
    ['sortby colour', 'INVALID_SORT_FIELD'],
    ['sortby name page 2', 'INVALID_SORT_DIRECTION'],
    ['sortby name asc name=x', 'INVALID_PAGE_FEILD'],
    ['page two', 'INVALID_CHARECTER'],
    ['page 2 name=web', 'NOTHING_COMES_AFTER_PAGE_VALUE'],
    ['host.colour=x', 'INVALID_CONDITION_FILED'],
  ])('%s does not parse (%s)', (search, code) => {
    let err: unknown;
    try {
      parseSearch(search, vms);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SearchSyntaxError);
    expect((err as SearchSyntaxError).code).toBe(code);
  });

  it('a field this collection does not have is free text, as the engine reads it', () => {
    expect(parseSearch('colour=red', vms).where).toEqual({ kind: 'cond', rel: '=', value: 'colour=red' });
    expect(names('colour=red')).toEqual([]);
  });
});

describe('the simulator answers searches as an engine', () => {
  let sim: RunningOvirtSimulator;
  const get = async (path: string, accept = 'application/json') => {
    const r = await fetch(`${sim.url}${path}`, { headers: { authorization: `Basic ${Buffer.from(`${sim.credentials.username}:${sim.credentials.password}`).toString('base64')}`, accept } });
    const text = await r.text();
    return { status: r.status, text, json: (accept.includes('json') && text ? JSON.parse(text) : {}) as Record<string, { name: string }[] | string> };
  };
  const q = (s: string) => encodeURIComponent(s);
  beforeAll(async () => {
    sim = await startOvirtSimulator({ name: 'search', hosts: 2, templates: ['centos-9', 'CentOS-Stream'], imageCopyMs: 10 });
  });
  afterAll(() => sim.close());

  it('takes the quoted values the ovirt.ovirt collection sends, on every collection', async () => {
    for (const [col, key, name] of [
      ['clusters', 'cluster', 'Default'],
      ['datacenters', 'data_center', 'Default'],
      ['storagedomains', 'storage_domain', 'data1'],
      ['hosts', 'host', 'host2'],
      ['templates', 'template', 'Blank'],
      ['networks', 'network', 'ovirtmgmt'],
    ] as const) {
      const r = await get(`/${col}?search=${q(`name="${name}"`)}`);
      expect(r.status).toBe(200);
      expect((r.json[key] as { name: string }[]).map((x) => x.name)).toEqual([name]);
    }
  });

  it('templates: wildcards, case sensitivity by query parameter, datacenter and status', async () => {
    const list = async (s: string, extra = '') => ((await get(`/templates?search=${q(s)}${extra}`)).json.template as { name: string }[] | undefined)?.map((t) => t.name) ?? [];
    expect(await list('name=centos*')).toEqual(['centos-9']);
    expect(await list('name=centos*', '&case_sensitive=false')).toEqual(['centos-9', 'CentOS-Stream']);
    expect(await list('datacenter=Default and status=ok sortby name desc')).toEqual(['CentOS-Stream', 'centos-9']);
  });

  it('a search that does not parse: 200 and nothing, in JSON and XML, and the reason in the engine log only', async () => {
    const r = await get(`/vms?search=${q('status=running')}`);
    expect([r.status, r.json]).toEqual([200, {}]);
    const x = await get(`/vms?search=${q('sortby colour')}`, 'application/xml');
    expect(x.status).toBe(200);
    expect(x.text).toMatch(/<vms\/>|<vms><\/vms>|<vms>\s*<\/vms>/);
    const log = (await (await fetch(sim.url.replace('/ovirt-engine/api', '/_sim/log'))).json()) as string[];
    expect(log).toContain("INFO ResourceManager::searchBusinessObjects - erroneous search text - 'VMs:status=running' error - 'INVALID_CONDITION_VALUE'");
  });

  it("a negative max is the engine's 400", async () => {
    const r = await get('/vms?max=-1');
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ reason: 'Operation Failed', detail: 'Illegal max count value for query : -1' });
  });
});
