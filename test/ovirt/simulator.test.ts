// The engine simulator as other oVirt clients see it: raw HTTP, JSON and XML.
import { request as httpRequest } from 'node:http';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';

let sim: RunningOvirtSimulator;
let token: string;
const GiB = 2 ** 30;

interface EventBody {
  index: string;
  vm?: { id: string };
}
/** The fields these tests read from the engine's JSON bodies, in one shape: a body without one fails the expectation that reads it. */
interface Body {
  id: string;
  name: string;
  status: string;
  memory: string;
  delete_protected: string;
  next_run_configuration_exists: string;
  detail: string;
  cpu: { topology: { sockets: string; cores: string } };
  host: { id: string };
  disk: { status: string };
  disk_attachments: { disk_attachment: [Body, ...Body[]] };
  vm: [Body, ...Body[]];
  event: [EventBody, ...EventBody[]];
}

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', version: '4', ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, json: (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : {}) as Body };
}
const waitFor = async (fn: () => Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await fn()); i++) await new Promise((r) => setTimeout(r, 20));
};

beforeAll(async () => {
  sim = await startOvirtSimulator({ name: 'e15', templates: ['centos-9'], imageCopyMs: 150, bootStepMs: 20, migrateMs: 60, diskResizeMs: 40 });
  const r = await fetch(sim.url.replace('/api', '/sso/oauth/token'), {
    method: 'POST',
    headers: { accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'password', scope: 'ovirt-app-api', username: sim.credentials.username, password: sim.credentials.password }),
  });
  const j = (await r.json()) as { access_token: string; exp: string; token_type: string };
  expect(typeof j.exp).toBe('string');
  expect(j.token_type).toBe('bearer');
  token = j.access_token;
});
afterAll(() => sim.close());

describe('oVirt simulator', () => {
  it.each([
    [{ grant_type: 'password', username: 'admin@internal', password: 'x' }, 'invalid_request'],
    [{ grant_type: 'password', scope: 'ovirt-app-api', username: 'admin@internal', password: 'wrong' }, 'access_denied'],
  ])('SSO refuses %j with %s', async (form, code) => {
    const r = await fetch(sim.url.replace('/api', '/sso/oauth/token'), { method: 'POST', body: new URLSearchParams(form as Record<string, string>) });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error_code: string }).error_code).toBe(code);
  });

  it('refuses a bad token with 401, accepts Basic auth', async () => {
    expect((await fetch(`${sim.url}/vms`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const basic = Buffer.from(`${sim.credentials.username}:${sim.credentials.password}`).toString('base64');
    expect((await fetch(`${sim.url}/vms`, { headers: { authorization: `Basic ${basic}` } })).status).toBe(200);
  });

  it('creates from a template with 202 and image_locked, then down; numbers and booleans are strings', async () => {
    const r = await api('POST', '/vms', { name: 'web-1', cluster: { name: 'Default' }, template: { name: 'centos-9' }, memory: 2 * GiB, memory_policy: { max: 8 * GiB } });
    expect(r.status).toBe(202);
    expect(r.json.status).toBe('image_locked');
    expect(r.json.memory).toBe(String(2 * GiB));
    expect(r.json.delete_protected).toBe('false');
    await waitFor(async () => (await api('GET', `/vms/${r.json.id}`)).json.status === 'down');
  });

  it('answers in XML by default, with id and href as attributes, and takes XML bodies', async () => {
    const res = await fetch(`${sim.url}/vms?search=name%3Dweb*`, { headers: { authorization: `Bearer ${token}` } });
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false }).parse(await res.text()) as { vms: { vm: { id: string; name: string; memory: string } } };
    expect(doc.vms.vm.name).toBe('web-1');
    expect(doc.vms.vm.memory).toBe(String(2 * GiB));
    const add = await fetch(`${sim.url}/vms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' },
      body: '<vm><name>xml-1</name><cluster><name>Default</name></cluster><template><name>Blank</name></template></vm>',
    });
    expect(add.status).toBe(202);
    expect(await add.text()).toMatch(/<vm href="\/ovirt-engine\/api\/vms\/[0-9a-f-]+" id="/);
  });

  it('blocks until created with Expect: 201-created', async () => {
    const status = await new Promise<number>((resolve) => {
      const body = JSON.stringify({ name: 'sync-1', cluster: { name: 'Default' }, template: { name: 'centos-9' } });
      const req = httpRequest(
        `${sim.url}/vms`,
        { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json', expect: '201-created' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.end(body);
    });
    expect(status).toBe(201);
  });

  it('searches with wildcards, sorts and pages', async () => {
    const all = await api('GET', '/vms?search=name%3D*-1%20sortby%20name&max=2');
    expect(all.json.vm.map((v: { name: string }) => v.name)).toEqual(['sync-1', 'web-1']);
    const p2 = await api('GET', '/vms?search=name%3D*-1%20sortby%20name%20asc%20page%202&max=2');
    expect(p2.json.vm.map((v: { name: string }) => v.name)).toEqual(['xml-1']);
    expect((await api('GET', '/vms?search=name%3Dnothing*')).json).toEqual({});
  });

  it('hot-plugs sockets and 256 MiB memory steps while up; stages the rest as next_run', async () => {
    const vm = (await api('GET', '/vms?search=name%3Dweb-1')).json.vm[0];
    await api('POST', `/vms/${vm.id}/start`, {});
    await waitFor(async () => (await api('GET', `/vms/${vm.id}`)).json.status === 'up');
    const live = await api('PUT', `/vms/${vm.id}`, { memory: 2 * GiB + 512 * 2 ** 20, cpu: { topology: { sockets: 2 } } });
    expect([live.json.memory, live.json.cpu.topology.sockets, live.json.next_run_configuration_exists]).toEqual([String(2 * GiB + 512 * 2 ** 20), '2', 'false']);
    const staged = await api('PUT', `/vms/${vm.id}`, { cpu: { topology: { cores: 4 } } });
    expect(staged.json.next_run_configuration_exists).toBe('true');
    expect((await api('GET', `/vms/${vm.id}?next_run=true`)).json.cpu.topology.cores).toBe('4');
  });

  it('grows a disk through its attachment (locked, then ok) and refuses a shrink', async () => {
    const vm = (await api('GET', '/vms?search=name%3Dweb-1&follow=disk_attachments.disk')).json.vm[0];
    const a = vm.disk_attachments.disk_attachment[0];
    const grown = await api('PUT', `/vms/${vm.id}/diskattachments/${a.id}`, { disk: { provisioned_size: 20 * GiB } });
    expect(grown.json.disk.status).toBe('locked');
    await waitFor(async () => (await api('GET', `/disks/${a.id}`)).json.status === 'ok');
    const shrink = await api('PUT', `/vms/${vm.id}/diskattachments/${a.id}`, { disk: { provisioned_size: 5 * GiB } });
    expect(shrink.status).toBe(400);
  });

  it('migrates, refuses to delete a running or protected VM, 404 with an empty body', async () => {
    const vm = (await api('GET', '/vms?search=name%3Dweb-1')).json.vm[0];
    const from = vm.host.id;
    await api('POST', `/vms/${vm.id}/migrate`, { host: { name: 'host2' } });
    expect((await api('GET', `/vms/${vm.id}`)).json.status).toBe('migrating');
    const locked = await api('PUT', `/vms/${vm.id}`, { description: 'x' });
    expect(locked.status).toBe(409);
    expect(locked.json.detail).toBe('[Cannot edit VM. Related operation is currently in progress. Please try again later.]');
    await waitFor(async () => (await api('GET', `/vms/${vm.id}`)).json.status === 'up');
    expect((await api('GET', `/vms/${vm.id}`)).json.host.id).not.toBe(from);
    expect((await api('DELETE', `/vms/${vm.id}`)).status).toBe(409);
    const missing = await api('GET', '/vms/00000000-0000-0000-0000-00000000dead');
    expect([missing.status, missing.text]).toEqual([404, '']);
  });

  it('lists events after an index, counts requests, expires tokens', async () => {
    const all = (await api('GET', '/events?max=5')).json.event;
    const newest = Number(all[0].index);
    const vm = (await api('GET', '/vms?search=name%3Dsync-1')).json.vm[0];
    await api('POST', `/vms/${vm.id}/start`, {});
    const newer = (await api('GET', `/events?from=${newest}`)).json.event;
    expect(newer.every((e: { index: string }) => Number(e.index) > newest)).toBe(true);
    expect(newer.some((e: { vm?: { id: string } }) => e.vm?.id === vm.id)).toBe(true);
    sim.resetStats();
    await api('GET', '/vms');
    expect(sim.stats()).toEqual({ 'GET /vms': 1 });
    sim.sim.expireTokens();
    expect((await api('GET', '/vms')).status).toBe(401);
  });
});
