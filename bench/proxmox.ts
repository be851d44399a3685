// Proxmox benchmarks, against the simulator over HTTP. Prints figures; asserts nothing.
//  1. requests per steady-state resync for 1,000 VMs on a 4-node cluster
//  2. time to create 100 clones of one template across 4 nodes, against the lower bound the
//     simulator's task durations and the template's clone lock allow
//  3. requests per steady-state pass for 1,000 VMs with 20 VirtualDisks attached to some of them
//  4. whole-process figures (bench/proxmox-process.ts): apply of 20 and 200 new VMs, plan and
//     no-op apply of 1,000 and 10,000 converged VMs
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { converge } from '../controller/runtime/converge.ts';
import { directoryCredentials } from '../controller/runtime/credentials.ts';
import { HypervisorPool } from '../controller/runtime/hypervisors.ts';
import { StateDir } from '../controller/status/state-dir.ts';
import type { Hypervisor, VirtualMachine } from '../controller/api/types.ts';
import { loadConnector } from '../providers/registry.ts';
import { seedConvergedFleet } from './support/pve-fleet.ts';
import { startProxmoxSimulator } from '../providers/proxmox/simulator/index.ts';

const logger = pino({ level: 'silent' });

function hvDoc(url: string): Hypervisor {
  return {
    apiVersion: 'virtkeeper.io/v1alpha1',
    kind: 'Hypervisor',
    metadata: { name: 'pve' },
    spec: { type: 'proxmox', endpoint: url, credentialsRef: { env: 'BENCH' }, defaults: { storage: 'local-lvm', bridge: 'vmbr0' }, limits: { maxConcurrentActions: 16 } },
  };
}
function vmDoc(name: string, extra: Partial<VirtualMachine['spec']> = {}): VirtualMachine {
  return {
    apiVersion: 'virtkeeper.io/v1alpha1',
    kind: 'VirtualMachine',
    metadata: { name, namespace: 'bench' },
    spec: { hypervisor: 'pve', template: 'ubuntu-24.04', memory: '1Gi', cpu: { cores: 1 }, disks: [{ name: 'root', size: '8Gi' }], runStrategy: 'Always', ...extra },
  };
}
const yaml = (docs: object[]) => docs.map((d) => JSON.stringify(d)).join('\n---\n');

async function setup(sim: Awaited<ReturnType<typeof startProxmoxSimulator>>, docs: object[]) {
  const dir = await mkdtemp(join(tmpdir(), 'vk-bench-'));
  await writeFile(join(dir, 'all.yaml'), yaml(docs));
  const pool = new HypervisorPool({
    loadConnector,
    credentials: directoryCredentials({ VIRTKEEPER_BENCH_USERNAME: sim.credentials.username, VIRTKEEPER_BENCH_PASSWORD: sim.credentials.password }),
    logger,
    now: Date.now,
  });
  const opts = {
    folder: dir,
    statuses: new StateDir(`${dir}-state`),
    hypervisors: pool,
    logger,
    now: Date.now,
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 200))),
    concurrency: 32,
  };
  return {
    dir,
    pool,
    opts,
    cleanup: async () => {
      await pool.closeAll();
      await rm(dir, { recursive: true, force: true });
      await rm(`${dir}-state`, { recursive: true, force: true });
    },
  };
}

/** A cluster already running 1,000 guests that match their manifests, as a running fleet would. */
async function fleet() {
  const sim = await startProxmoxSimulator({ nodes: 4, templates: ['ubuntu-24.04'], taskDurations: { default: 0 } });
  const hv = hvDoc(sim.url);
  const docs = Array.from({ length: 1000 }, (_, i) => vmDoc(`vm-${String(i).padStart(4, '0')}`));
  seedConvergedFleet(sim, hv, docs);
  return { sim, hv, docs };
}

/**
 * Converges a folder once (cold), lets the shared observation age out (`settle` passes more,
 * for guests changed by the first), then counts the requests of one steady pass.
 */
async function steadyPass(sim: Awaited<ReturnType<typeof startProxmoxSimulator>>, docs: object[], settle = 0) {
  const b = await setup(sim, docs);
  const t0 = performance.now();
  const first = await converge(b.opts);
  const firstMs = performance.now() - t0;
  for (let i = 0; i <= settle; i++) {
    await new Promise((r) => setTimeout(r, 2100));
    if (i < settle) await converge(b.opts);
  }
  sim.resetStats();
  const t1 = performance.now();
  await converge(b.opts);
  const steadyMs = performance.now() - t1;
  const stats = sim.stats();
  await b.cleanup();
  return { firstMs, notReady: first.outcomes.filter((o) => !o.ready).length, steadyMs, stats, total: Object.values(stats).reduce((a, n) => a + n, 0) };
}

async function disksSteadyState(): Promise<void> {
  const { sim, hv, docs } = await fleet();
  const disks = Array.from({ length: 20 }, (_, i) => ({
    apiVersion: 'virtkeeper.io/v1alpha1',
    kind: 'VirtualDisk',
    metadata: { name: `data-${i}`, namespace: 'bench' },
    spec: { hypervisor: 'pve', size: '2Gi', attachTo: { vm: `vm-${String(i * 50).padStart(4, '0')}` } },
  }));
  // One pass more to settle: the VMs a disk was hot-plugged into are read once more.
  const r = await steadyPass(sim, [hv, ...docs, ...disks], 1);
  console.log(`steady-state resync, 1000 VMs and 20 VirtualDisks attached to 20 of them:`);
  console.log(`  first pass (disks allocated and hot-plugged): ${r.firstMs.toFixed(0)} ms, ${r.notReady} not ready`);
  console.log(`  steady pass: ${r.total} request(s) in ${r.steadyMs.toFixed(0)} ms (${((r.total - 1) / disks.length).toFixed(1)} per disk): ${JSON.stringify(r.stats)}`);
  console.log(`  target: the one list call of the pass, then per disk the VM it is on (1 request a disk; never every VM's config) → ${(r.total - 1) / disks.length <= 1 ? 'met' : 'NOT met'}`);
  await sim.close();
}

async function steadyState(): Promise<void> {
  const { sim, hv, docs } = await fleet();
  const r = await steadyPass(sim, [hv, ...docs]);
  console.log(`steady-state resync, 1000 VMs on 4 nodes:`);
  console.log(`  first pass (cold cache, reads every config): ${r.firstMs.toFixed(0)} ms, ${r.notReady} not ready`);
  console.log(`  steady pass: ${r.total} request(s) in ${r.steadyMs.toFixed(0)} ms: ${JSON.stringify(r.stats)}`);
  console.log(`  target: 1 list call plus nothing for unchanged VMs → ${r.total === 1 ? 'met' : 'NOT met'}`);
  await sim.close();
}

async function hundredClones(): Promise<void> {
  const cloneMs = 250;
  const sim = await startProxmoxSimulator({ nodes: 4, templates: ['ubuntu-24.04'], taskDurations: { default: 20, qmclone: cloneMs } });
  const docs = Array.from({ length: 100 }, (_, i) => vmDoc(`clone-${i}`, { runStrategy: 'Halted', clone: 'full', placement: { strategy: 'Spread' } }));
  const b = await setup(sim, [hvDoc(sim.url), ...docs]);
  const t0 = performance.now();
  const r = await converge({ ...b.opts, wait: true, timeoutMs: 600_000 });
  const ms = performance.now() - t0;
  const vms = sim.dump().vms.filter((v) => !v.template);
  const perNode = Object.fromEntries(['pve1', 'pve2', 'pve3', 'pve4'].map((n) => [n, vms.filter((v) => v.node === n).length]));
  // Clones of one template run one at a time (lock `clone` on the source); the last clone's
  // config and resize tasks (default duration) follow it.
  const lower = 100 * cloneMs + 2 * 20;
  console.log(`100 clones of one template across 4 nodes (clone task ${cloneMs} ms, others 20 ms):`);
  console.log(`  ${vms.length} VMs created in ${ms.toFixed(0)} ms; per node ${JSON.stringify(perNode)}; ${r.outcomes.filter((o) => !o.ready).length} not ready`);
  console.log(`  lower bound ${lower} ms → ${(ms / lower).toFixed(3)}× (target ≤ 1.25×: ${ms / lower <= 1.25 ? 'met' : 'NOT met'})`);
  await b.cleanup();
  await sim.close();
}

await steadyState();
await disksSteadyState();
await hundredClones();
// Whole-process figures (the CLI under /usr/bin/time -v): see bench/proxmox-process.ts.
await import('./proxmox-process.ts');
