// libvirt benchmark on a real libvirtd (run `bash scripts/provision/libvirt.sh start` first):
// RPC calls per steady-state resync for 200 domains on one host (target: two per host), and
// the reaction time from a lifecycle event to the status update.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { converge } from '../controller/runtime/converge.ts';
import { HypervisorPool } from '../controller/runtime/hypervisors.ts';
import { Reconciler } from '../controller/runtime/reconciler.ts';
import { DesiredStore } from '../controller/sources/store.ts';
import { formatProblem, loadFolder } from '../controller/sources/load-folder.ts';
import { StateDir } from '../controller/status/state-dir.ts';
import { LibvirtProvider } from '../providers/libvirt/provider.ts';
import { LibvirtConnection } from '../providers/libvirt/rpc/connection.ts';
import { loadConnector } from '../providers/registry.ts';
import { RemovalGate } from '../controller/runtime/removals.ts';

const uri = process.env.VK_LIBVIRT_URI_1 ?? 'qemu:///system';
const N = Number(process.env.VK_BENCH_DOMAINS ?? 200);
const logger = pino({ level: 'silent' });
const dir = await mkdtemp(join(tmpdir(), 'vk-bench-libvirt-'));
const hv = { apiVersion: 'virtkeeper.io/v1alpha1', kind: 'Hypervisor', metadata: { name: 'kvm' }, spec: { type: 'libvirt', hosts: [{ name: 'host1', uri }] } };
const names = Array.from({ length: N }, (_, i) => `vk-bench-${String(i).padStart(3, '0')}`);
const vms = names.map((name) => ({
  apiVersion: 'virtkeeper.io/v1alpha1',
  kind: 'VirtualMachine',
  metadata: { name },
  spec: { hypervisor: 'kvm', memory: '64Mi', disks: [{ name: 'root', size: '64Mi' }], runStrategy: 'Halted', guestAgent: false },
}));
await writeFile(join(dir, 'all.yaml'), [hv, ...vms].map((d) => JSON.stringify(d)).join('\n---\n'));
const pool = new HypervisorPool({ loadConnector, credentials: async () => ({ none: true }), logger, now: Date.now });
const statuses = new StateDir(`${dir}-state`);
const opts = { folder: dir, statuses, hypervisors: pool, logger, now: Date.now, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 200))), concurrency: 16, maxDeleteShare: 1 };
const t0 = performance.now();
const made = await converge({ ...opts, wait: true, timeoutMs: 600_000 });
console.log(`${N} domains defined in ${(performance.now() - t0).toFixed(0)} ms (${made.outcomes.filter((o) => !o.ready).length} not ready)`);

const provider = new LibvirtProvider({ hosts: [{ name: 'host1', uri }], logger });
await provider.vms.observe(); // cold: reads every domain's XML once
const conn = await provider.conn('host1');
const before = conn.calls;
const t1 = performance.now();
await provider.vms.observe();
console.log(
  `steady-state resync of ${N} domains on one host: ${conn.calls - before} RPC call(s) in ${(performance.now() - t1).toFixed(0)} ms (target: 2 per host → ${conn.calls - before === 2 ? 'met' : 'NOT met'})`,
);

// Reaction: a domain started behind virtkeeper's back → lifecycle event → reconcile → status.
const store = new DesiredStore();
store.update(await loadFolder(dir), formatProblem);
const reconciler = new Reconciler({ store, statuses, hypervisors: pool, logger, now: Date.now, removals: new RemovalGate({ now: Date.now, policy: { maxShare: 1 } }) });
const other = await LibvirtConnection.connect(uri);
const target = names[0] ?? '';
const woke = new Promise<number>((resolve) => {
  provider.watch(() => resolve(performance.now()));
});
await new Promise((r) => setTimeout(r, 300));
const t2 = performance.now();
await other.create(await other.lookupDomain(target));
const eventAt = await woke;
await reconciler.reconcile(`VirtualMachine/default/${target}`);
const st = await statuses.read(`VirtualMachine/default/${target}`);
console.log(
  `lifecycle event after ${(eventAt - t2).toFixed(0)} ms; status updated (phase ${String(st?.status.phase)}, the VM stopped again per runStrategy: Halted) ${(performance.now() - t2).toFixed(0)} ms after the start`,
);

await writeFile(join(dir, 'all.yaml'), JSON.stringify(hv));
const gone = await converge({ ...opts, wait: true, timeoutMs: 300_000 });
const left = gone.outcomes.filter((o) => o.error);
if (left.length) console.log(`cleanup: ${left.length} not removed, e.g. ${JSON.stringify(left[0]?.error)}`);
await other.close();
await provider.close();
await pool.closeAll();
await rm(dir, { recursive: true, force: true });
await rm(`${dir}-state`, { recursive: true, force: true });
