// Console tickets on the Proxmox simulator over HTTP, through the connector's ConsoleClient: a
// qxl VM gets a SPICE remote-viewer file whose proxy ticket the simulator's SPICE proxy takes
// on CONNECT and whose password QEMU takes; any other VM a VNC file whose ticket vncwebsocket
// accepts. Both stop being accepted after their lifetime (the simulator's clock moved on). A
// stopped VM, a VM without SPICE asked for SPICE, and a VM not owned are refused.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderAuthError, ProviderInvalidError, RefusedError } from '../../controller/core/errors.ts';
import type { ConsoleClient, ProviderClient } from '../../controller/core/provider.ts';
import { ProxmoxClient } from '../../providers/proxmox/client.ts';
import { ProxmoxConsoles } from '../../providers/proxmox/consoles.ts';
import { proxmoxConnector } from '../../providers/proxmox/index.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { parseViewerFile, spiceConnect } from '../support/viewer-file.ts';

const owner = { kind: 'VirtualMachine', namespace: 'default', name: 'x', instance: 'ctl-c' };
const target = (vmid: number, name: string) => ({ providerID: `qemu/${vmid}`, name, owner: { ...owner, name } });

describe('Proxmox consoles', () => {
  let sim: RunningProxmoxSimulator;
  let client: ProviderClient;
  let consoles: ConsoleClient;
  let api: ProxmoxClient;
  let offsetMs = 0;
  const count = (route: string) => sim.stats()[route] ?? 0;

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5 }, agentDelayMs: 0, clock: () => Date.now() + offsetMs });
    const state = sim.dump();
    const vm = (vmid: number, name: string, extra: Record<string, string>, status: 'running' | 'stopped' = 'running', description = `virtkeeper.io/owner=VirtualMachine/default/${name}@ctl-c`) => ({
      vmid,
      node: 'pve1',
      pending: {},
      pendingDelete: [],
      status,
      template: false,
      startedAt: Date.now(),
      config: { name, cores: '1', memory: '1024', scsi0: `local-lvm:vm-${vmid}-disk-0,size=8G`, description, ...extra },
    });
    state.vms.push(
      vm(310, 'desk', { vga: 'qxl' }),
      vm(311, 'srv', { vga: 'serial0', serial0: 'socket' }),
      vm(312, 'cold', { vga: 'qxl' }, 'stopped'),
      vm(313, 'foreign', { vga: 'qxl' }, 'running', 'made by hand'),
    );
    sim.load(state);
    const credentials = { token: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` };
    client = await proxmoxConnector.connect({ name: 'pve', spec: { type: 'proxmox', endpoint: sim.url }, credentials, logger: pino({ level: 'silent' }) });
    if (!client.consoles) throw new Error('the Proxmox client has no consoles');
    consoles = client.consoles;
    api = new ProxmoxClient({ endpoint: sim.url, credentials });
  });
  afterAll(async () => {
    await client.close();
    await api.close();
    await sim.close();
  });

  it('a qxl VM gets a SPICE file whose proxy ticket and password the simulator accepts, for their lifetime', async () => {
    offsetMs = 0;
    const t = await consoles.open(target(310, 'desk'), { ttlSeconds: 60 });
    expect(t.protocol).toBe('spice');
    // The node keeps a SPICE password 30 s, whatever was asked.
    expect(Date.parse(t.expiresAt) - Date.now()).toBeLessThanOrEqual(30_000);
    const f = parseViewerFile(t.viewerFile);
    expect(f).toMatchObject({ type: 'spice', 'delete-this-file': '1', 'toggle-fullscreen': 'Shift+F11', 'secure-attention': 'Ctrl+Alt+Ins', title: 'VM 310 - desk', password: t.password });
    expect(f.host).toMatch(/^pvespiceproxy:[0-9a-f]{8}:310:pve1:61310::[0-9a-f]{40}$/);
    expect(f['tls-port']).toBe('61310');
    expect(f.proxy).toBe(`${sim.url}`.replace(/\/$/, ''));
    expect(f['host-subject']).toContain('CN=');

    expect(await spiceConnect(f.proxy ?? '', f.host ?? '', f['tls-port'] ?? '')).toBe(200);
    expect(sim.sim.consoles.spiceLogin(310, f.password ?? '')).toBe(true);
    expect(sim.sim.consoles.spiceLogin(310, 'not-the-password')).toBe(false);
    // Another port than the one signed is not let through.
    expect(await spiceConnect(f.proxy ?? '', f.host ?? '', '61311')).toBe(401);

    offsetMs = 60_000;
    expect(await spiceConnect(f.proxy ?? '', f.host ?? '', f['tls-port'] ?? '')).toBe(401);
    expect(sim.sim.consoles.spiceLogin(310, f.password ?? '')).toBe(false);
    offsetMs = 0;
  });

  it('any other VM gets a VNC file, whose ticket vncwebsocket accepts until it expires', async () => {
    offsetMs = 0;
    const t = await consoles.open(target(311, 'srv'), { ttlSeconds: 60 });
    expect(t.protocol).toBe('vnc');
    const f = parseViewerFile(t.viewerFile);
    expect(f).toMatchObject({ type: 'vnc', host: '127.0.0.1', 'delete-this-file': '1' });
    expect(Number(f.port)).toBeGreaterThanOrEqual(5900);
    // The node is this machine: its loopback port needs no tunnel.
    expect(t.tunnel).toBeUndefined();
    // The file's password is the node's ticket, its first 8 characters the VNC password.
    expect(f.password).toMatch(/^[!-`]{8}:PVEVNC:[0-9A-F]{8}::/);
    const ws = (ticket: string, port = f.port ?? '') => api.get<{ port: string }>('/nodes/pve1/qemu/311/vncwebsocket', { port, vncticket: ticket });
    expect(await ws(f.password ?? '')).toEqual({ port: f.port });
    await expect(ws(f.password ?? '', String(Number(f.port) + 1))).rejects.toThrow('permission denied - invalid PVEVNC ticket');
    await expect(ws(`${f.password?.slice(0, -2)}xx`)).rejects.toBeInstanceOf(ProviderAuthError);
    offsetMs = 60_000;
    await expect(ws(f.password ?? '')).rejects.toThrow('permission denied - invalid PVEVNC ticket');
    offsetMs = 0;
  });

  it('a VNC port on a remote API node is reached through an ssh tunnel to its loopback', async () => {
    // The same simulator, named as a remote host would be (the name only shapes the tunnel).
    const remote = new ProxmoxConsoles({ api, endpoint: 'https://pve.example.org:8006' });
    const t = await remote.open(target(311, 'srv'), { ttlSeconds: 60 });
    expect(t.tunnel).toBe(`ssh -N -L ${t.port}:localhost:${t.port} root@pve.example.org`);
    expect(parseViewerFile(t.viewerFile)).toMatchObject({ host: '127.0.0.1', port: String(t.port) });
  });

  it('refuses what has no console to give: a stopped VM, SPICE on a VM without it', async () => {
    await expect(consoles.open(target(312, 'cold'), { ttlSeconds: 60 })).rejects.toThrow('VM cold is stopped, so it has no console to open; start it first');
    await expect(consoles.open(target(311, 'srv'), { protocol: 'spice', ttlSeconds: 60 })).rejects.toThrow(ProviderInvalidError);
    // Asked directly, the node says what QEMU says.
    await expect(api.post('/nodes/pve1/qemu/312/spiceproxy')).rejects.toThrow('VM 312 not running');
    await expect(api.post('/nodes/pve1/qemu/311/spiceproxy')).rejects.toThrow('no spice port');
  });

  it('gives no ticket for a VM virtkeeper does not own', async () => {
    const before = count('POST /nodes/{node}/qemu/{vmid}/spiceproxy') + count('POST /nodes/{node}/qemu/{vmid}/vncproxy');
    await expect(consoles.open({ ...target(313, 'foreign'), owner: { ...owner, name: 'foreign' } }, { ttlSeconds: 60 })).rejects.toBeInstanceOf(RefusedError);
    expect(count('POST /nodes/{node}/qemu/{vmid}/spiceproxy') + count('POST /nodes/{node}/qemu/{vmid}/vncproxy')).toBe(before);
  });
});
