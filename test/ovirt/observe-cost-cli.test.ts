// What the commands ask of an engine (issue 15), against the simulator over HTTP: `plan` looks at
// each engine once however long its pass takes, and only the pools of `run` and `ui` have the
// provider read usage (a statistics search of its own); plan and apply never do.
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
import { id } from '../../providers/ovirt/simulator/model.ts';
import { loadConnector } from '../../providers/registry.ts';

const root = join(import.meta.dirname, '..', '..');

describe('what the commands ask of an oVirt engine', () => {
  let sim: RunningOvirtSimulator;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const hv: Hypervisor = { apiVersion: 'virtkeeper.io/v1alpha1', kind: 'Hypervisor', metadata: { name: 'ocost' }, spec: { type: 'ovirt', endpoint: '', credentialsRef: { env: 'OCOST' } } };

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
    const r = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(process.execPath, ['bin/virtkeeper.js', '--state-dir', `${dir}-state`, 'plan', '-f', dir], { cwd: root, env }, (e, out, err) =>
        resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
      );
    });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('ocost-web');
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
