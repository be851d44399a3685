// The inventory server over real HTTP: the API against its OpenAPI document, the guard (token,
// cookie, CSRF, Host, headers) and the intake's answers to bad input. The feed is fed fixed
// observations (the browser test drives the real fleet).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyResource } from '../../controller/api/types.ts';
import { InventoryFeed } from '../../controller/ui/feed.ts';
import { folderSink } from '../../controller/ui/intake.ts';
import { checkExposure, SECURITY_HEADERS } from '../../controller/ui/security.ts';
import { startUiServer, type UiServer } from '../../controller/ui/server.ts';
import { vm } from './support.ts';

const hv = (name: string, type: string): AnyResource =>
  ({ apiVersion: 'virtkeeper.io/v1alpha1', kind: 'Hypervisor', metadata: { name }, spec: { type, endpoint: 'https://x' } }) as unknown as AnyResource;
const declared: AnyResource[] = [hv('e15-test', 'ovirt')];

function feedOf(now: () => number): InventoryFeed {
  return new InventoryFeed({
    now,
    records: async () => [],
    observations: async () => [
      {
        name: 'e15-test',
        type: 'ovirt',
        observedAt: now(),
        observation: {
          vms: [vm('taken', { owner: { kind: 'VirtualMachine', namespace: 'billing', name: 'taken' }, usage: { cpuRatio: 0.3, memoryUsedBytes: 5 } }), vm('legacy', { power: 'stopped' })],
          nodes: [{ name: 'n1', state: 'online', cpus: 4, memoryBytes: 2 ** 36, memoryUsedBytes: 2 ** 30 }],
          templates: [],
        },
      },
    ],
  });
}

const request = (name: string, engine = 'e15-test') => ({
  meta: { document_num: 'REQ-1', inf_system: 'billing' },
  ovirt: { engine, cluster: 'Default' },
  vm: { name, cores: 2, memory: 4, disks: [{ size: 40 }] },
  vlan: { name: 'vlan120', id: 120 },
});

const upload = (url: string, body: Uint8Array<ArrayBuffer> | string, filename = 'req.json', headers: Record<string, string> = {}) => {
  const form = new FormData();
  form.set('jsonfile', new Blob([body]), filename);
  return fetch(`${url}api/v1/requests`, { method: 'POST', body: form, headers });
};

describe('inventory server (loopback, no token)', () => {
  let server: UiServer;
  let feed: InventoryFeed;
  let dir: string;
  const ajv = new Ajv2020({ strict: false });
  addFormats.default(ajv);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vkui-srv-'));
    feed = feedOf(Date.now);
    await feed.refresh();
    server = await startUiServer({ listen: '127.0.0.1:0', feed, now: Date.now, intake: { sink: folderSink(join(dir, 'requests')), declared: () => declared, conventions: async () => ({}) } });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const validate = async (res: Response, schema: string) => {
    const doc = (await (await fetch(`${server.url}api/v1/openapi.json`)).json()) as { components: object };
    const check = ajv.compile({ $ref: `#/components/schemas/${schema}`, components: doc.components });
    const body: unknown = await res.json();
    expect(check(body), JSON.stringify(check.errors)).toBe(true);
    return body;
  };

  it('answers every API route as its OpenAPI document says', async () => {
    const list = (await validate(await fetch(`${server.url}api/v1/vms?managed=true`), 'VMList')) as { items: { name: string }[] };
    expect(list.items.map((v) => v.name)).toEqual(['taken']);
    await validate(await fetch(`${server.url}api/v1/vms/e15-test/taken`), 'VMDetail');
    const missing = await fetch(`${server.url}api/v1/vms/e15-test/nope`);
    expect(missing.status).toBe(404);
    await validate(missing, 'Error');
    await validate(await fetch(`${server.url}api/v1/hypervisors`), 'HypervisorList');
    feed.sink({ type: 'error', key: 'VirtualMachine/billing/taken', code: 'VK_X', message: 'boom', retrying: true });
    await validate(await fetch(`${server.url}api/v1/events`), 'EventList');
    const plan = (await validate(await upload(server.url, JSON.stringify([request('fresh')])), 'Request')) as { plan: { action: string; node?: string }[] };
    expect(plan.plan.map((r) => r.action)).toEqual(['create', 'create']);
  });

  it('sends the security headers, a CSP without inline script and frame-ancestors none', async () => {
    const res = await fetch(server.url);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(k)).toBe(v);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect(await res.text()).not.toMatch(/<script>|style=/);
  });

  it('answers loopback names only (no DNS rebinding)', async () => {
    // fetch will not send another Host: node:http will.
    const status = await new Promise<number>((resolve, reject) =>
      get(server.url, { headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject),
    );
    expect(status).toBe(421);
  });

  it('refuses a browser POST without the CSRF token, takes it with the token of the page', async () => {
    const cross = await upload(server.url, JSON.stringify(request('x1')), 'r.json', { origin: 'https://evil.example' });
    expect(cross.status).toBe(403);
    const page = await fetch(`${server.url}requests`);
    const cookie = page.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const form = new FormData();
    form.set('_csrf', csrf);
    form.set('jsonfile', new Blob([JSON.stringify(request('x1'))]), 'r.json');
    const headers = { origin: server.url.slice(0, -1), cookie: cookie.split(';')[0] ?? '' };
    const ok = await fetch(`${server.url}requests`, { method: 'POST', body: form, headers });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('create on n1');
    const bad = new FormData();
    bad.set('_csrf', 'forged');
    bad.set('jsonfile', new Blob([JSON.stringify(request('x1'))]), 'r.json');
    expect((await fetch(`${server.url}requests`, { method: 'POST', body: bad, headers })).status).toBe(403);
  });

  it.each([
    ['neither JSON nor xlsx', 'this is not json', 'r.txt', 'neither JSON nor a .xlsx'],
    ['a broken spreadsheet', 'PK\u0003\u0004 garbage', 'r.xlsx', 'spreadsheet cannot be read'],
    ['JSON that is no request', '[1, 2]', 'r.json', 'not a request'],
  ])('refuses %s with 400 and writes nothing', async (_what, body, filename, text) => {
    const res = await upload(server.url, body, filename);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(text);
    await expect(readdir(join(dir, 'requests'))).rejects.toThrow();
  });

  it('shows an unknown engine and a duplicate name per row, and will not accept them', async () => {
    const form = new FormData();
    form.set('jsonfile', new Blob([JSON.stringify([request('legacy'), request('other', 'e99'), request('ok'), { vm: { name: 'nocpu', memory: 'x' }, ovirt: { engine: 'e15-test' } }])]), 'r.json');
    form.set('accept', 'true');
    const res = await fetch(`${server.url}api/v1/requests`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('cannot be accepted');
    const shown = (await (await upload(server.url, JSON.stringify([request('legacy'), request('other', 'e99'), request('ok')]))).json()) as {
      plan: { name: string; action: string; message: string }[];
      acceptable: boolean;
    };
    expect(shown.acceptable).toBe(false);
    expect(shown.plan.find((r) => r.name === 'legacy')).toMatchObject({ action: 'error', message: expect.stringContaining('duplicate name') });
    expect(shown.plan.find((r) => r.name === 'other')).toMatchObject({ action: 'error', message: expect.stringContaining('unknown engine e99') });
    expect(shown.plan.find((r) => r.name === 'ok')).toMatchObject({ action: 'create' });
    await expect(readdir(join(dir, 'requests'))).rejects.toThrow();
  });

  it('takes a request spreadsheet (.xlsx) as the JSON request', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('requests');
    ws.addRow(['name', 'cores', 'memory_gb', 'disks_gb', 'engine', 'cluster', 'vlan_name', 'vlan_id', 'document', 'system']);
    ws.addRow(['sheet-vm', 2, 4, '40', 'e15-test', 'Default', 'vlan120', 120, 'REQ-X', 'billing']);
    const data = new Uint8Array(await wb.xlsx.writeBuffer());
    const res = (await (await upload(server.url, data, 'request.xlsx')).json()) as { documentNumber?: string; plan: { kind: string; name: string; action: string }[] };
    expect(res.documentNumber).toBe('REQ-X');
    expect(res.plan.map((r) => `${r.kind} ${r.name} ${r.action}`)).toEqual(['VirtualNetwork vlan120 create', 'VirtualMachine sheet-vm create']);
  });

  it('refuses an oversized upload with 413', async () => {
    const res = await upload(server.url, new Uint8Array(1024 * 1024 + 10).fill(32));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('VK_UI_UPLOAD_TOO_LARGE');
  });

  it('accepts a good request: one file in the requests folder, a duplicate accept refused', async () => {
    const form = new FormData();
    form.set('jsonfile', new Blob([JSON.stringify([request('good-1')])]), 'r.json');
    form.set('accept', 'true');
    const res = (await (await fetch(`${server.url}api/v1/requests`, { method: 'POST', body: form })).json()) as { accepted?: { files: string[] } };
    expect(res.accepted?.files).toEqual([join(dir, 'requests', 'REQ-1.yaml')]);
    const again = new FormData();
    again.set('jsonfile', new Blob([JSON.stringify([request('good-2')])]), 'r.json');
    again.set('accept', 'true');
    const second = await fetch(`${server.url}api/v1/requests`, { method: 'POST', body: again });
    expect(second.status).toBe(400);
    expect(await readdir(join(dir, 'requests'))).toEqual(['REQ-1.yaml']);
  });
});

describe('inventory server off loopback', () => {
  it('refuses to listen on a non-loopback address without a token', async () => {
    expect(() => checkExposure('0.0.0.0', undefined)).toThrow(/--ui-token-file/);
    await expect(startUiServer({ listen: '0.0.0.0:0', feed: feedOf(Date.now), now: Date.now })).rejects.toMatchObject({ code: 'VK_UI_TOKEN_REQUIRED' });
  });

  it('with a token: 401 for the API without it, a login form for the page, an HttpOnly SameSite cookie after it', async () => {
    const token = 'x'.repeat(40);
    const feed = feedOf(Date.now);
    await feed.refresh();
    const server = await startUiServer({ listen: '0.0.0.0:0', token, feed, now: Date.now });
    try {
      expect((await fetch(`${server.url}api/v1/vms`)).status).toBe(401);
      expect((await fetch(`${server.url}api/v1/vms`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(`${server.url}api/v1/vms`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      const page = await fetch(server.url, { redirect: 'manual' });
      expect(page.status).toBe(303);
      expect(page.headers.get('location')).toBe('/login?next=%2F');
      const wrong = await fetch(`${server.url}login`, { method: 'POST', body: new URLSearchParams({ token: 'nope', next: '/' }), redirect: 'manual' });
      expect(wrong.status).toBe(401);
      const login = await fetch(`${server.url}login`, { method: 'POST', body: new URLSearchParams({ token, next: '/nodes' }), redirect: 'manual' });
      expect(login.status).toBe(303);
      const cookie = login.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Strict/i);
      for (const elsewhere of ['//evil.example/', '/\\evil.example/', 'https://evil.example/']) {
        const r = await fetch(`${server.url}login`, { method: 'POST', body: new URLSearchParams({ token, next: elsewhere }), redirect: 'manual' });
        expect(r.headers.get('location'), elsewhere).toBe('/');
      }
      const nodes = await fetch(`${server.url}nodes`, { headers: { cookie: cookie.split(';')[0] ?? '' } });
      expect(nodes.status).toBe(200);
      expect(await nodes.text()).toContain('data-node="n1"');
    } finally {
      await server.close();
    }
  });

  it('read-only: intake answers 403 and the page has no Requests link', async () => {
    const feed = feedOf(Date.now);
    const server = await startUiServer({ listen: '127.0.0.1:0', feed, now: Date.now });
    try {
      const res = await upload(server.url, JSON.stringify(request('ro')));
      expect(res.status).toBe(403);
      expect(await (await fetch(server.url)).text()).not.toContain('href="/requests"');
      expect((await fetch(`${server.url}requests`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe('inventory server at scale', () => {
  it('serves a page of 10,000 VMs, filtered and sorted, in under a second', async () => {
    const vms = Array.from({ length: 10_000 }, (_, i) => vm(`vm-${i}`, { node: `n${i % 16}`, owner: i % 3 ? { kind: 'VirtualMachine', namespace: `ns${i % 7}`, name: `vm-${i}` } : undefined }));
    const feed = new InventoryFeed({
      now: Date.now,
      records: async () => [],
      observations: async () => [{ name: 'big', type: 'proxmox', observedAt: Date.now(), observation: { vms, nodes: [], templates: [] } }],
    });
    await feed.refresh();
    const server = await startUiServer({ listen: '127.0.0.1:0', feed, now: Date.now });
    try {
      await fetch(server.url); // warm
      const times: number[] = [];
      for (const q of ['', '?sort=memory&desc=1', '?managed=true&namespace=ns3&q=vm-1', '?page=50']) {
        const t0 = performance.now();
        const res = await fetch(`${server.url}${q}`);
        const text = await res.text();
        times.push(performance.now() - t0);
        expect(res.status).toBe(200);
        expect(text).toContain('VMs');
      }
      const api = performance.now();
      const all = (await (await fetch(`${server.url}api/v1/vms`)).json()) as { total: number };
      times.push(performance.now() - api);
      expect(all.total).toBe(10_000);
      console.log(`10,000 VMs: page and API times (ms) ${times.map((t) => t.toFixed(0)).join(', ')}`);
      for (const t of times) expect(t).toBeLessThan(1000);
    } finally {
      await server.close();
    }
  });
});
