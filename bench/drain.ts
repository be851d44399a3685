// Drain benchmark on the Proxmox simulator over HTTP: 8 running VMs on pve1, migration
// maxConcurrent 4, each qmigrate task taking 4 s and logging its transfer as QemuMigrate does.
// Prints the requests the drain made (by endpoint), the status writes (per VM and for the
// Hypervisor) and how many progress reports the migrations gave, wall time and RSS. Asserts nothing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { converge } from '../controller/runtime/converge.ts';
import { directoryCredentials } from '../controller/runtime/credentials.ts';
import { HypervisorPool } from '../controller/runtime/hypervisors.ts';
import { StateDir } from '../controller/status/state-dir.ts';
import type { StatusRecord, StatusStore } from '../controller/status/writer.ts';
import { loadConnector } from '../providers/registry.ts';
import { startProxmoxSimulator } from '../providers/proxmox/simulator/index.ts';

const N = 8;
const MIGRATE_MS = 4000;
const logger = pino({ level: 'silent' });
const sim = await startProxmoxSimulator({ nodes: 3, templates: ['ubuntu-24.04'], taskDurations: { default: 5, qmclone: 10, qmigrate: MIGRATE_MS }, agentDelayMs: 0 });
const dir = await mkdtemp(join(tmpdir(), 'vk-bench-drain-'));
const hv = (maintenance: string) =>
  `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec:\n  type: proxmox\n  endpoint: ${sim.url}\n  credentialsRef: {env: BENCH}\n  defaults: {node: pve1, storage: local-lvm, bridge: vmbr0}\n  migration: {maxConcurrent: 4}\n${maintenance}`;
const vm = (i: number, pin: boolean) =>
  `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: drain-${i}, namespace: bench}\nspec:\n  hypervisor: pve\n  template: ubuntu-24.04\n  memory: 1Gi\n  disks: [{name: root, size: 8Gi}]\n${pin ? '  placement: {node: pve1}\n' : ''}`;
const write = (maintenance: string, pin: boolean) => writeFile(join(dir, 'all.yaml'), [hv(maintenance), ...Array.from({ length: N }, (_, i) => vm(i, pin))].join('---\n'));

const store = new StateDir(`${dir}-state`);
const writes: StatusRecord[] = [];
const statuses: StatusStore = {
  ...store,
  read: (k) => store.read(k),
  list: () => store.list(),
  remove: (k) => store.remove(k),
  write: (rec) => {
    writes.push(rec);
    return store.write(rec);
  },
};
const pool = new HypervisorPool({
  loadConnector,
  credentials: directoryCredentials({ VIRTKEEPER_BENCH_USERNAME: sim.credentials.username, VIRTKEEPER_BENCH_PASSWORD: sim.credentials.password }),
  logger,
  now: Date.now,
});
let reports = 0;
const opts = {
  folder: dir,
  statuses,
  hypervisors: pool,
  logger,
  now: Date.now,
  sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 200))),
  wait: true,
  timeoutMs: 120_000,
  emit: (e: { type: string; action?: string }) => {
    if (e.type === 'progress' && e.action === 'migrate') reports++;
  },
};

await write('', true);
await converge(opts);
await write('  maintenance: [{node: pve1, reason: bench}]\n', false);
sim.resetStats();
writes.length = 0;
const started = performance.now();
const r = await converge(opts);
const ms = performance.now() - started;
const stats = sim.stats();
const total = Object.values(stats).reduce((a, n) => a + n, 0);
const vmWrites = writes.filter((w) => w.key.startsWith('VirtualMachine/')).length;
const hvWrites = writes.filter((w) => w.key.startsWith('Hypervisor/')).length;
console.log(`  drain of ${N} VMs (maxConcurrent 4, ${MIGRATE_MS} ms each): ${r.outcomes.filter((o) => !o.ready).length} not ready, ${ms.toFixed(0)} ms`);
console.log(`  requests: ${total}: ${JSON.stringify(stats)}`);
console.log(`  status writes: ${vmWrites} for the ${N} VMs (${(vmWrites / N).toFixed(1)} each), ${hvWrites} for the Hypervisor; ${reports} progress reports from the migrations`);
console.log(`  rss: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
await pool.closeAll();
await sim.close();
await rm(dir, { recursive: true, force: true });
await rm(`${dir}-state`, { recursive: true, force: true });
