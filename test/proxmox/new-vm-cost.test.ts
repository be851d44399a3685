// Requests per new VM (issue 15): an apply --wait of new VMs (full clone, CPU, memory, a VLAN
// NIC with a static IP and DNS, started) against the simulator over HTTP, counted at the
// simulator. The observation after each action, the create's own list and the start's
// re-reads were what made it 17 a VM; the bound below fails if they come back.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

const N = 6;
/** Per VM: nextid, clone, the clone's config read, one config write, start, the agent's addresses, and list calls shared. */
const BOUND_PER_VM = 8;
/** Task-list polls depend on timing (a loaded machine sees more): bounded apart, and loosely. */
const TASK_POLLS_PER_VM = 6;

let sim: RunningProxmoxSimulator;
let f: ConvergeFolder;

beforeEach(async () => {
  sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], agentDelayMs: 0, taskDurations: { default: 60, qmclone: 120 } });
  f = await convergeFolder({
    prefix: 'vk-pve-newcost-',
    header: () =>
      `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec:\n  type: proxmox\n  endpoint: ${sim.url}\n  credentialsRef: {env: COST}\n  defaults: {node: pve1, storage: local-lvm, bridge: vmbr0}\n  limits: {maxConcurrentActions: 16}\n`,
    credentials: directoryCredentials({ VIRTKEEPER_COST_USERNAME: sim.credentials.username, VIRTKEEPER_COST_PASSWORD: sim.credentials.password }),
    // As the CLI observes: an observation serves 2 s unless an action invalidated it.
    observeMaxAgeMs: 2000,
  });
});
afterEach(async () => {
  await f.close();
  await sim.close();
});

const vm = (i: number) =>
  `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: cost-${i}, namespace: cost}\nspec:\n  hypervisor: pve\n  template: ubuntu-24.04\n  clone: full\n  cpu: {sockets: 1, cores: 2}\n  memory: 2Gi\n  disks: [{name: root, size: 8Gi}]\n  networks: [{name: eth0, network: vmbr0, vlan: 120, ipv4: {address: 10.20.0.${10 + i}/16, gateway: 10.20.0.1}}]\n  cloudInit: {user: ops, dnsServers: [10.20.0.2]}\n  runStrategy: Always\n`;

it(`apply --wait of ${N} new VMs costs at most ${BOUND_PER_VM} requests a VM besides task polls, and leaves them as asked`, async () => {
  await f.write(...Array.from({ length: N }, (_, i) => vm(i)));
  sim.resetStats();
  const r = await converge(f.opts);
  expect(r.outcomes.filter((o) => !o.ready)).toEqual([]);
  const made = sim.dump().vms.filter((v) => !v.template);
  expect(made.map((v) => [v.config.name, v.status, v.config.memory, v.config.cores, v.config.nameserver]).sort()).toEqual(
    Array.from({ length: N }, (_, i) => [`cost-${i}`, 'running', '2048', '2', '10.20.0.2']),
  );
  for (const v of made) expect(v.config.net0).toMatch(/bridge=vmbr0,tag=120$/);
  const stats = sim.stats();
  const polls = stats['GET /nodes/{node}/tasks'] ?? 0;
  const total = Object.values(stats).reduce((a, n) => a + n, 0) - polls;
  expect(total, JSON.stringify(stats)).toBeLessThanOrEqual(N * BOUND_PER_VM);
  expect(polls, JSON.stringify(stats)).toBeLessThanOrEqual(N * TASK_POLLS_PER_VM);
  // The next pass reads nothing but the list: what the creates recorded of the configs is exact.
  sim.resetStats();
  const again = await converge({ ...f.opts, wait: false });
  expect(again.outcomes.filter((o) => !o.ready)).toEqual([]);
  expect(sim.stats()['GET /nodes/{node}/qemu/{vmid}/pending'] ?? 0).toBe(0);
});
