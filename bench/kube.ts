// Kubernetes mode on the real kube-apiserver (scripts/provision/kube.sh): N VirtualMachines
// whose VMs already run, converged, on the Proxmox simulator (a fleet taken over by a fresh
// controller). Prints time to all Ready, the controller's RSS after converging and after a
// soak of resyncs (VK_BENCH_SOAK_S, default 60 s; the figure is an hour), and the
// simulator's requests per resync. Sizes: VK_BENCH_KUBE_SIZES (default "1000").
// Asserts nothing.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kubectlWith } from '../test/support/kubectl.ts';
import type { Hypervisor, VirtualMachine } from '../controller/api/types.ts';
import { seedConvergedFleet } from './support/pve-fleet.ts';
import { startProxmoxSimulator } from '../providers/proxmox/simulator/index.ts';

const admin = process.env.VK_KUBECONFIG ?? '';
const root = join(import.meta.dirname, '..');
// A namespace per run: the test bed has no kube-controller-manager, so a deleted namespace stays Terminating.
const NS = `vk-bench-${Date.now().toString(36)}`;
const HV = 'bench-pve';
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

/** Kilobytes from /proc/<pid>/status (VmRSS now, VmHWM the peak). */
async function memory(pid: number): Promise<{ rssMB: number; peakMB: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
}

async function readyCount(): Promise<number> {
  const out = await kubectl(['get', 'vkvm', '-n', NS, '--no-headers', '-o', 'custom-columns=R:.status.conditions[?(@.type=="Ready")].status']);
  return out.split('\n').filter((l) => l.trim() === 'True').length;
}

async function cleanup(): Promise<void> {
  // Finalizers first: the controller that would finish them is gone.
  const names = (await kubectl(['get', 'vkvm', '-n', NS, '-o', 'name']).catch(() => '')).split('\n').filter(Boolean);
  for (let i = 0; i < names.length; i += 200) {
    await Promise.all(names.slice(i, i + 200).map((n) => kubectl(['patch', '-n', NS, n, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => undefined)));
  }
  await kubectl(['delete', 'vkvm', '--all', '-n', NS, '--wait=false']).catch(() => undefined);
  await kubectl(['patch', 'hv', HV, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => undefined);
  await kubectl(['delete', 'hv', HV, '--ignore-not-found']).catch(() => undefined);
}

async function run(n: number): Promise<void> {
  const sim = await startProxmoxSimulator({ nodes: 4, templates: ['ubuntu-24.04'], taskDurations: { default: 0 } });
  const hv: Hypervisor = {
    apiVersion: 'virtkeeper.io/v1alpha1',
    kind: 'Hypervisor',
    metadata: { name: HV, labels: { 'virtkeeper.io/bench': 'kube' } },
    spec: { type: 'proxmox', endpoint: sim.url, credentialsRef: { name: 'bench-pve-credentials', namespace: 'virtkeeper-system' }, resyncInterval: '10s' },
  };
  const docs = Array.from({ length: n }, (_, i) => vmDoc(`vm-${String(i).padStart(5, '0')}`));
  seedConvergedFleet(sim, hv, docs, { instance: INSTANCE });

  await cleanup();
  await kubectl(['apply', '-f', 'crds/', '-f', 'manifests/namespace.yaml']);
  await kubectl(['create', 'namespace', NS]);
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bench-pve-credentials', namespace: 'virtkeeper-system', labels: { 'virtkeeper.io/credentials': 'true' } },
      stringData: { username: sim.credentials.username, password: sim.credentials.password },
    }),
  );
  await kubectl(['apply', '-f', '-'], JSON.stringify(hv));
  const t0 = performance.now();
  for (let i = 0; i < docs.length; i += 500) await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs.slice(i, i + 500) }));
  const createdS = (performance.now() - t0) / 1000;

  sim.resetStats();
  const started = performance.now();
  const controller = spawn(
    process.execPath,
    [
      ...(process.env.VK_BENCH_HEAP_DIR ? [`--heapsnapshot-signal=SIGUSR2`, `--diagnostic-dir=${process.env.VK_BENCH_HEAP_DIR}`] : []),
      'bin/virtkeeper.js',
      'run',
      '--kubeconfig',
      admin,
      '--instance',
      INSTANCE,
      '--hypervisor-selector',
      'virtkeeper.io/bench=kube',
      '--health-port',
      '0',
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
    const atReady = await memory(controller.pid ?? 0);
    // VK_BENCH_HEAP_DIR: a heap snapshot of the controller at Ready (node --heapsnapshot-signal), to see what holds memory.
    if (process.env.VK_BENCH_HEAP_DIR) {
      controller.kill('SIGUSR2');
      await sleep(15_000);
    }
    const convergeRequests = Object.values(sim.stats()).reduce((a, b) => a + b, 0);
    sim.resetStats();
    const soakStart = performance.now();
    await sleep(soakMs);
    const soakS = (performance.now() - soakStart) / 1000;
    const afterSoak = await memory(controller.pid ?? 0);
    const soakRequests = Object.values(sim.stats()).reduce((a, b) => a + b, 0);
    console.log(`Kubernetes mode, ${n} VirtualMachines (running, converged VMs on the Proxmox simulator, 4 nodes):`);
    console.log(`  objects created with kubectl in ${createdS.toFixed(1)} s`);
    console.log(`  ${ready} of ${n} Ready ${convergedS.toFixed(1)} s after the controller started; ${convergeRequests} simulator requests meanwhile`);
    console.log(`  controller RSS at Ready: ${atReady.rssMB.toFixed(0)} MB (peak ${atReady.peakMB.toFixed(0)} MB)`);
    console.log(
      `  after ${soakS.toFixed(0)} s of 10 s resyncs: RSS ${afterSoak.rssMB.toFixed(0)} MB (peak ${afterSoak.peakMB.toFixed(0)} MB), ${soakRequests} simulator requests (${((soakRequests / soakS) * 10).toFixed(1)} per resync)`,
    );
    console.log(`  target: RSS ≤ 250 MB at 10,000 VMs, flat over time → ${afterSoak.rssMB <= 250 ? 'met' : 'NOT met'} at ${n}`);
  } finally {
    controller.kill('SIGKILL');
    await cleanup();
    await sim.close();
  }
}

if (!admin) console.log('skipped: VK_KUBECONFIG is not set (source the provisioning environment: scripts/provision/kube.sh start)');
else for (const n of sizes) await run(n);
