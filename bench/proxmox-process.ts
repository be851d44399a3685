// Whole-process Proxmox figures, as a new user meets them: the CLI (`plan`, `apply`) run as a
// child process under /usr/bin/time -v against the simulator over HTTP, with wall time, peak
// RSS and the simulator's request count. Prints figures; asserts nothing.
//   VK_BENCH_FLEET=1000,10000  sizes of the converged fleet (plan and no-op apply)
//   VK_BENCH_NEW=20,200        sizes of the new-VM applies (empty: none)
//   VK_BENCH_NODE_FLAGS='--max-semi-space-size=4'  Node.js flags for the CLI child (default none)
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hypervisor, VirtualMachine } from '../controller/api/types.ts';
import { directoryInstance } from '../controller/cli/instance.ts';
import { seedConvergedFleet } from './support/pve-fleet.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../providers/proxmox/simulator/index.ts';

const root = new URL('..', import.meta.url).pathname;
const nodeFlags = (process.env.VK_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

interface Run {
  wallMs: number;
  /** User + system CPU seconds of the child: steadier than wall time on a shared machine. */
  cpuS: number;
  rssMB: number;
  requests: number;
  byEndpoint: Record<string, number>;
  code: number;
}

function hvDoc(url: string): Hypervisor {
  return {
    apiVersion: 'virtkeeper.io/v1alpha1',
    kind: 'Hypervisor',
    metadata: { name: 'pve' },
    spec: { type: 'proxmox', endpoint: url, credentialsRef: { env: 'BENCH' }, defaults: { node: 'pve1', storage: 'local-lvm', bridge: 'vmbr0' }, limits: { maxConcurrentActions: 16 } },
  };
}

/** A VM as the issue's table has it: full clone, CPU, memory, a VLAN NIC with a static IP and DNS, started. */
function vmDoc(name: string, i: number): VirtualMachine {
  return {
    apiVersion: 'virtkeeper.io/v1alpha1',
    kind: 'VirtualMachine',
    metadata: { name, namespace: 'bench' },
    spec: {
      hypervisor: 'pve',
      template: 'ubuntu-24.04',
      clone: 'full',
      cpu: { sockets: 1, cores: 2 },
      memory: '2Gi',
      disks: [{ name: 'root', size: '8Gi' }],
      networks: [{ name: 'eth0', network: 'vmbr0', vlan: 120, ipv4: { address: `10.${20 + Math.floor(i / 60000)}.${Math.floor(i / 250) % 240}.${(i % 250) + 2}/16`, gateway: '10.20.0.1' } }],
      cloudInit: { user: 'ops', dnsServers: ['10.20.0.2'] },
      runStrategy: 'Always',
    } as VirtualMachine['spec'],
  };
}

async function folderOf(docs: object[]): Promise<{ dir: string; state: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'vk-bench-cli-'));
  await mkdir(join(dir, 'vms'));
  // 100 documents a file, as a fleet split over files would be.
  const [hv, ...vms] = docs;
  await writeFile(join(dir, 'hypervisor.yaml'), JSON.stringify(hv));
  for (let i = 0; i < vms.length; i += 100)
    await writeFile(
      join(dir, 'vms', `vms-${String(i / 100).padStart(4, '0')}.yaml`),
      vms
        .slice(i, i + 100)
        .map((d) => JSON.stringify(d))
        .join('\n---\n'),
    );
  const state = `${dir}-state`;
  return { dir, state, cleanup: () => Promise.all([rm(dir, { recursive: true, force: true }), rm(state, { recursive: true, force: true })]).then(() => undefined) };
}

/** Runs the CLI in a child process under /usr/bin/time -v; the simulator counts its requests. */
async function cli(sim: RunningProxmoxSimulator, args: string[]): Promise<Run> {
  sim.resetStats();
  const env = { ...process.env, VIRTKEEPER_BENCH_USERNAME: sim.credentials.username, VIRTKEEPER_BENCH_PASSWORD: sim.credentials.password, VK_LOG_LEVEL: 'error' };
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-v', process.execPath, ...nodeFlags, join(root, 'controller/cli/main.ts'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (b: Buffer) => {
    stdout += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)));
  const wallMs = performance.now() - t0;
  const rssKB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? 0);
  const cpuS = Number(/User time \(seconds\): ([\d.]+)/.exec(stderr)?.[1] ?? 0) + Number(/System time \(seconds\): ([\d.]+)/.exec(stderr)?.[1] ?? 0);
  const byEndpoint = sim.stats();
  if (code !== 0 && code !== 2)
    process.stdout.write(
      `  (exit ${code}: ${[
        ...stdout.trim().split('\n').slice(-3),
        ...stderr
          .split('\n')
          .filter((l) => !/^\t|^Command/.test(l))
          .slice(0, 3),
      ].join(' | ')})\n`,
    );
  return { wallMs, cpuS, rssMB: rssKB / 1024, requests: Object.values(byEndpoint).reduce((a, n) => a + n, 0), byEndpoint, code };
}

const fmt = (r: Run) => `${(r.wallMs / 1000).toFixed(2)} s wall (${r.cpuS.toFixed(2)} s CPU), ${r.rssMB.toFixed(0)} MB peak RSS, ${r.requests} requests`;
const top = (r: Run, n = Number(process.env.VK_BENCH_TOP ?? 6)) =>
  Object.entries(r.byEndpoint)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** apply of N new VMs on one node, then apply again with nothing to change (fresh process). */
export async function newVMs(n: number): Promise<void> {
  // The simulator's own task durations (a clone 400 ms, a start 200 ms): waiting is part of the cost.
  const sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], agentDelayMs: 0 });
  const f = await folderOf([hvDoc(sim.url), ...Array.from({ length: n }, (_, i) => vmDoc(`new-${String(i).padStart(4, '0')}`, i))]);
  const apply = await cli(sim, ['--state-dir', f.state, 'apply', '-f', f.dir, '--wait', '--timeout', '10m']);
  const made = sim.dump().vms.filter((v) => !v.template && v.status === 'running').length;
  console.log(`apply of ${n} new VMs (full clone, CPU, memory, VLAN NIC, cloud-init IP/DNS, start), one node, whole process:`);
  console.log(`  ${fmt(apply)}; ${made} running; ${(apply.requests / n).toFixed(1)} requests per VM (target ≤ 9 → ${apply.requests / n <= 9 ? 'met' : 'NOT met'})`);
  console.log(`  most: ${top(apply)}`);
  const again = await cli(sim, ['--state-dir', f.state, 'apply', '-f', f.dir]);
  console.log(`  apply again, nothing to change, fresh process: ${fmt(again)} (target auth + 1 list call → ${again.requests <= 2 ? 'met' : 'NOT met'}): ${top(again)}`);
  await f.cleanup();
  await sim.close();
}

/** A cluster running N guests that match their manifests, converged once by an apply (the state directory is there). */
export async function convergedFleet(n: number): Promise<void> {
  const sim = await startProxmoxSimulator({ nodes: 4, templates: ['ubuntu-24.04'], taskDurations: { default: 0 }, agentDelayMs: 0 });
  const hv = hvDoc(sim.url);
  const docs = Array.from({ length: n }, (_, i) => vmDoc(`vm-${String(i).padStart(5, '0')}`, i));
  const f = await folderOf([hv, ...docs]);
  // Marked for the controller instance of this state directory, as its own apply would have.
  const instance = directoryInstance(undefined, f.state);
  seedConvergedFleet(sim, hv, docs, { instance });
  const first = await cli(sim, ['--state-dir', f.state, 'apply', '-f', f.dir]);
  const plan = await cli(sim, ['--state-dir', f.state, 'plan', '-f', f.dir, '--detailed-exitcode']);
  const noop = await cli(sim, ['--state-dir', f.state, 'apply', '-f', f.dir]);
  const [planWall, applyWall] = n >= 10_000 ? [2, 3] : [undefined, undefined];
  console.log(`${n} converged VMs on 4 nodes, whole process (fresh each time):`);
  console.log(`  first apply (nothing to change; state directory empty, every config read): ${fmt(first)}: ${top(first)}`);
  console.log(`  plan: ${fmt(plan)}, exit ${plan.code}${planWall ? ` (target ≤ ${planWall} s, ≤ 250 MB, ≤ 5 requests)` : ''}: ${top(plan)}`);
  console.log(`  no-op apply: ${fmt(noop)}${applyWall ? ` (target ≤ ${applyWall} s, ≤ 250 MB, ≤ 5 requests)` : ''}: ${top(noop)}`);
  await f.cleanup();
  await sim.close();
}

// Set but empty (VK_BENCH_NEW=) runs none of that kind, so one kind can be measured alone.
const sizes = (v: string | undefined, d: number[]) => (v === undefined ? d : v.split(',').filter(Boolean).map(Number));
for (const n of sizes(process.env.VK_BENCH_NEW, [20, 200])) await newVMs(n);
for (const n of sizes(process.env.VK_BENCH_FLEET, [1000, 10_000])) await convergedFleet(n);
