// oVirt benchmarks against two simulated engines over HTTP, the CLI run as a whole process
// (as a new user would): wall time, the CLI process's CPU time and peak RSS (`/usr/bin/time -v`:
// the child's, never the simulators', which run in this process) and the requests each engine
// saw. Prints figures; asserts nothing. On a shared machine wall time is noisy: CPU time, RSS and
// requests are the evidence. `--cli=<main.ts>` runs another checkout's CLI against the same
// engines (a before/after on one machine state).
//  1. `plan` and a no-op `apply` of 1,000 and 10,000 converged VMs on two engines, fresh process
//  2. `apply --wait` of 20 new VMs (from a template, memory, CPU, a NIC, cloud-init, started) on
//     one engine: requests per new VM
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hypervisor } from '../controller/api/types.ts';
import { formatOwner } from '../controller/core/marker.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../providers/ovirt/simulator/index.ts';
import { id, mac } from '../providers/ovirt/simulator/model.ts';

const GiB = 2 ** 30;
/** The controller instance the CLI runs as, so the seeded markers are its own. */
const INSTANCE = 'bench';
const NAMES = ['e15', 'n32'] as const;
const ROOT = new URL('..', import.meta.url).pathname;
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const sizes = (arg('sizes') ?? '1000,10000').split(',').map(Number);
const CLI = arg('cli') ?? join(ROOT, 'controller/cli/main.ts');

const hvDoc = (name: string, url: string): Hypervisor => ({
  apiVersion: 'virtkeeper.io/v1alpha1',
  kind: 'Hypervisor',
  metadata: { name },
  spec: { type: 'ovirt', endpoint: url, credentialsRef: { env: name.toUpperCase() } },
});
const vmDoc = (hv: string, name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'virtkeeper.io/v1alpha1',
  kind: 'VirtualMachine',
  metadata: { name, namespace: 'bench' },
  spec: { hypervisor: hv, template: 'centos-9', cpu: { cores: 2 }, memory: '2Gi', maxMemory: '8Gi', disks: [{ name: 'root', size: '20Gi' }], ...extra },
});

/** `count` VMs on the engine that already match vmDoc: running, marked, one disk and one NIC on ovirtmgmt. */
function seed(e: RunningOvirtSimulator, hv: string, count: number): object[] {
  const s = e.dump();
  const profile = s.vnicprofiles.find((p) => p.name === 'ovirtmgmt')?.id;
  const docs: object[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${hv}-vm-${i}`;
    const disk = {
      id: id(),
      name: `${name}_root`,
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
      name,
      cluster: s.clusters[0]?.id ?? '',
      template: s.templates[1]?.id ?? '',
      status: 'up',
      host: s.hosts[i % s.hosts.length]?.id,
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
        comment: formatOwner({ kind: 'VirtualMachine', namespace: 'bench', name, instance: INSTANCE }),
        delete_protected: false,
      },
      attachments: [{ id: disk.id, disk: disk.id, interface: 'virtio_scsi', bootable: true, active: true }],
      nics: [{ id: id(), name: 'nic1', interface: 'virtio', mac: mac(), ...(profile ? { vnic_profile: profile } : {}), plugged: true, linked: true }],
    });
    docs.push(vmDoc(hv, name));
  }
  e.load(s);
  return docs;
}

interface Run {
  code: number;
  wallMs: number;
  rssMB: number | undefined;
  /** User + system CPU seconds of the CLI process. */
  cpuS: number | undefined;
  requests: number;
  byEngine: Record<string, number>[];
  tail: string;
}

/** One CLI command as its own process; the engines' request counters are reset first. */
async function cli(engines: RunningOvirtSimulator[], args: string[], stateDir: string): Promise<Run> {
  for (const e of engines) e.resetStats();
  const env = {
    ...process.env,
    ...Object.fromEntries(
      engines.flatMap((e, k) => [
        [`VIRTKEEPER_${NAMES[k]?.toUpperCase()}_USERNAME`, e.credentials.username],
        [`VIRTKEEPER_${NAMES[k]?.toUpperCase()}_PASSWORD`, e.credentials.password],
      ]),
    ),
  };
  const node = [process.execPath, CLI, '--state-dir', stateDir, '--log-level', 'error', ...args, '--instance', INSTANCE];
  const timed = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const { code, out, err } = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
    const p = spawn(timed ? '/usr/bin/time' : (node[0] as string), timed ? ['-v', ...node] : node.slice(1), { env, cwd: ROOT });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => {
      out = (out + b.toString()).slice(-4000);
    });
    p.stderr.on('data', (b: Buffer) => {
      err = (err + b.toString()).slice(-8000);
    });
    p.on('close', (c) => resolve({ code: c ?? -1, out, err }));
  });
  const wallMs = performance.now() - t0;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1];
  const cpu = ['User', 'System'].map((k) => new RegExp(`${k} time \\(seconds\\): ([\\d.]+)`).exec(err)?.[1]);
  const byEngine = engines.map((e) => e.stats());
  return {
    code,
    wallMs,
    rssMB: rss ? Number(rss) / 1024 : undefined,
    cpuS: cpu.every((c) => c !== undefined) ? cpu.reduce((a, c) => a + Number(c), 0) : undefined,
    requests: byEngine.reduce((a, s) => a + Object.values(s).reduce((x, n) => x + n, 0), 0),
    byEngine,
    tail: `${out}\n${err.replace(/\n\s*(Command being timed|User time|System time|Percent|Elapsed|Average|Maximum|Major|Minor|Voluntary|Involuntary|Swaps|File system|Socket|Signals|Page size|Exit status)[^\n]*/g, '')}`
      .trim()
      .slice(-600),
  };
}

const fmt = (r: Run) =>
  `${(r.wallMs / 1000).toFixed(2)} s${r.cpuS !== undefined ? ` (CLI CPU ${r.cpuS.toFixed(2)} s)` : ''}, ${r.rssMB !== undefined ? `${r.rssMB.toFixed(0)} MB peak RSS` : 'RSS n/a'}, ${r.requests} requests${r.code > 2 || r.code === 1 ? ` (exit ${r.code})` : ''}`;
const perEngine = (r: Run) => r.byEngine.map((s, k) => `    ${NAMES[k]}: ${JSON.stringify(s)}`).join('\n');

async function folder(docs: object[]): Promise<{ dir: string; state: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'vk-bench-ovirt-'));
  await writeFile(join(dir, 'all.yaml'), docs.map((d) => JSON.stringify(d)).join('\n---\n'));
  const state = `${dir}-state`;
  return { dir, state, done: () => Promise.all([rm(dir, { recursive: true, force: true }), rm(state, { recursive: true, force: true })]).then(() => undefined) };
}

async function fleet(total: number): Promise<void> {
  const engines = await Promise.all(NAMES.map((name) => startOvirtSimulator({ name, hosts: 4, templates: ['centos-9'] })));
  const docs: object[] = [];
  engines.forEach((e, k) => {
    const hv = NAMES[k] as string;
    docs.push(hvDoc(hv, e.url), ...seed(e, hv, total / 2));
  });
  const f = await folder(docs);
  console.log(`${total} converged VMs on 2 engines (${total / 2} each), each command a fresh process:`);
  const plan = await cli(engines, ['plan', '-f', f.dir], f.state);
  console.log(`  plan:         ${fmt(plan)}\n${perEngine(plan)}`);
  if (plan.code === 1 || plan.code > 2) console.log(`    ${plan.tail}`);
  if (arg('plan-only')) {
    await f.done();
    for (const e of engines) await e.close();
    return;
  }
  const apply = await cli(engines, ['apply', '-f', f.dir], f.state);
  console.log(`  no-op apply:  ${fmt(apply)}\n${perEngine(apply)}`);
  if (apply.code !== 0) console.log(`    ${apply.tail}`);
  const again = await cli(engines, ['apply', '-f', f.dir], f.state);
  console.log(`  no-op apply, state kept from the last: ${fmt(again)}\n${perEngine(again)}`);
  console.log('  target: auth + one list call per engine');
  await f.done();
  for (const e of engines) await e.close();
}

async function twentyNew(): Promise<void> {
  const engines = await Promise.all(NAMES.slice(0, 1).map((name) => startOvirtSimulator({ name, hosts: 4, templates: ['centos-9'] })));
  const e = engines[0] as RunningOvirtSimulator;
  const docs = [
    hvDoc('e15', e.url),
    ...Array.from({ length: 20 }, (_, i) =>
      vmDoc('e15', `new-${i}`, {
        runStrategy: 'Always',
        clone: 'full',
        networks: [{ name: 'nic1', network: 'ovirtmgmt', ipv4: { address: `10.1.0.${10 + i}/24`, gateway: '10.1.0.1' }, dnsServers: ['10.1.0.2'] }],
        cloudInit: { hostname: `new-${i}` },
      }),
    ),
  ];
  const f = await folder(docs);
  const r = await cli(engines, ['apply', '-f', f.dir, '--wait', '--timeout', '5m'], f.state);
  const up = e.dump().vms.filter((v) => v.status === 'up').length;
  console.log(`apply --wait of 20 new VMs (full clone, CPU, memory, NIC, cloud-init, start) on one engine:`);
  console.log(`  ${fmt(r)}, ${up}/20 up; ${(r.requests / 20).toFixed(1)} requests per new VM\n${perEngine(r)}`);
  if (r.code !== 0) console.log(`    ${r.tail}`);
  await f.done();
  await e.close();
}

if (!arg('only-fleet')) await twentyNew();
for (const n of sizes) await fleet(n);
