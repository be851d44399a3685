// Kubernetes mode on the real kube-apiserver (scripts/provision/kube.sh): N VirtualMachines
// whose VMs already run, converged, on the Proxmox simulator (a fleet taken over by a fresh
// controller). Prints time to all Ready, the controller's RSS after converging and after a
// soak of resyncs (VK_BENCH_SOAK_S, default 60 s; the figure is an hour; a line a minute
// shows whether it stays flat), and the simulator's requests per resync. The controller's own
// heap figures come from its /metrics. Sizes: VK_BENCH_KUBE_SIZES (default "1000").
// Asserts nothing.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { kubeRest, loadKubeConfig, type KubeRest } from '../controller/sources/kube-rest.ts';
import { kubectlWith } from '../test/support/kubectl.ts';
import type { Hypervisor, VirtualMachine } from '../controller/api/types.ts';
import { seedConvergedFleet } from './support/pve-fleet.ts';
import { startProxmoxSimulator } from '../providers/proxmox/simulator/index.ts';

const admin = process.env.VK_KUBECONFIG ?? '';
const root = join(import.meta.dirname, '..');
// A namespace, a Hypervisor and a selector per run: the test bed has no kube-controller-manager
// (a deleted namespace stays Terminating), and another checkout's run of this benchmark on the
// same apiserver would otherwise delete this one's Hypervisor when it cleans up.
const RUN = Date.now().toString(36);
const NS = `vk-bench-${RUN}`;
const HV = `bench-pve-${RUN}`;
const SECRET = `bench-pve-credentials-${RUN}`;
const INSTANCE = 'bench-kube';
const sizes = (process.env.VK_BENCH_KUBE_SIZES ?? '1000').split(',').map(Number);
const soakMs = Number(process.env.VK_BENCH_SOAK_S ?? 60) * 1000;
const kubectl = kubectlWith(admin);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function vmDoc(name: string): VirtualMachine {
  return {
    apiVersion: 'virtkeeper.io/v1alpha1',
    kind: 'VirtualMachine',
    metadata: { name, namespace: NS },
    spec: { hypervisor: HV, template: 'ubuntu-24.04', memory: '1Gi', cpu: { cores: 1 }, disks: [{ name: 'root', size: '8Gi' }], runStrategy: 'Always' },
  };
}

interface Memory {
  rssMB: number;
  peakMB: number;
  /** The V8 heap in use and allocated, from the controller's /metrics (0 when it did not answer). */
  heapUsedMB: number;
  heapTotalMB: number;
}

/** VmRSS (now) and VmHWM (the peak) from /proc/<pid>/status; the heap from the controller's /metrics. */
async function memory(pid: number, healthPort: number): Promise<Memory> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  const metrics = await fetch(`http://127.0.0.1:${healthPort}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0) / 2 ** 20;
  return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024, heapUsedMB: gauge('nodejs_heap_size_used_bytes'), heapTotalMB: gauge('nodejs_heap_size_total_bytes') };
}

const mb = (m: Memory) => `RSS ${m.rssMB.toFixed(0)} MB (peak ${m.peakMB.toFixed(0)} MB; heap ${m.heapUsedMB.toFixed(0)} of ${m.heapTotalMB.toFixed(0)} MB)`;

/** A port free now, for the controller's /metrics. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function readyCount(): Promise<number> {
  const out = await kubectl(['get', 'vkvm', '-n', NS, '--no-headers', '-o', 'custom-columns=R:.status.conditions[?(@.type=="Ready")].status']);
  return out.split('\n').filter((l) => l.trim() === 'True').length;
}

async function cleanup(rest: KubeRest): Promise<void> {
  // Finalizers first: the controller that would finish them is gone. Through the API, 16 at a
  // time: a kubectl process per object took longer than the benchmark on the shared cores.
  const path = `/apis/virtkeeper.io/v1alpha1/namespaces/${NS}/virtualmachines`;
  // Again while some are still held: under load a list or a patch fails now and then.
  for (let attempt = 0; attempt < 5; attempt++) {
    const list = await rest.call<{ items: { metadata: { name: string; finalizers?: string[] } }[] }>('GET', path).catch(() => undefined);
    const held = (list?.items ?? []).filter((i) => (i.metadata.finalizers ?? []).length > 0).map((i) => i.metadata.name);
    if (list && held.length === 0) break;
    const unhold = async () => {
      for (let name = held.pop(); name; name = held.pop()) {
        await rest.call('PATCH', `${path}/${name}`, { metadata: { finalizers: null } }, 'application/merge-patch+json').catch(() => undefined);
      }
    };
    await Promise.all(Array.from({ length: 16 }, unhold));
  }
  await kubectl(['delete', 'vkvm', '--all', '-n', NS, '--wait=false']).catch(() => undefined);
  await kubectl(['patch', 'hv', HV, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => undefined);
  await kubectl(['delete', 'hv', HV, '--ignore-not-found']).catch(() => undefined);
  await kubectl(['delete', 'secret', '-n', NS, SECRET, '--ignore-not-found']).catch(() => undefined);
}

async function run(n: number, rest: KubeRest): Promise<void> {
  const sim = await startProxmoxSimulator({ nodes: 4, templates: ['ubuntu-24.04'], taskDurations: { default: 0 } });
  const hv: Hypervisor = {
    apiVersion: 'virtkeeper.io/v1alpha1',
    kind: 'Hypervisor',
    metadata: { name: HV, labels: { 'virtkeeper.io/bench': RUN } },
    spec: { type: 'proxmox', endpoint: sim.url, credentialsRef: { name: SECRET, namespace: NS }, resyncInterval: '10s' },
  };
  const docs = Array.from({ length: n }, (_, i) => vmDoc(`vm-${String(i).padStart(5, '0')}`));
  seedConvergedFleet(sim, hv, docs, { instance: INSTANCE });

  await cleanup(rest);
  await kubectl(['apply', '-f', 'crds/', '-f', 'manifests/namespace.yaml']);
  await kubectl(['create', 'namespace', NS]);
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: SECRET, namespace: NS, labels: { 'virtkeeper.io/credentials': 'true' } },
      stringData: { username: sim.credentials.username, password: sim.credentials.password },
    }),
  );
  await kubectl(['apply', '-f', '-'], JSON.stringify(hv));
  const t0 = performance.now();
  for (let i = 0; i < docs.length; i += 500) await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs.slice(i, i + 500) }));
  const createdS = (performance.now() - t0) / 1000;

  sim.resetStats();
  const healthPort = await freePort();
  const started = performance.now();
  const controller = spawn(
    process.execPath,
    [
      ...(process.env.VK_BENCH_HEAP_DIR ? [`--heapsnapshot-signal=SIGUSR2`, `--diagnostic-dir=${process.env.VK_BENCH_HEAP_DIR}`] : []),
      // VK_BENCH_NODE_ARGS: more flags for the controller's node, e.g. `--cpu-prof --cpu-prof-dir=DIR` (written as it stops).
      ...(process.env.VK_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
      'bin/virtkeeper.js',
      'run',
      '--kubeconfig',
      admin,
      '--instance',
      INSTANCE,
      '--hypervisor-selector',
      `virtkeeper.io/bench=${RUN}`,
      // Its Secret in the run's namespace: a controller of another suite on the same apiserver
      // (one without a selector sees this Hypervisor) gets no credentials, so it cannot observe
      // these VMs and write "owned by another controller" over their status.
      '--namespace',
      NS,
      '--health-port',
      String(healthPort),
      '--workers',
      '16',
    ],
    { cwd: root, env: { ...process.env, VK_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    let ready = 0;
    const deadline = started + Math.max(300_000, n * 60);
    while (ready < n && performance.now() < deadline) {
      await sleep(2000);
      ready = await readyCount().catch(() => ready);
    }
    const convergedS = (performance.now() - started) / 1000;
    const pid = controller.pid ?? 0;
    const atReady = await memory(pid, healthPort);
    // VK_BENCH_HEAP_DIR: a heap snapshot of the controller at Ready (node --heapsnapshot-signal), to see what holds memory.
    if (process.env.VK_BENCH_HEAP_DIR) {
      controller.kill('SIGUSR2');
      await sleep(15_000);
    }
    const convergeRequests = Object.values(sim.stats()).reduce((a, b) => a + b, 0);
    sim.resetStats();
    const soakStart = performance.now();
    // A line a minute, so a long soak shows whether memory stays flat.
    const minutes: string[] = [];
    for (let t = 60_000; t < soakMs; t += 60_000) {
      await sleep(soakStart + t - performance.now());
      const m = await memory(pid, healthPort);
      minutes.push(`    ${String(t / 60_000).padStart(3)} min: ${mb(m)}`);
      console.log(`  (soak ${t / 60_000} min: ${mb(m)})`);
    }
    await sleep(soakStart + soakMs - performance.now());
    const soakS = (performance.now() - soakStart) / 1000;
    const afterSoak = await memory(pid, healthPort);
    const soakRequests = Object.values(sim.stats()).reduce((a, b) => a + b, 0);
    console.log(`Kubernetes mode, ${n} VirtualMachines (running, converged VMs on the Proxmox simulator, 4 nodes):`);
    console.log(`  objects created with kubectl in ${createdS.toFixed(1)} s`);
    console.log(`  ${ready} of ${n} Ready ${convergedS.toFixed(1)} s after the controller started; ${convergeRequests} simulator requests meanwhile`);
    console.log(`  controller at Ready: ${mb(atReady)}`);
    for (const line of minutes) console.log(line);
    console.log(`  after ${soakS.toFixed(0)} s of 10 s resyncs: ${mb(afterSoak)}, ${soakRequests} simulator requests (${((soakRequests / soakS) * 10).toFixed(1)} per resync)`);
    console.log(`  target: RSS ≤ 250 MB at 10,000 VMs, flat over time → ${afterSoak.rssMB <= 250 ? 'met' : 'NOT met'} at ${n}`);
  } finally {
    // SIGTERM first: a controller that stops cleanly writes what VK_BENCH_NODE_ARGS asked for.
    const exited = new Promise((r) => controller.once('exit', r));
    controller.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    controller.kill('SIGKILL');
    await cleanup(rest);
    await sim.close();
  }
}

if (!admin) console.log('skipped: VK_KUBECONFIG is not set (source the provisioning environment: scripts/provision/kube.sh start)');
else {
  const rest = await kubeRest(loadKubeConfig(admin));
  try {
    for (const n of sizes) await run(n, rest);
  } finally {
    await rest.close();
  }
}
