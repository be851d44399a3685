// community.proxmox (Ansible), a client no one here wrote, against the Proxmox simulator over
// HTTPS: clone from the template, update memory/cores, start, proxmox_vm_info, remove. Each
// playbook converges, its second run reports changed=0 and sends no write, and what it left is
// read back through proxmoxer.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

const playbook = process.env.VK_ANSIBLE_PLAYBOOK;
const python = process.env.VK_ANSIBLE_PYTHON;
const run = promisify(execFile);
const here = join(import.meta.dirname, 'ansible');

const VMS = [
  { name: 'ans-px-full', vmid: 4101, full: true },
  { name: 'ans-px-linked', vmid: 4102, full: false },
];

describe.skipIf(!playbook || !python)('community.proxmox playbooks against the Proxmox simulator', () => {
  let sim: RunningProxmoxSimulator;
  let dir: string;

  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 2, templates: ['ubuntu-24.04'], tls: true, taskDurations: { default: 20, qmclone: 100 } });
    dir = mkdtempSync(join(tmpdir(), 'vk-ansible-px-'));
    const { port } = new URL(sim.url);
    // The inventory a user writes from `virtkeeper sim proxmox --tls`'s JSON line.
    writeFileSync(
      join(dir, 'inventory.json'),
      JSON.stringify({
        proxmox: {
          hosts: { localhost: { ansible_connection: 'local', ansible_python_interpreter: python } },
          vars: {
            pve_host: '127.0.0.1',
            pve_port: Number(port),
            pve_user: sim.credentials.username,
            pve_password: sim.credentials.password,
            pve_node: 'pve1',
            pve_template: 'ubuntu-24.04',
            pve_memory: 2048,
            pve_cores: 2,
            pve_vms: VMS,
          },
        },
      }),
    );
  });
  afterAll(async () => {
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs a playbook; returns the recap's counts and the simulator's writes during the run. */
  async function play(name: string): Promise<{ changed: number; failed: number; writes: string[]; output: string }> {
    sim.resetStats();
    const env = {
      ...process.env,
      ANSIBLE_HOME: join(dir, 'home'),
      ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'),
      ANSIBLE_REMOTE_TEMP: join(dir, 'remote-tmp'),
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_CONFIG: join(dir, 'none.cfg'),
    };
    const r = await run(playbook ?? '', ['-i', join(dir, 'inventory.json'), join(here, `proxmox-${name}.yml`)], { cwd: dir, env }).catch((e: { stdout?: string; stderr?: string }) => ({
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }));
    const output = `${r.stdout}\n${r.stderr}`;
    const recap = /localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(output);
    if (!recap) throw new Error(`ansible-playbook ${name} printed no recap:\n${output}`);
    const writes = Object.keys(sim.stats()).filter((k) => /^(POST|PUT|DELETE) /.test(k) && k !== 'POST /access/ticket');
    return { changed: Number(recap[2]), failed: Number(recap[3]) + Number(recap[4]), writes, output };
  }

  /** Converges once (changed, no failure), then again with changed=0 and no write at all. */
  async function converges(name: string, firstWrites: string[]): Promise<void> {
    const first = await play(name);
    expect(first.failed, first.output).toBe(0);
    expect(first.changed, first.output).toBeGreaterThan(0);
    expect(first.writes.sort()).toEqual(firstWrites.sort());
    const second = await play(name);
    expect([second.failed, second.changed], second.output).toEqual([0, 0]);
    expect(second.writes).toEqual([]);
  }

  async function throughProxmoxer(): Promise<Record<string, { vmid: number; node: string; status: string; cpus: number; memory: string; cores: number; scsi0: string }>> {
    const { stdout } = await run(python ?? '', [join(here, 'proxmox-check.py'), sim.url.replace('https://', ''), sim.credentials.username, sim.credentials.password]);
    return JSON.parse(stdout) as Record<string, { vmid: number; node: string; status: string; cpus: number; memory: string; cores: number; scsi0: string }>;
  }

  it('clones a full and a linked VM from the template, once', async () => {
    await converges('clone', ['POST /nodes/{node}/qemu/{vmid}/clone']);
    expect(await throughProxmoxer()).toEqual({
      'ans-px-full': { vmid: 4101, node: 'pve1', status: 'stopped', cpus: 1, memory: '1024', cores: 1, scsi0: 'local-lvm:vm-4101-disk-0' },
      'ans-px-linked': { vmid: 4102, node: 'pve1', status: 'stopped', cpus: 1, memory: '1024', cores: 1, scsi0: 'local-lvm:base-9000-disk-0/vm-4102-disk-0' },
    });
  }, 120_000);

  it('updates memory and cores where they differ, and only there', async () => {
    await converges('update', ['PUT /nodes/{node}/qemu/{vmid}/config']);
    const vms = await throughProxmoxer();
    expect(Object.values(vms).map((v) => [v.memory, v.cores, v.cpus])).toEqual([
      ['2048', 2, 2],
      ['2048', 2, 2],
    ]);
  }, 120_000);

  it('starts them, and proxmox_vm_info reads them back running with the new size', async () => {
    await converges('start', ['POST /nodes/{node}/qemu/{vmid}/status/start']);
    expect(Object.values(await throughProxmoxer()).map((v) => v.status)).toEqual(['running', 'running']);
  }, 120_000);

  it('removes them (stopping them first), and a second run finds nothing to do', async () => {
    await converges('remove', ['POST /nodes/{node}/qemu/{vmid}/status/shutdown', 'DELETE /nodes/{node}/qemu/{vmid}']);
    expect(await throughProxmoxer()).toEqual({});
    expect(sim.dump().vms.map((v) => v.vmid)).toEqual([9000]);
  }, 120_000);
});
