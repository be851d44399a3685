// `virtkeeper console` against the Proxmox simulator over HTTP, the CLI as a user runs it: a VM
// applied from a folder, then its console file printed (VNC: the simulator's vncwebsocket takes
// the file's ticket; SPICE: the simulator's proxy takes the file's proxy ticket and QEMU its
// password), or written 0600 and handed to the viewer. The ticket is in no log line and in
// nothing of the state directory.
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { virtkeeperCli } from '../support/cli.ts';
import { ProxmoxClient } from '../../providers/proxmox/client.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { parseViewerFile, spiceConnect } from '../support/viewer-file.ts';

async function allText(dir: string): Promise<string> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(await readFile(join(e.parentPath, e.name), 'utf8'));
  return out.join('\n');
}

describe('virtkeeper console (Proxmox simulator)', () => {
  let sim: RunningProxmoxSimulator;
  let api: ProxmoxClient;
  let dir: string;
  let stateDir: string;
  let env: NodeJS.ProcessEnv;
  const cli = virtkeeperCli(() => ({ stateDir, env }));
  const setVga = (name: string, vga: string) => {
    const state = sim.dump();
    const vm = state.vms.find((v) => v.config.name === name);
    if (vm) vm.config.vga = vga;
    sim.load(state);
  };

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 0, qmclone: 0 }, agentDelayMs: 0 });
    const token = `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`;
    api = new ProxmoxClient({ endpoint: sim.url, credentials: { token } });
    dir = await mkdtemp(join(tmpdir(), 'vk-console-cli-'));
    stateDir = `${dir}-state`;
    env = { ...process.env, VIRTKEEPER_PVE_TOKEN: token };
    await writeFile(
      join(dir, 'all.yaml'),
      `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n---\napiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: deskvm}\nspec: {hypervisor: pve, template: ubuntu-24.04, memory: 1Gi}\n`,
    );
    expect((await cli(['apply', '-f', dir, '--wait', '-o', 'json'])).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await api.close();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  it('--print gives a VNC file whose ticket the simulator accepts, and the ticket is logged nowhere', async () => {
    setVga('deskvm', 'serial0');
    const r = await cli(['--log-level', 'debug', 'console', 'deskvm', '-f', dir, '--print']);
    expect(r.code, r.err).toBe(0);
    const f = parseViewerFile(r.out);
    expect(f).toMatchObject({ type: 'vnc', host: '127.0.0.1', 'delete-this-file': '1' });
    const vmid = sim.dump().vms.find((v) => v.config.name === 'deskvm')?.vmid;
    expect(await api.get(`/nodes/pve1/qemu/${vmid}/vncwebsocket`, { port: f.port ?? '', vncticket: f.password ?? '' })).toEqual({ port: f.port });
    const secret = (f.password ?? '').split('::')[1] ?? 'missing';
    expect(r.err).not.toContain(secret);
    expect(r.err).not.toContain((f.password ?? '').slice(0, 8));
    expect(await allText(stateDir)).not.toContain(secret);
  });

  it('--print gives a SPICE file for a qxl VM: proxy ticket and password accepted', async () => {
    setVga('deskvm', 'qxl');
    const r = await cli(['console', 'deskvm', '-f', dir, '--print', '--ttl', '20s']);
    expect(r.code, r.err).toBe(0);
    const f = parseViewerFile(r.out);
    expect(f.type).toBe('spice');
    expect(await spiceConnect(f.proxy ?? '', f.host ?? '', f['tls-port'] ?? '')).toBe(200);
    const vmid = sim.dump().vms.find((v) => v.config.name === 'deskvm')?.vmid ?? 0;
    expect(sim.sim.consoles.spiceLogin(vmid, f.password ?? '')).toBe(true);
    // --protocol vnc asks for VNC even so.
    expect(parseViewerFile((await cli(['console', 'deskvm', '-f', dir, '--print', '--protocol', 'vnc'])).out).type).toBe('vnc');
  });

  it('without --print, writes the file 0600 in a temporary folder and opens it with the viewer', async () => {
    setVga('deskvm', 'qxl');
    const seen = join(dir, 'seen.vv');
    const viewer = join(dir, 'fake-viewer');
    // Each file appears whole (written aside, then renamed): the test polls for the mode file.
    await writeFile(viewer, `#!/bin/sh\ncp "$1" "${seen}.tmp" && mv "${seen}.tmp" "${seen}"\nstat -c %a "$1" > "${seen}.mode.tmp" && mv "${seen}.mode.tmp" "${seen}.mode"\n`);
    await chmod(viewer, 0o755);
    const r = await cli(['console', 'deskvm', '-f', dir, '--viewer', viewer, '-o', 'json']);
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out) as { file: string; protocol: string; opened: boolean; expiresAt: string };
    expect(out).toMatchObject({ protocol: 'spice', opened: true });
    expect(out.file).toMatch(/vk-console-[^/]+\/deskvm\.vv$/);
    // -o json shows where the file is, never what is in it.
    expect(r.out).not.toContain('password');
    expect((await stat(out.file)).mode & 0o777).toBe(0o600);
    for (let i = 0; i < 100 && !(await stat(`${seen}.mode`).catch(() => undefined)); i++) await new Promise((res) => setTimeout(res, 50));
    expect((await readFile(`${seen}.mode`, 'utf8')).trim()).toBe('600');
    expect(parseViewerFile(await readFile(seen, 'utf8')).type).toBe('spice');
    await rm(join(out.file, '..'), { recursive: true, force: true });
  });

  it('says what to do when there is nothing to connect to, and how to use it', async () => {
    const none = await cli(['console', 'nosuchvm', '-f', dir, '--print']);
    expect(none.code).toBe(1);
    expect(none.err).toContain('VirtualMachine/default/nosuchvm has no VM on a hypervisor yet; run `virtkeeper apply -f');
    const bad = await cli(['console', 'deskvm', '-f', dir, '--protocol', 'rdp']);
    expect(bad.err).toContain('--protocol must be spice or vnc, not rdp');
    const help = await cli(['console', '--help']);
    expect(help.out).toContain('Example:\n  virtkeeper console web-1 -f ./vms');
  });
});
