// libvirt benchmark on real libvirtd hosts (run `bash scripts/provision/libvirt.sh start`
// first): N domains split over two hosts (one when VK_LIBVIRT_URI_2 is unset). Prints the RPC
// calls per new VM, the calls of a no-op apply, the calls and time of a cold and of a steady
// observation (target: two per host, usage included), and the reaction time from a lifecycle
// event to the status update.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ProviderConnector } from '../controller/core/provider.ts';
import { converge } from '../controller/runtime/converge.ts';
import { HypervisorPool } from '../controller/runtime/hypervisors.ts';
import { Reconciler } from '../controller/runtime/reconciler.ts';
import { RemovalGate } from '../controller/runtime/removals.ts';
import { DesiredStore } from '../controller/sources/store.ts';
import { formatProblem, loadFolder } from '../controller/sources/load-folder.ts';
import { StateDir } from '../controller/status/state-dir.ts';
import { LibvirtProvider } from '../providers/libvirt/provider.ts';
import { LibvirtConnection } from '../providers/libvirt/rpc/connection.ts';
import { loadConnector } from '../providers/registry.ts';

const uris = [process.env.VK_LIBVIRT_URI_1 ?? 'qemu:///system', ...(process.env.VK_LIBVIRT_URI_2 ? [process.env.VK_LIBVIRT_URI_2] : [])];
const hosts = uris.map((uri, i) => ({ name: `host${i + 1}`, uri }));
const N = Number(process.env.VK_BENCH_DOMAINS ?? 200);
const logger = pino({ level: 'silent' });
const dir = await mkdtemp(join(tmpdir(), 'vk-bench-libvirt-'));
const hv = { apiVersion: 'virtkeeper.io/v1alpha1', kind: 'Hypervisor', metadata: { name: 'kvm' }, spec: { type: 'libvirt', hosts } };
const tag = Math.random().toString(36).slice(2, 6);
const names = Array.from({ length: N }, (_, i) => `vk-bench-${tag}-${String(i).padStart(3, '0')}`);
const vms = names.map((name, i) => ({
  apiVersion: 'virtkeeper.io/v1alpha1',
  kind: 'VirtualMachine',
  metadata: { name },
  spec: { hypervisor: 'kvm', memory: '64Mi', disks: [{ name: 'root', size: '64Mi' }], runStrategy: 'Halted', guestAgent: false, placement: { node: hosts[i % hosts.length]?.name } },
}));
await writeFile(join(dir, 'all.yaml'), [hv, ...vms].map((d) => JSON.stringify(d)).join('\n---\n'));

// The pool's own provider, kept to count the RPC calls its connections make.
let counted: LibvirtProvider | undefined;
const counting = async (type: string): Promise<ProviderConnector> => {
  const real = await loadConnector(type as 'libvirt');
  return {
    type: real.type,
    connect: async (o) => {
      const client = await real.connect(o);
      if (client instanceof LibvirtProvider) counted = client;
      return client;
    },
  };
};
const calls = async () => {
  let n = 0;
  for (const h of hosts) n += counted ? (await counted.conn(h.name)).calls : 0;
  return n;
};
const pool = new HypervisorPool({ loadConnector: counting, credentials: async () => ({ none: true }), logger, now: Date.now });
const statuses = new StateDir(`${dir}-state`);
const opts = { folder: dir, statuses, hypervisors: pool, logger, now: Date.now, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 200))), concurrency: 16, maxDeleteShare: 1 };
const t0 = performance.now();
const made = await converge({ ...opts, wait: true, timeoutMs: 600_000 });
const createCalls = await calls();
console.log(
  `${N} domains defined on ${hosts.length} host(s) in ${(performance.now() - t0).toFixed(0)} ms (${made.outcomes.filter((o) => !o.ready).length} not ready): ${createCalls} RPC calls, ${(createCalls / N).toFixed(1)} per new VM`,
);
// A no-op apply as a fresh process makes it: a new pool, new connections.
const fresh = new HypervisorPool({ loadConnector: counting, credentials: async () => ({ none: true }), logger, now: Date.now });
const t3 = performance.now();
await converge({ ...opts, hypervisors: fresh, wait: true, timeoutMs: 600_000 });
console.log(`no-op apply of ${N} domains, fresh connections: ${await calls()} RPC calls in ${(performance.now() - t3).toFixed(0)} ms`);
await fresh.closeAll();

const provider = new LibvirtProvider({ hosts, logger });
const own = async () => {
  let n = 0;
  for (const h of hosts) n += (await provider.conn(h.name)).calls;
  return n;
};
const tc = performance.now();
await provider.vms.observe(); // cold: reads every domain's XML once
console.log(`cold observation of ${N} domains: ${await own()} RPC calls in ${(performance.now() - tc).toFixed(0)} ms`);
const before = await own();
const t1 = performance.now();
const steady = await provider.vms.observe();
const steadyCalls = (await own()) - before;
console.log(
  `steady-state resync of ${N} domains on ${hosts.length} host(s): ${steadyCalls} RPC call(s) in ${(performance.now() - t1).toFixed(0)} ms, ${steady.vms.length} VMs observed (target: 2 per host → ${steadyCalls === 2 * hosts.length ? 'met' : 'NOT met'})`,
);

// Reaction: a domain started behind virtkeeper's back → lifecycle event → reconcile → status.
const store = new DesiredStore();
store.update(await loadFolder(dir), formatProblem);
const reconciler = new Reconciler({ store, statuses, hypervisors: pool, logger, now: Date.now, removals: new RemovalGate({ now: Date.now, policy: { maxShare: 1 } }) });
const other = await LibvirtConnection.connect(hosts[0]?.uri ?? '');
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
// Whatever the removal pass left (a removal gate holding back a mass delete) goes directly: the hosts are shared.
for (const vm of (await provider.vms.observe()).vms.filter((v) => v.name.startsWith(`vk-bench-${tag}-`) && v.owner))
  await provider.vms.execute({ type: 'delete', target: { providerID: vm.providerID, name: vm.name, ...(vm.node ? { node: vm.node } : {}), ...(vm.owner ? { owner: vm.owner } : {}) } });
await other.close();
await provider.close();
await pool.closeAll();
await rm(dir, { recursive: true, force: true });
await rm(`${dir}-state`, { recursive: true, force: true });
