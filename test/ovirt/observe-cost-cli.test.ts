// What the commands ask of an engine (issue 15), against the simulator over HTTP: `plan` looks at
// each engine once however long its pass takes, and only the pools of `run` and `ui` have the
// provider read usage (a statistics search of its own); plan and apply never do. A no-op apply,
// too, lists once.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../controller/api/types.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { formatOwner } from '../../controller/core/marker.ts';
import { id, mac } from '../../providers/ovirt/simulator/model.ts';
import { loadConnector } from '../../providers/registry.ts';

const root = join(import.meta.dirname, '..', '..');
const GiB = 2 ** 30;

describe('what the commands ask of an oVirt engine', () => {
  let sim: RunningOvirtSimulator;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const hv: Hypervisor = { apiVersion: 'virtkeeper.io/v1alpha1', kind: 'Hypervisor', metadata: { name: 'ocost' }, spec: { type: 'ovirt', endpoint: '', credentialsRef: { env: 'OCOST' } } };

  const cli = (args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(process.execPath, ['bin/virtkeeper.js', ...args], { cwd: root, env }, (e, out, err) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }));
    });

  beforeAll(async () => {
    // Every API answer takes 2.1 s: longer than the 2 s an observation serves by default.
    sim = await startOvirtSimulator({ name: 'ocost', templates: ['centos-9'], latencyMs: 2100 });
    hv.spec.endpoint = sim.url;
    // A VM running for a minute (not virtkeeper's: plan leaves it be).
    const s = sim.dump();
    const started = Date.now() - 60_000;
    const config = { memory: 2 ** 30, max_memory: 2 ** 30, sockets: 1, cores: 1, threads: 1, description: '', comment: '', delete_protected: false };
    s.vms.push({
      id: id(),
      name: 'ocost-up',
      cluster: s.clusters[0]?.id ?? '',
      template: s.templates[1]?.id ?? '',
      status: 'up',
      host: s.hosts[0]?.id,
      creation_time: started,
      start_time: started,
      started_once: true,
      tags: [],
      config,
      attachments: [],
      nics: [],
    });
    sim.load(s);
    env = { ...process.env, VIRTKEEPER_OCOST_USERNAME: sim.credentials.username, VIRTKEEPER_OCOST_PASSWORD: sim.credentials.password };
    dir = await mkdtemp(join(tmpdir(), 'vk-ov-cost-'));
    await writeFile(
      join(dir, 'all.yaml'),
      `${JSON.stringify(hv)}\n---\napiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ocost-web}\nspec: {hypervisor: ocost, template: centos-9, memory: 1Gi}\n`,
    );
  });
  afterAll(async () => {
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-state`, { recursive: true, force: true });
  });

  it('plan lists the VMs once, though its pass outlasts an observation', async () => {
    sim.resetStats();
    const r = await cli(['--state-dir', `${dir}-state`, 'plan', '-f', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('ocost-web');
    expect(sim.stats()['GET /vms']).toBe(1);
  }, 60_000);

  it('a no-op apply lists the VMs once, though its pass outlasts an observation', async () => {
    const name = 'ocost-done';
    const s = sim.dump();
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
    const profile = s.vnicprofiles.find((p) => p.name === 'ovirtmgmt')?.id;
    const comment = formatOwner({ kind: 'VirtualMachine', namespace: 'ocost', name, instance: 'ocost' });
    s.vms.push({
      ...{ id: id(), name, cluster: s.clusters[0]?.id ?? '', template: s.templates[1]?.id ?? '', status: 'up' as const, host: s.hosts[0]?.id, creation_time: Date.now(), started_once: true, tags: [] },
      config: { memory: 2 * GiB, max_memory: 8 * GiB, sockets: 1, cores: 2, threads: 1, description: '', comment, delete_protected: false },
      attachments: [{ id: disk.id, disk: disk.id, interface: 'virtio_scsi', bootable: true, active: true }],
      nics: [{ id: id(), name: 'nic1', interface: 'virtio', mac: mac(), ...(profile ? { vnic_profile: profile } : {}), plugged: true, linked: true }],
    });
    sim.load(s);
    const done = await mkdtemp(join(tmpdir(), 'vk-ov-cost-done-'));
    const vm = {
      apiVersion: 'virtkeeper.io/v1alpha1',
      kind: 'VirtualMachine',
      metadata: { name, namespace: 'ocost' },
      spec: { hypervisor: 'ocost', template: 'centos-9', cpu: { cores: 2 }, memory: '2Gi', maxMemory: '8Gi', disks: [{ name: 'root', size: '20Gi' }] },
    };
    await writeFile(join(done, 'all.yaml'), `${JSON.stringify(hv)}\n---\n${JSON.stringify(vm)}\n`);
    sim.resetStats();
    const r = await cli(['--state-dir', `${done}-state`, 'apply', '-f', done, '--instance', 'ocost']);
    await rm(done, { recursive: true, force: true });
    await rm(`${done}-state`, { recursive: true, force: true });
    expect(r.code, r.err).toBe(0);
    expect(Object.keys(sim.stats()).filter((k) => !k.startsWith('GET '))).toEqual([]);
    expect(sim.stats()['GET /vms']).toBe(1);
  }, 60_000);

  it.each([
    [true, 'run and ui'],
    [false, 'plan and apply'],
  ])(
    'usage: %s (%s)',
    async (usage) => {
      const pool = new HypervisorPool({ loadConnector, credentials: directoryCredentials(env), logger: pino({ level: 'silent' }), now: Date.now, ...(usage ? { usage } : {}) });
      const obs = await (await pool.get(hv)).observer.get();
      await pool.closeAll();
      expect(obs.vms.find((v) => v.name === 'ocost-up')?.usage?.cpuRatio !== undefined).toBe(usage);
    },
    30_000,
  );
});
