// Kubernetes mode on the real kube-apiserver for the snapshot kinds: the CRDs with their status
// subresource and printer columns, the finalizer on a snapshot, its removal through the
// Kubernetes removal gate, and a restore applied once. The controller runs in this process (the
// real source, status store, removals, reconciler, manager and Proxmox provider) against the
// Proxmox simulator over HTTP; its Hypervisor lives only in its own store, so the e2e suite's
// controllers, sharing the cluster, leave these objects be (and this one leaves theirs).
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../controller/api/types.ts';
import { parseKey } from '../../controller/api/keys.ts';
import { systemClock } from '../../controller/runtime/clock.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { Manager } from '../../controller/runtime/manager.ts';
import { FINALIZED_KINDS, KubernetesRemovals } from '../../controller/runtime/modes/kubernetes.ts';
import { Reconciler } from '../../controller/runtime/reconciler.ts';
import { DesiredStore } from '../../controller/sources/store.ts';
import { kubeRest, loadKubeConfig, type KubeRest } from '../../controller/sources/kube-rest.ts';
import { FINALIZER, KubernetesSource } from '../../controller/sources/kubernetes.ts';
import { KubernetesStatusStore } from '../../controller/status/kubernetes.ts';
import { kubectlWith } from '../support/kubectl.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { loadConnector } from '../../providers/registry.ts';
import { until as untilWithin } from '../support/until.ts';

// Kubernetes round trips under CI load: a minute by default.
const until = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> => untilWithin(what, fn, ms);

const admin = process.env.VK_KUBECONFIG ?? '';
const root = join(import.meta.dirname, '..', '..');
const run = Date.now().toString(36);
const ns = `vk-snap-${run}`;
const hvName = `vk-snap-mem-${run}`;
const kubectl = kubectlWith(admin);

/** The Hypervisor of this test, known to its own controller only (never an object in the cluster). */
class OwnHypervisorStore extends DesiredStore {
  private readonly own: Hypervisor;
  constructor(own: Hypervisor) {
    super();
    this.own = own;
  }
  override hypervisor(name: string): Hypervisor | undefined {
    return name === this.own.metadata.name ? this.own : super.hypervisor(name);
  }
  override hypervisors(): Hypervisor[] {
    return [...super.hypervisors(), this.own];
  }
}

const getJson = async (kind: string, name: string) =>
  JSON.parse(await kubectl(['get', kind, name, '-n', ns, '-o', 'json'])) as { metadata: { finalizers?: string[] }; status?: Record<string, unknown> };

describe.skipIf(!admin)('snapshots and restores in Kubernetes mode on a real kube-apiserver', () => {
  let sim: RunningProxmoxSimulator | undefined;
  let source: KubernetesSource | undefined;
  let manager: Manager | undefined;
  let rest: KubeRest | undefined;
  let pool: HypervisorPool | undefined;

  beforeAll(async () => {
    // Only the new kinds' CRDs: the others are the e2e suite's to apply (another branch may change them).
    for (const f of ['virtualmachinesnapshots', 'virtualmachinerestores', 'virtualmachinesnapshotschedules', 'virtualmachines', 'hypervisors']) {
      if (f === 'virtualmachines' || f === 'hypervisors') {
        const have = await kubectl(['get', 'crd', `${f}.virtkeeper.io`, '--ignore-not-found', '-o', 'name']);
        if (have.trim()) continue;
      }
      await kubectl(['apply', '-f', join(root, 'crds', `${f}.yaml`)]);
    }
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    await kubectl(['create', 'namespace', ns]);
    rest = await kubeRest(loadKubeConfig(admin));
    const logger = pino({ level: 'silent' });
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5, qmclone: 20, qmsnapshot: 20, qmrollback: 10 }, agentDelayMs: 0 });
    const hv: Hypervisor = {
      apiVersion: 'virtkeeper.io/v1alpha1',
      kind: 'Hypervisor',
      metadata: { name: hvName },
      spec: { type: 'proxmox', endpoint: sim.url, allowedNamespaces: [ns], defaults: { node: 'pve1', storage: 'local-lvm', bridge: 'vmbr0' }, resyncInterval: '2s' },
    };
    const credentials = { username: sim.credentials.username, password: sim.credentials.password };
    const store = new OwnHypervisorStore(hv);
    const mine = (key: string) => parseKey(key).namespace === ns;
    source = new KubernetesSource({ rest, store, logger, namespace: ns, onChange: (keys) => manager?.enqueue([...keys].filter(mine)) });
    const statuses = new KubernetesStatusStore({ source, rest, now: Date.now });
    const removals = new KubernetesRemovals({ objects: source.objects, hypervisor: (n) => store.hypervisor(n), rest, logger, now: Date.now, policy: { maxShare: 1 } });
    pool = new HypervisorPool({
      loadConnector,
      credentials: async () => credentials,
      logger,
      now: Date.now,
      observeMaxAgeMs: 0,
    });
    const reconciler = new Reconciler({ store, statuses, hypervisors: pool, logger, now: Date.now, removals, tenancy: 'kubernetes', instance: `snap-test-${run}` });
    await source.start();
    manager = new Manager({
      store,
      logger,
      clock: systemClock,
      workers: 2,
      reconciler: {
        reconcile: async (key) => {
          if (FINALIZED_KINDS.has(parseKey(key).kind) && store.get(key)) await statuses.ensureFinalizer(key);
          return reconciler.reconcile(key);
        },
      },
    });
    manager.start();
  }, 120_000);

  afterAll(async () => {
    await manager?.stop();
    await source?.stop();
    await pool?.closeAll();
    await rest?.close();
    await sim?.close();
    // The test bed has no namespace controller (a deleted namespace stays Terminating with what
    // is in it): this run's objects go one by one, their finalizers dropped first (no controller now).
    for (const [kind, name] of [
      ['vkrestore', 'undo'],
      ['vksnap', 'before'],
      ['vkvm', 'db'],
    ] as const) {
      await kubectl(['patch', kind, name, '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => undefined);
      await kubectl(['delete', kind, name, '-n', ns, '--ignore-not-found', '--wait=false']).catch(() => undefined);
    }
    await kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  }, 60_000);

  it('a snapshot is made with its finalizer and shown by kubectl get; a restore reverts once; deleting the snapshot removes it', async () => {
    const simVM = () => sim?.dump().vms.find((v) => v.config.name === 'db' && !v.template);
    const rollbacks = () => sim?.stats()['POST /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback'] ?? 0;
    await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: virtkeeper.io/v1alpha1
kind: VirtualMachine
metadata: {name: db, namespace: ${ns}}
spec: {hypervisor: ${hvName}, template: ubuntu-24.04, memory: 1Gi, disks: [{name: root, size: 10Gi}]}
`,
    );
    await until('VM db running', async () => simVM()?.status === 'running');
    await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshot\nmetadata: {name: before, namespace: ${ns}}\nspec: {vm: db, description: before the change}\n`,
    );
    const snap = await until('snapshot Ready', async () => {
      const o = await getJson('vksnap', 'before');
      return o.status?.phase === 'Ready' && o;
    });
    expect(snap.metadata.finalizers).toContain(FINALIZER);
    expect(snap.status).toMatchObject({ hypervisor: hvName, providerID: 'vk-before', snapshotName: 'vk-before', memory: false });
    expect(Object.keys(simVM()?.snapshots ?? {})).toEqual(['vk-before']);
    // The VM a snapshot is of cannot change (CEL on the CRD).
    const moved = await kubectl(
      ['apply', '--dry-run=server', '-f', '-'],
      `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshot\nmetadata: {name: before, namespace: ${ns}}\nspec: {vm: other, description: before the change}\n`,
    ).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(moved).toMatch(/this field is immutable/);
    const line = await kubectl(['get', 'vksnap', 'before', '-n', ns]);
    expect(line.split('\n')[0]).toMatch(/^NAME\s+VM\s+PHASE\s+MEMORY\s+SIZE\s+CREATED\s+READY\s+AGE/);
    expect(line.split('\n')[1]).toMatch(/^before\s+db\s+Ready\s+false\s+(\S+\s+)?20\d\d-\S+\s+True\s+/);

    // The VM changes behind virtkeeper's back (a key its spec does not manage); the restore takes it back.
    const dump = sim?.dump();
    const v = dump?.vms.find((x) => x.config.name === 'db' && !x.template);
    if (!sim || !dump || !v) throw new Error('no VM db on the simulator');
    v.config.args = '-changed-after-the-snapshot';
    sim.load(dump);
    await kubectl(['apply', '-f', '-'], `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineRestore\nmetadata: {name: undo, namespace: ${ns}}\nspec: {vm: db, snapshot: before}\n`);
    const restored = await until('restore Succeeded', async () => {
      const o = await getJson('vkrestore', 'undo');
      return o.status?.phase === 'Succeeded' && o;
    });
    expect(restored.status).toMatchObject({ steps: ['revert', 'start'], done: ['revert', 'start'], snapshotID: 'vk-before' });
    expect(simVM()?.config.args).toBeUndefined();
    await until('VM db running again', async () => simVM()?.status === 'running');
    // Applied once: touching the restore (a new pass) never reverts again.
    const after = rollbacks();
    expect(after).toBe(1);
    await kubectl(['annotate', 'vkrestore', 'undo', '-n', ns, `touched=${Date.now()}`]);
    await new Promise((r) => setTimeout(r, 2500));
    expect(rollbacks()).toBe(after);

    await kubectl(['delete', 'vksnap', 'before', '-n', ns, '--wait=false']);
    await until('the snapshot resource gone (finalizer released)', async () => !(await kubectl(['get', 'vksnap', '-n', ns, '--ignore-not-found', '-o', 'name'])).trim());
    expect(simVM()?.snapshots ?? {}).toEqual({});
  }, 120_000);
});
