// `virtkeeper run -f` as a user runs it (a child process watching a folder, the Proxmox
// simulator over HTTP in this process): how long from a new manifest written to the clone
// request reaching the simulator, p50/p99 over VK_BENCH_SAMPLES (default 30), with a converged
// fleet of VK_BENCH_RUN_FLEET VMs (default 500) on the same hypervisor; then a `git pull` that
// brings 500 files at once, counted in folder passes and list calls. Prints figures; asserts nothing.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hypervisor, VirtualMachine } from '../controller/api/types.ts';
import { directoryInstance } from '../controller/cli/instance.ts';
import { startProxmoxSimulator } from '../providers/proxmox/simulator/index.ts';
import { seedConvergedFleet } from './support/pve-fleet.ts';

const root = new URL('..', import.meta.url).pathname;
const samples = Number(process.env.VK_BENCH_SAMPLES ?? 30);
const fleetSize = Number(process.env.VK_BENCH_RUN_FLEET ?? 500);
const CLONE = 'POST /nodes/{node}/qemu/{vmid}/clone';
const LIST = 'GET /cluster/resources';

const vm = (name: string): VirtualMachine => ({
  apiVersion: 'virtkeeper.io/v1alpha1',
  kind: 'VirtualMachine',
  metadata: { name, namespace: 'bench' },
  spec: { hypervisor: 'pve', template: 'ubuntu-24.04', memory: '1Gi', cpu: { cores: 1 }, disks: [{ name: 'root', size: '8Gi' }], runStrategy: 'Halted' } as VirtualMachine['spec'],
});
const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=bench', '-c', 'user.email=bench@localhost', ...args], { stdio: 'ignore' });
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)] ?? Number.NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const sim = await startProxmoxSimulator({ nodes: 2, templates: ['ubuntu-24.04'], taskDurations: { default: 10, qmclone: 50 }, agentDelayMs: 0 });
const hv: Hypervisor = {
  apiVersion: 'virtkeeper.io/v1alpha1',
  kind: 'Hypervisor',
  metadata: { name: 'pve' },
  spec: { type: 'proxmox', endpoint: sim.url, credentialsRef: { env: 'BENCH' }, defaults: { node: 'pve1', storage: 'local-lvm', bridge: 'vmbr0' }, resyncInterval: '10s' },
};
const dir = await mkdtemp(join(tmpdir(), 'vk-bench-run-'));
const state = `${dir}-state`;
const fleet = Array.from({ length: fleetSize }, (_, i) => ({ ...vm(`fleet-${String(i).padStart(5, '0')}`), spec: { ...vm('x').spec, runStrategy: 'Always' } }) as VirtualMachine);
seedConvergedFleet(sim, hv, fleet, { instance: directoryInstance(undefined, state), nodes: 2 });
await writeFile(join(dir, 'hypervisor.yaml'), JSON.stringify(hv));
await mkdir(join(dir, 'fleet'));
for (let i = 0; i < fleet.length; i += 100)
  await writeFile(
    join(dir, 'fleet', `f-${i / 100}.yaml`),
    fleet
      .slice(i, i + 100)
      .map((d) => JSON.stringify(d))
      .join('\n---\n'),
  );
git(dir, 'init', '-q');
git(dir, 'add', '.');
git(dir, 'commit', '-qm', 'fleet');

const child = spawn(process.execPath, [join(root, 'controller/cli/main.ts'), '--state-dir', state, 'run', '-f', dir, '--metrics-port', '0'], {
  env: { ...process.env, VIRTKEEPER_BENCH_USERNAME: sim.credentials.username, VIRTKEEPER_BENCH_PASSWORD: sim.credentials.password, VK_LOG_LEVEL: 'info' },
  stdio: ['ignore', 'ignore', 'pipe'],
});
// The controller goes with the bench, however the bench ends.
process.on('exit', () => child.kill('SIGKILL'));
let log = '';
child.stderr.on('data', (b: Buffer) => {
  log += b.toString();
});
const count = (key: string) => sim.stats()[key] ?? 0;
async function waitFor(what: string, ok: () => boolean, ms = 60_000, every = 1): Promise<void> {
  const end = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > end || child.exitCode !== null) throw new Error(`run bench: timed out waiting for ${what}\n${log.slice(-1500)}`);
    await sleep(every);
  }
}
await waitFor('the controller watching', () => log.includes('"msg":"watching"'), 60_000, 20);
// Converged: the fleet's first pass has read the hypervisor (the fleet needs nothing).
await waitFor('the first pass over the fleet', () => count(LIST) > 0, 60_000, 20);
await sleep(3000);

const latencies: number[] = [];
for (let i = 0; i < samples; i++) {
  const before = count(CLONE);
  const t0 = performance.now();
  await writeFile(join(dir, `new-${i}.yaml`), JSON.stringify(vm(`new-${String(i).padStart(3, '0')}`)));
  await waitFor(`the clone of new-${i}`, () => count(CLONE) > before, 30_000);
  latencies.push(performance.now() - t0);
  await waitFor(`new-${i} made`, () => sim.dump().vms.some((v) => v.config.name === `new-${String(i).padStart(3, '0')}` && !v.lock), 30_000, 20);
  // Apart, as edits by hand are: each sample meets a quiet folder.
  await sleep(700 + Math.random() * 600);
}
console.log(`run -f, ${fleetSize} converged VMs on the hypervisor: a new manifest written → the simulator sees its clone request (${samples} samples):`);
const reads = [...log.matchAll(/"changed":(\d+),"ms":(\d+),"msg":"folder read"/g)].map((m) => Number(m[2]));
console.log(`  folder reads took p50 ${quantile(reads, 0.5)} ms, max ${Math.max(...reads)} ms (the whole folder is read again on a change)`);
console.log(`  samples (ms, in order): ${latencies.map((l) => l.toFixed(0)).join(' ')}`);
console.log(`  p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p99 ${quantile(latencies, 0.99).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms (target p99 ≤ 200 ms)`);

// A `git pull` of 500 files: a branch with 500 new manifests merged in at once.
git(dir, 'add', '.');
git(dir, 'commit', '-qm', 'samples');
git(dir, 'checkout', '-qb', 'incoming');
await mkdir(join(dir, 'pulled'));
for (let i = 0; i < 500; i++) await writeFile(join(dir, 'pulled', `p-${i}.yaml`), JSON.stringify({ ...vm(`pulled-${String(i).padStart(3, '0')}`), spec: { ...vm('x').spec } }));
git(dir, 'add', '.');
git(dir, 'commit', '-qm', '500 files');
git(dir, 'checkout', '-q', 'master');
await sleep(2000);
const passesBefore = (log.match(/"msg":"folder read"/g) ?? []).length;
const metrics = /"metrics":(\d+)/.exec(log)?.[1];
const declared = async () => {
  const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
  return Number(/virtkeeper_resources\{kind="VirtualMachine"\} (\d+)/.exec(text)?.[1] ?? 0);
};
const want = fleetSize + samples + 500;
git(dir, 'merge', '-q', '--ff-only', 'incoming');
for (let end = performance.now() + 60_000; (await declared()) < want; await sleep(100))
  if (performance.now() > end) throw new Error(`run bench: the pulled manifests were not all read\n${log.slice(-1500)}`);
await sleep(2000);
const passes = (log.match(/"msg":"folder read"/g) ?? []).length - passesBefore;
console.log(`  a git pull of 500 files: ${passes} folder read${passes === 1 ? '' : 's'} (target one pass)`);

child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await sim.close();
await rm(dir, { recursive: true, force: true });
await rm(state, { recursive: true, force: true });
