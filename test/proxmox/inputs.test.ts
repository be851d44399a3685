// Names that would add properties of their own to a Proxmox property string
// (`bridge=vmbr0,firewall=0,tag=99`): refused at validation, and refused again by the provider
// where property strings are built, so even a spec that skipped validation touches nothing.
import { RemovalGate } from '../../controller/runtime/removals.ts';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VirtualMachine } from '../../controller/api/types.ts';
import { ProviderInvalidError } from '../../controller/core/errors.ts';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { Reconciler } from '../../controller/runtime/reconciler.ts';
import { DesiredStore } from '../../controller/sources/store.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { formatProblem } from '../../controller/sources/load-folder.ts';
import { diskValue, nicValue, propertyString } from '../../providers/proxmox/mapping.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { loadConnector } from '../../providers/registry.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

/** Requests that could change anything on the simulator (a ticket only authenticates). */
const writes = (stats: Record<string, number>) => Object.entries(stats).filter(([k, n]) => n > 0 && !/^GET /.test(k) && k !== 'POST /access/ticket');

describe('property-string metacharacters on Proxmox (simulator over HTTP)', () => {
  let sim: RunningProxmoxSimulator;
  let folder: ConvergeFolder;
  const env = () => ({ VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` });

  beforeEach(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5 } });
    folder = await convergeFolder({
      prefix: 'vk-inputs-pve-',
      credentials: directoryCredentials(env()),
      timeoutMs: 10_000,
      sleepCapMs: 50,
      header: () => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n`,
    });
  });
  afterEach(async () => {
    await folder.close();
    await sim.close();
  });

  it.each([
    ['a network', 'networks: [{name: nic0, network: "vmbr0,firewall=0,tag=99"}]', /spec\.networks\[0\]\.network: expected a name without , = ;.*got "vmbr0,firewall=0,tag=99"/],
    ['a storage', 'disks: [{name: root, size: 10Gi, storage: "local-lvm,cache=unsafe"}]', /spec\.disks\[0\]\.storage: expected a name without/],
  ])('a manifest with %s holding one is refused at file:line, and the simulator sees no write', async (_what, field, message) => {
    await folder.write(`apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: vk-inputs-vm}\nspec:\n  hypervisor: pve\n  template: ubuntu-24.04\n  memory: 1Gi\n  ${field}\n`);
    sim.resetStats();
    const report = await converge({ ...folder.opts, wait: false });
    expect(report.problems.join('\n')).toMatch(new RegExp(`^all\\.yaml:\\d+: VirtualMachine default/vk-inputs-vm ${message.source}`, 'm'));
    expect(writes(sim.stats())).toEqual([]);
    expect(sim.dump().vms.filter((v) => !v.template)).toEqual([]);
  });

  it('a spec that skipped validation is stopped by the provider before the clone: nothing written', async () => {
    const store = new DesiredStore();
    const hv = { apiVersion: 'virtkeeper.io/v1alpha1', kind: 'Hypervisor', metadata: { name: 'pve' }, spec: { type: 'proxmox', endpoint: sim.url, credentialsRef: { env: 'PVE' } } } as const;
    const vm: VirtualMachine = {
      apiVersion: 'virtkeeper.io/v1alpha1',
      kind: 'VirtualMachine',
      metadata: { name: 'vk-inputs-raw', namespace: 'default' },
      spec: { hypervisor: 'pve', template: 'ubuntu-24.04', memory: '1Gi', networks: [{ name: 'nic0', network: 'vmbr0,firewall=0,tag=99' }] },
    };
    const src = { file: 'raw.yaml', line: 1, lineOf: () => 1 };
    store.update(
      {
        resources: [
          { id: { kind: 'Hypervisor', name: 'pve' }, key: 'Hypervisor/pve', resource: hv, source: src },
          { id: { kind: 'VirtualMachine', namespace: 'default', name: 'vk-inputs-raw' }, key: 'VirtualMachine/default/vk-inputs-raw', resource: vm, source: src },
        ],
        problems: [],
        brokenFiles: new Set(),
      },
      formatProblem,
    );
    const pool = new HypervisorPool({ loadConnector, credentials: directoryCredentials(env()), logger: pino({ level: 'silent' }), now: Date.now, observeMaxAgeMs: 0 });
    const statuses = new StateDir(`${folder.dir}-state`);
    try {
      const reconciler = new Reconciler({ store, statuses, hypervisors: pool, logger: pino({ level: 'silent' }), now: Date.now, removals: new RemovalGate({ now: Date.now }) });
      sim.resetStats();
      await reconciler.reconcile('VirtualMachine/default/vk-inputs-raw').catch(() => undefined);
      const record = await statuses.read('VirtualMachine/default/vk-inputs-raw');
      expect(JSON.stringify(record?.status.conditions)).toMatch(/bridge=\\"vmbr0,firewall=0,tag=99\\" cannot go into a Proxmox property string/);
      expect(writes(sim.stats())).toEqual([]);
      expect(sim.dump().vms.filter((v) => !v.template)).toEqual([]);
    } finally {
      await pool.closeAll();
    }
  });
});

describe('propertyString, the one builder of Proxmox property strings', () => {
  it('builds what Proxmox expects', () => {
    expect(nicValue({ name: 'nic0', model: 'virtio', network: 'vmbr0', vlan: 120 } as never, 'aa:bb:cc:dd:ee:ff')).toBe('virtio=AA:BB:CC:DD:EE:FF,bridge=vmbr0,tag=120');
    expect(diskValue('local-lvm', 10, { format: 'qcow2' })).toBe('local-lvm:10,format=qcow2');
    expect(diskValue('local-lvm', 0, { importFrom: 'local:import/u.qcow2' })).toBe('local-lvm:0,import-from=local:import/u.qcow2');
  });
  it.each([
    [['vmbr0,firewall=0']],
    [['a=b']],
    [[['bridge', 'vmbr0,firewall=0']]],
    [[['bridge', 'vmbr0\nnet1: e1000']]],
    [[['import-from', '/x.qcow2,cache=unsafe']]],
    [[['bad key', 'x']]],
    [[['bridge', '']]],
  ] as const)('refuses %j with an InvalidError', (parts) => {
    expect(() => propertyString(parts)).toThrow(ProviderInvalidError);
  });
});
