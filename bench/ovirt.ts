// oVirt benchmark against two simulated engines over HTTP: requests per steady-state resync
// for 1,000 VMs (target: one search per engine, plus one events call).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { converge } from '../controller/runtime/converge.ts';
import { directoryCredentials } from '../controller/runtime/credentials.ts';
import { HypervisorPool } from '../controller/runtime/hypervisors.ts';
import { StateDir } from '../controller/status/state-dir.ts';
import type { Hypervisor } from '../controller/api/types.ts';
import { id } from '../providers/ovirt/simulator/model.ts';
import { formatOwner } from '../controller/core/provider.ts';
import { loadConnector } from '../providers/registry.ts';
import { startOvirtSimulator } from '../providers/ovirt/simulator/index.ts';

const GiB = 2 ** 30;
const logger = pino({ level: 'silent' });
const engines = await Promise.all(['e15', 'n32'].map((name) => startOvirtSimulator({ name, hosts: 4, templates: ['centos-9'] })));
const docs: object[] = [];
const hypervisors: Hypervisor[] = [];
engines.forEach((e, k) => {
  const name = k === 0 ? 'e15' : 'n32';
  const hv: Hypervisor = { apiVersion: 'virtkeeper.io/v1alpha1', kind: 'Hypervisor', metadata: { name }, spec: { type: 'ovirt', endpoint: e.url, credentialsRef: { env: name.toUpperCase() } } };
  hypervisors.push(hv);
  docs.push(hv);
  const s = e.dump();
  for (let i = 0; i < 500; i++) {
    const vmName = `${name}-vm-${i}`;
    const disk = {
      id: id(),
      name: `${vmName}_root`,
      provisioned_size: 20 * GiB,
      actual_size: GiB,
      status: 'ok' as const,
      format: 'cow' as const,
      storage_domain: s.storagedomains[0]?.id ?? '',
      sparse: true,
    };
    s.disks.push(disk);
    s.vms.push({
      id: id(),
      name: vmName,
      cluster: s.clusters[0]?.id ?? '',
      template: s.templates[1]?.id ?? '',
      status: 'up',
      host: s.hosts[i % 4]?.id,
      creation_time: Date.now(),
      started_once: true,
      tags: [],
      config: {
        memory: 2 * GiB,
        max_memory: 8 * GiB,
        sockets: 1,
        cores: 2,
        threads: 1,
        description: '',
        comment: formatOwner({ kind: 'VirtualMachine', namespace: 'bench', name: vmName }),
        delete_protected: false,
      },
      attachments: [{ id: disk.id, disk: disk.id, interface: 'virtio_scsi', bootable: true, active: true }],
      nics: [],
    });
    docs.push({
      apiVersion: 'virtkeeper.io/v1alpha1',
      kind: 'VirtualMachine',
      metadata: { name: vmName, namespace: 'bench' },
      spec: { hypervisor: name, template: 'centos-9', cpu: { cores: 2 }, memory: '2Gi', maxMemory: '8Gi', disks: [{ name: 'root', size: '20Gi' }] },
    });
  }
  e.load(s);
});
const dir = await mkdtemp(join(tmpdir(), 'vk-bench-ovirt-'));
await writeFile(join(dir, 'all.yaml'), docs.map((d) => JSON.stringify(d)).join('\n---\n'));
const env = Object.fromEntries(
  engines.flatMap((e, k) => [
    [`VIRTKEEPER_${k === 0 ? 'E15' : 'N32'}_USERNAME`, e.credentials.username],
    [`VIRTKEEPER_${k === 0 ? 'E15' : 'N32'}_PASSWORD`, e.credentials.password],
  ]),
);
const pool = new HypervisorPool({ loadConnector, credentials: directoryCredentials(env), logger, now: Date.now });
const opts = { folder: dir, statuses: new StateDir(`${dir}-state`), hypervisors: pool, logger, now: Date.now, sleep: async () => {}, concurrency: 32 };
const first = await converge(opts);
await new Promise((r) => setTimeout(r, 2100));
for (const e of engines) e.resetStats();
const conns = await Promise.all(hypervisors.map((h) => pool.get(h)));
// Between resyncs the provider polls events; one poll per engine is part of a resync's cost.
const t0 = performance.now();
await converge(opts);
for (const c of conns) {
  const stop = c.client.watch?.(() => undefined);
  await new Promise((r) => setTimeout(r, 50));
  stop?.();
}
const ms = performance.now() - t0;
console.log('steady-state resync, 1000 VMs on 2 engines:');
console.log(`  first pass: ${first.outcomes.filter((o) => !o.ready).length} not ready`);
for (const [k, e] of engines.entries()) console.log(`  engine ${k === 0 ? 'e15' : 'n32'}: ${JSON.stringify(e.stats())}`);
const per = engines.map((e) => e.stats());
const ok = per.every((s) => s['GET /vms'] === 1 && (s['GET /events'] ?? 0) <= 1 && Object.keys(s).every((k) => k === 'GET /vms' || k === 'GET /events'));
console.log(`  ${ms.toFixed(0)} ms; target: one search plus one events call per engine → ${ok ? 'met' : 'NOT met'}`);
await pool.closeAll();
for (const e of engines) await e.close();
await rm(dir, { recursive: true, force: true });
await rm(`${dir}-state`, { recursive: true, force: true });
