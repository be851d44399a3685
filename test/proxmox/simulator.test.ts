// The simulator as any Proxmox client sees it: raw HTTP with fetch, no virtkeeper code.
import { X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxmoxClient } from '../../providers/proxmox/client.ts';
import { proxmoxProvider } from '../../providers/proxmox/index.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

let sim: RunningProxmoxSimulator;
let auth: { cookie: string; csrf: string };

async function api(method: string, path: string, params: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const form = new URLSearchParams(params).toString();
  const url = `${sim.url}/api2/json${path}${method === 'GET' && form ? `?${form}` : ''}`;
  const res = await fetch(url, {
    method,
    headers: { cookie: `PVEAuthCookie=${auth.cookie}`, csrfpreventiontoken: auth.csrf, ...(method !== 'GET' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers },
    ...(method !== 'GET' ? { body: form } : {}),
  });
  return { status: res.status, reason: res.statusText, body: (await res.json()) as { data: unknown; errors?: Record<string, string>; message?: string } };
}

async function waitTask(upid: string) {
  for (;;) {
    const r = await api('GET', `/nodes/${upid.split(':')[1]}/tasks/${encodeURIComponent(upid)}/status`);
    const d = r.body.data as { status: string; exitstatus?: string };
    if (d.status === 'stopped') return d.exitstatus;
    await new Promise((res) => setTimeout(res, 10));
  }
}

beforeAll(async () => {
  sim = await startProxmoxSimulator({ nodes: 2, templates: ['ubuntu-24.04'], taskDurations: { default: 10, qmclone: 150 }, agentDelayMs: 0 });
  const r = await fetch(`${sim.url}/api2/json/access/ticket`, { method: 'POST', body: new URLSearchParams({ username: sim.credentials.username, password: sim.credentials.password }) });
  const d = ((await r.json()) as { data: { ticket: string; CSRFPreventionToken: string } }).data;
  auth = { cookie: encodeURIComponent(d.ticket), csrf: d.CSRFPreventionToken };
});
afterAll(() => sim.close());

describe('Proxmox simulator: auth', () => {
  it('refuses a wrong password with 401 authentication failure', async () => {
    const r = await fetch(`${sim.url}/api2/json/access/ticket`, { method: 'POST', body: new URLSearchParams({ username: 'root@pam', password: 'wrong' }) });
    expect([r.status, r.statusText, await r.json()]).toEqual([401, 'authentication failure', { data: null, message: 'authentication failure\n' }]);
  });
  it('requires the CSRF token on writes, not on reads', async () => {
    expect((await api('GET', '/nodes', {}, { csrfpreventiontoken: '' })).status).toBe(200);
    const r = await api('POST', '/pools', { poolid: 'x' }, { csrfpreventiontoken: 'bogus' });
    expect([r.status, r.reason]).toEqual([401, 'Permission denied - invalid csrf token']);
  });
  it('accepts an API token without CSRF, refuses a wrong one', async () => {
    const ok = await fetch(`${sim.url}/api2/json/version`, { headers: { authorization: `PVEAPIToken=${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` } });
    expect(ok.status).toBe(200);
    const bad = await fetch(`${sim.url}/api2/json/version`, { headers: { authorization: `PVEAPIToken=${sim.credentials.tokenId}=nope` } });
    expect(bad.status).toBe(401);
  });
});

describe('Proxmox simulator: shapes and rules', () => {
  it('answers nextid as a string and booleans as 0/1', async () => {
    expect((await api('GET', '/cluster/nextid')).body.data).toBe('100');
    const rows = (await api('GET', '/cluster/resources', { type: 'vm' })).body.data as { template: number }[];
    expect(rows[0]?.template).toBe(1);
  });
  it('answers node rows with the keys and types of a PVE 9 node', async () => {
    const rows = (await api('GET', '/cluster/resources')).body.data as Record<string, unknown>[];
    const node = rows.find((r) => r.id === 'node/pve1');
    expect(node).toMatchObject({ type: 'node', node: 'pve1', status: 'online', 'cgroup-mode': 2, level: '' });
    for (const k of ['cpu', 'maxcpu', 'mem', 'maxmem', 'disk', 'maxdisk', 'uptime']) expect(typeof node?.[k], k).toBe('number');
    const vm = rows.find((r) => r.id === 'qemu/9000');
    expect(vm).toMatchObject({ type: 'qemu', vmid: 9000, maxcpu: 1, template: 1, maxmem: 1024 * 2 ** 20 });
    expect(vm && 'cpus' in vm).toBe(false);
    const nodes = (await api('GET', '/nodes')).body.data as Record<string, unknown>[];
    expect(nodes.map((n) => n.node)).toEqual(['pve1', 'pve2']);
    expect(nodes[0]?.ssl_fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(nodes[0]).toMatchObject({ id: 'node/pve1', type: 'node', maxcpu: 32, disk: expect.any(Number), maxdisk: expect.any(Number) });
    const status = (await api('GET', '/nodes/pve1/status')).body.data as Record<string, Record<string, unknown>>;
    expect(status.kversion).toMatch(/^Linux \d+\.\d+\.\d+-\d+-pve #1 SMP/);
    expect(status['current-kernel']).toMatchObject({ sysname: 'Linux', machine: 'x86_64' });
    expect(status.pveversion).toMatch(/^pve-manager\/9\./);
    expect(status.cpuinfo).toMatchObject({ cpus: 32, sockets: 2, cores: 16 });
    expect(status.rootfs).toMatchObject({ total: expect.any(Number), avail: expect.any(Number) });
    expect((await api('GET', '/version')).body.data).toMatchObject({ release: '9.0' });
  });
  it('answers a guest with the types of the schema: integers and booleans as numbers, memory as a string', async () => {
    const cur = (await api('GET', '/nodes/pve1/qemu/9000/status/current')).body.data as Record<string, unknown>;
    expect(cur).toMatchObject({ vmid: 9000, cpus: 1, status: 'stopped', qmpstatus: 'stopped', template: 1, agent: 1, ha: { managed: 0 } });
    expect('maxcpu' in cur).toBe(false);
    const list = (await api('GET', '/nodes/pve1/qemu')).body.data as Record<string, unknown>[];
    expect(list[0]).toMatchObject({ vmid: 9000, cpus: 1, template: 1 });
    expect((await api('PUT', '/nodes/pve1/qemu/9000/config', { onboot: 'yes', sockets: '2' })).status).toBe(200);
    const cfg = (await api('GET', '/nodes/pve1/qemu/9000/config')).body.data as Record<string, unknown>;
    expect(cfg).toMatchObject({ cores: 1, sockets: 2, onboot: 1, template: 1, memory: '1024', agent: '1', name: 'ubuntu-24.04' });
    expect(cfg.digest).toMatch(/^[0-9a-f]{40}$/);
    expect((await api('GET', '/nodes/pve1/qemu/9000/status/current')).body.data).toMatchObject({ cpus: 2 });
    await api('PUT', '/nodes/pve1/qemu/9000/config', { delete: 'onboot', sockets: '1' });
  });
  it('checks integer minimums with the texts a node sends', async () => {
    const r = await api('PUT', '/nodes/pve1/qemu/9000/config', { cores: '0', sockets: 'two', balloon: '-1' });
    expect([r.status, r.body.errors]).toEqual([
      400,
      { cores: 'value must have a minimum value of 1', sockets: "type check ('integer') failed - got 'two'", balloon: 'value must have a minimum value of 0' },
    ]);
  });
  it('answers a task status whose pid and pstart are the UPID’s', async () => {
    const upid = (await api('POST', '/nodes/pve1/qemu/9000/config', { description: 'cloud image ubuntu-24.04' })).body.data as string;
    await waitTask(upid);
    const [, , pid, pstart, starttime] = upid.split(':');
    const st = (await api('GET', `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`)).body.data;
    expect(st).toMatchObject({
      upid,
      pid: Number.parseInt(pid ?? '', 16),
      pstart: Number.parseInt(pstart ?? '', 16),
      starttime: Number.parseInt(starttime ?? '', 16),
      status: 'stopped',
      exitstatus: 'OK',
      type: 'qmconfig',
      id: '9000',
    });
  });
  it('refuses storage and format on a linked clone, as a node does', async () => {
    const r = await api('POST', '/nodes/pve1/qemu/9000/clone', { newid: '150', full: '0', storage: 'local-lvm' });
    expect([r.status, r.reason]).toEqual([500, "parameter 'storage' not allowed for linked clones"]);
    expect(sim.dump().vms.some((v) => v.vmid === 150)).toBe(false);
  });
  it('gives every node the fingerprint of the certificate it serves (for clients that pin it)', async () => {
    const tls = await startProxmoxSimulator({ nodes: 1, tls: true });
    try {
      const get = (path: string, headers: Record<string, string> = {}, method = 'GET', body = '') =>
        new Promise<string>((resolve, reject) => {
          const req = httpsRequest(`${tls.url}/api2/json${path}`, { method, ca: tls.caBundle, headers }, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => {
              text += c.toString();
            });
            res.on('end', () => resolve(text));
          });
          req.on('error', reject);
          req.end(body);
        });
      const token = { authorization: `PVEAPIToken=${tls.credentials.tokenId}=${tls.credentials.tokenSecret}` };
      const nodes = (JSON.parse(await get('/nodes', token)) as { data: { ssl_fingerprint: string }[] }).data;
      expect(nodes[0]?.ssl_fingerprint).toBe(new X509Certificate(tls.caBundle ?? '').fingerprint256);
    } finally {
      await tls.close();
    }
  });
  it('checks parameters against the endpoint schema', async () => {
    const r = await api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 'abc', colour: 'red' });
    expect(r.status).toBe(400);
    expect(r.reason).toBe('Parameter verification failed.');
    expect(Object.keys(r.body.errors ?? {}).sort()).toEqual(['colour', 'newid']);
  });
  it('holds lock clone on the source while a clone runs', async () => {
    const first = await api('POST', '/nodes/pve1/qemu/9000/clone', { newid: '100', name: 'c1' });
    const second = await api('POST', '/nodes/pve1/qemu/9000/clone', { newid: '101', name: 'c2' });
    expect([second.status, second.reason]).toEqual([500, 'VM is locked (clone)']);
    expect(await waitTask(first.body.data as string)).toBe('OK');
  });
  it('refuses a config write with a stale digest', async () => {
    const cfg = (await api('GET', '/nodes/pve1/qemu/100/config')).body.data as { digest: string };
    await api('PUT', '/nodes/pve1/qemu/100/config', { description: 'x', digest: cfg.digest });
    const r = await api('PUT', '/nodes/pve1/qemu/100/config', { description: 'y', digest: cfg.digest });
    expect([r.status, r.reason]).toEqual([500, 'detected modified configuration - file changed by other user? Try again.']);
  });
  it('stages what a running VM cannot hot-plug, applies it on reboot', async () => {
    await waitTask((await api('POST', '/nodes/pve1/qemu/100/config', { hotplug: 'network,disk,memory', numa: '1' })).body.data as string);
    await waitTask((await api('POST', '/nodes/pve1/qemu/100/status/start')).body.data as string);
    await waitTask((await api('POST', '/nodes/pve1/qemu/100/config', { memory: '2048', cores: '4' })).body.data as string);
    const pending = (await api('GET', '/nodes/pve1/qemu/100/pending')).body.data as { key: string; value?: string | number; pending?: string | number }[];
    // memory is a property string on PVE 8+, cores an integer: each keeps its type in /pending.
    expect(pending.find((p) => p.key === 'memory')).toMatchObject({ value: '2048' });
    expect(pending.find((p) => p.key === 'cores')).toMatchObject({ value: 1, pending: 4 });
    await waitTask((await api('POST', '/nodes/pve1/qemu/100/status/reboot')).body.data as string);
    const after = (await api('GET', '/nodes/pve1/qemu/100/pending')).body.data as { key: string; pending?: string | number; value?: string | number }[];
    expect(after.some((p) => p.pending !== undefined)).toBe(false);
    expect(after.find((p) => p.key === 'cores')?.value).toBe(4);
  });
  it('grows a disk and refuses to shrink it', async () => {
    expect(await waitTask((await api('PUT', '/nodes/pve1/qemu/100/resize', { disk: 'scsi0', size: '+2G' })).body.data as string)).toBe('OK');
    const r = await api('PUT', '/nodes/pve1/qemu/100/resize', { disk: 'scsi0', size: '1G' });
    expect([r.status, r.reason]).toEqual([500, 'shrinking disks is not supported']);
  });
  it('answers the guest agent with the address from ipconfig0, and runs commands', async () => {
    await api('PUT', '/nodes/pve1/qemu/100/config', { ipconfig0: 'ip=10.1.2.3/24,gw=10.1.2.1' });
    const ifs = (await api('GET', '/nodes/pve1/qemu/100/agent/network-get-interfaces')).body.data as { result: { 'ip-addresses': { 'ip-address': string }[] }[] };
    expect(ifs.result[1]?.['ip-addresses'][0]?.['ip-address']).toBe('10.1.2.3');
    const { pid } = (await api('POST', '/nodes/pve1/qemu/100/agent/exec', { command: 'hostname' })).body.data as { pid: number };
    expect((await api('GET', '/nodes/pve1/qemu/100/agent/exec-status', { pid: String(pid) })).body.data).toMatchObject({ exited: 1, exitcode: 0, 'out-data': 'c1\n' });
  });
  it('migrates online, refuses to destroy a running VM, then destroys it stopped', async () => {
    const off = await api('POST', '/nodes/pve1/qemu/100/migrate', { target: 'pve2' });
    expect(off.reason).toBe("can't migrate running VM without --online");
    expect(await waitTask((await api('POST', '/nodes/pve1/qemu/100/migrate', { target: 'pve2', online: '1', 'with-local-disks': '1' })).body.data as string)).toBe('OK');
    const del = await api('DELETE', '/nodes/pve2/qemu/100', { purge: '1' });
    expect([del.status, del.reason]).toEqual([500, 'VM 100 is running - destroy failed']);
    await waitTask((await api('POST', '/nodes/pve2/qemu/100/status/stop')).body.data as string);
    expect(await waitTask((await api('DELETE', '/nodes/pve2/qemu/100', { purge: '1' })).body.data as string)).toBe('OK');
    const gone = await api('GET', '/nodes/pve2/qemu/100/config');
    expect(gone.reason).toBe("Configuration file 'nodes/pve2/qemu-server/100.conf' does not exist");
  });
  it('injects faults reproducibly and counts requests by endpoint', async () => {
    sim.resetStats();
    sim.setFaults({ error500Share: 1 });
    expect((await api('GET', '/nodes')).status).toBe(500);
    sim.setFaults({});
    expect((await api('GET', '/nodes')).status).toBe(200);
    expect(sim.stats()).toEqual({ 'GET /nodes': 2 });
  });
  it('dumps and loads its state', async () => {
    const state = sim.dump();
    await api('POST', '/pools', { poolid: 'temp' });
    sim.load(state);
    expect((await api('GET', '/pools')).body.data).toEqual(state.pools.map((p) => ({ poolid: p.poolid })));
  });
});

describe('virtkeeper reads the typed answers of a PVE 9 node', () => {
  it('observes a guest made by another client: numbers for cores/sockets, 0/1 for onboot, a string for memory', async () => {
    const pve = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5 } });
    const raw = new ProxmoxClient({ endpoint: pve.url, credentials: { token: `${pve.credentials.tokenId}=${pve.credentials.tokenSecret}` } });
    const provider = proxmoxProvider({
      client: new ProxmoxClient({ endpoint: pve.url, credentials: { token: `${pve.credentials.tokenId}=${pve.credentials.tokenSecret}` } }),
      logger: pino({ level: 'silent' }),
    });
    try {
      await raw.waitForTask(await raw.post<string>('/nodes/pve1/qemu', { vmid: 300, name: 'typed', memory: 1536, cores: 3, sockets: 2, onboot: 'true', scsi0: 'local-lvm:4' }));
      expect(await raw.get<Record<string, unknown>>('/nodes/pve1/qemu/300/config')).toMatchObject({ cores: 3, sockets: 2, onboot: 1, memory: '1536' });
      const seen = await provider.vms.observe();
      expect(seen.vms.find((v) => v.name === 'typed')).toMatchObject({ cpu: { sockets: 2, cores: 3, threads: 1 }, memoryBytes: 1536 * 2 ** 20, autostart: true, isTemplate: false });
      expect(seen.templates.map((t) => t.name)).toEqual(['ubuntu-24.04']);
      expect(seen.nodes[0]).toMatchObject({ cpus: 32, memoryBytes: 128 * 2 ** 30 });
    } finally {
      await raw.close();
      await provider.close();
      await pve.close();
    }
  });
});
