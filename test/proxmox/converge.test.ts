// The whole path over real HTTP: folder → converge → Proxmox provider → simulator.
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { loadConnector } from '../../providers/registry.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

const root = join(import.meta.dirname, '..', '..');

describe('Proxmox end to end (simulator over HTTP)', () => {
  let sim: RunningProxmoxSimulator;
  let dir: string;
  let opts: ConvergeOptions;
  let pool: HypervisorPool;

  beforeEach(async () => {
    sim = await startProxmoxSimulator({ nodes: 3, templates: ['ubuntu-24.04', 'redos-8'], taskDurations: { default: 10, qmclone: 40 }, agentDelayMs: 0 });
    dir = await mkdtemp(join(tmpdir(), 'vk-pve-'));
    await cp(join(root, 'examples/quickstart'), dir, { recursive: true });
    const hv = (await readFile(join(dir, 'hypervisor.yaml'), 'utf8')).replace('http://127.0.0.1:8006', sim.url);
    await writeFile(join(dir, 'hypervisor.yaml'), hv);
    const logger = pino({ level: 'silent' });
    pool = new HypervisorPool({
      loadConnector,
      credentials: directoryCredentials({ VIRTKEEPER_PVE_SIM_USERNAME: sim.credentials.username, VIRTKEEPER_PVE_SIM_PASSWORD: sim.credentials.password }),
      logger,
      now: Date.now,
      observeMaxAgeMs: 1000,
    });
    opts = {
      folder: dir,
      statuses: new StateDir(join(dir, '..', `${dir.split('/').pop()}-state`)),
      hypervisors: pool,
      logger,
      now: Date.now,
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 100))),
      wait: true,
      timeoutMs: 30_000,
    };
  });
  afterEach(async () => {
    await pool.closeAll();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  const vms = () => sim.dump().vms.filter((v) => !v.template);
  const edit = async (from: string | RegExp, to: string) => {
    const f = join(dir, 'vms.yaml');
    await writeFile(f, (await readFile(f, 'utf8')).replace(from, to));
  };

  it('converges the quickstart, then a steady-state pass costs one list call', async () => {
    const r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready)).toEqual([]);
    expect(
      vms()
        .map((v) => [v.config.name, v.status])
        .sort(),
    ).toEqual([
      ['db-1', 'running'],
      ['web-1', 'running'],
    ]);
    const web = vms().find((v) => v.config.name === 'web-1');
    expect(web?.config.net0).toMatch(/bridge=vmbr0,tag=120$/);
    expect(web?.config.ipconfig0).toBe('ip=10.20.0.11/24,gw=10.20.0.1');
    expect(decodeURIComponent(web?.config.sshkeys ?? '')).toBe('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnly ops@example');
    expect(web?.config.description).toContain('virtkeeper.io/owner=VirtualMachine/default/web-1');
    const ageOut = () => new Promise((r) => setTimeout(r, 1100)); // the shared observation lives 1 s here
    await ageOut();
    await converge(opts); // reads the details of the guests acted on last
    await ageOut();
    sim.resetStats();
    const again = await converge(opts);
    expect(again.outcomes.every((o) => o.ready && (o.plan?.steps.length ?? 0) === 0)).toBe(true);
    const stats = sim.stats();
    expect(stats['GET /cluster/resources']).toBe(1);
    expect(Object.keys(stats).filter((k) => k !== 'GET /cluster/resources' && !k.includes('agent'))).toEqual([]);
  });

  it('applies edits of memory (live), CPU (restart allowed), disk size and VLAN, and removes a VM', async () => {
    await converge(opts);
    await edit('memory: 2Gi', 'memory: 4Gi');
    await edit('vlan: 120', 'vlan: 130');
    await edit(/disks:\n {4}- \{name: root, size: 20Gi\}\n {2}networks/, 'disks:\n    - {name: root, size: 30Gi}\n  networks');
    await edit(
      'cpu: {sockets: 1, cores: 2}\n  memory: 4Gi\n  disks:\n    - {name: root, size: 20Gi}\n    - {name: data',
      'cpu: {sockets: 1, cores: 4}\n  memory: 4Gi\n  updatePolicy: RestartAllowed\n  disks:\n    - {name: root, size: 20Gi}\n    - {name: data',
    );
    const r = await converge(opts);
    expect(r.problems).toEqual([]);
    expect(r.outcomes.filter((o) => !o.ready)).toEqual([]);
    const web = vms().find((v) => v.config.name === 'web-1');
    expect([web?.config.memory, web?.config.scsi0?.match(/size=(\w+)/)?.[1], web?.config.net0?.match(/tag=(\d+)/)?.[1]]).toEqual(['4096', '30G', '130']);
    const db = vms().find((v) => v.config.name === 'db-1');
    expect([db?.config.cores, db?.status, Object.keys(db?.pending ?? {})]).toEqual(['4', 'running', []]);
    // db-1 has deletionPolicy: Orphan, web-1 the default Delete.
    await writeFile(join(dir, 'vms.yaml'), '');
    await unlink(join(dir, 'vms.yaml'));
    const removed = await converge({ ...opts, maxDeleteShare: 1 });
    expect(removed.guard).toBeUndefined();
    expect(vms().map((v) => v.config.name)).toEqual(['db-1']);
  });

  it('converges through 10% server errors and lock timeouts with no duplicate and no orphan', async () => {
    sim.setFaults({ error500Share: 0.1, lockTimeoutShare: 0.1 });
    await writeFile(
      join(dir, 'more.yaml'),
      Array.from(
        { length: 8 },
        (_, i) =>
          `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: extra-${i}}\nspec: {hypervisor: pve-sim, template: redos-8, memory: 1Gi, disks: [{name: root, size: 10Gi}]}\n`,
      ).join('---\n'),
    );
    let r = await converge(opts);
    for (let i = 0; i < 5 && r.outcomes.some((o) => !o.ready); i++) r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error)).toEqual([]);
    sim.setFaults({});
    const names = vms()
      .map((v) => v.config.name)
      .sort();
    expect(names).toEqual(['db-1', ...Array.from({ length: 8 }, (_, i) => `extra-${i}`), 'web-1'].sort());
    expect(vms().every((v) => (v.config.description ?? '').includes('virtkeeper.io/owner='))).toBe(true);
  });

  it('never touches a foreign VM that has the name of a declared one', async () => {
    await fetch(`${sim.url}/api2/json/nodes/pve1/qemu`, {
      method: 'POST',
      headers: { authorization: `PVEAPIToken=${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ vmid: '500', name: 'web-1', memory: '512', scsi0: 'local-lvm:4' }),
    });
    await new Promise((r) => setTimeout(r, 500));
    const before = JSON.stringify(sim.dump().vms.find((v) => v.vmid === 500));
    const r = await converge({ ...opts, wait: false });
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/web-1')?.error?.code).toBe('VK_REFUSED_FOREIGN');
    expect(JSON.stringify(sim.dump().vms.find((v) => v.vmid === 500))).toBe(before);
  });
});

describe('virtkeeper exec through the guest agent (Proxmox simulator)', () => {
  it('runs a command in a converged VM, passes stdin, returns the exit code', async () => {
    const { execFile } = await import('node:child_process');
    const sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5 }, agentDelayMs: 0 });
    const dir = await mkdtemp(join(tmpdir(), 'vk-exec-'));
    const stateDir = `${dir}-state`;
    const env = { ...process.env, VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` };
    await writeFile(
      join(dir, 'all.yaml'),
      `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n---\napiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: shell}\nspec: {hypervisor: pve, template: ubuntu-24.04, memory: 1Gi}\n`,
    );
    const cli = (args: string[], input?: string) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        const p = execFile(process.execPath, ['bin/virtkeeper.js', '--state-dir', stateDir, ...args], { cwd: root, env }, (e, out, err) =>
          resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
        );
        if (input !== undefined) p.stdin?.end(input);
        else p.stdin?.end();
      });
    expect((await cli(['apply', '-f', dir, '--wait', '-o', 'json'])).code).toBe(0);
    const host = await cli(['exec', 'shell', '-f', dir, '--', 'hostname']);
    expect([host.code, host.out]).toEqual([0, 'shell\n']);
    const cat = await cli(['exec', 'shell', '-f', dir, '--', 'cat'], 'from stdin');
    expect(cat.out).toBe('from stdin');
    const missing = await cli(['exec', 'shell', '-f', dir, '--', 'nosuchcommand']);
    expect([missing.code, missing.err]).toEqual([127, 'sh: 1: nosuchcommand: not found\n']);
    await sim.close();
    await rm(dir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  }, 60_000);
});
