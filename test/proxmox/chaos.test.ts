// Chaos (issue 12, "done when"): `virtkeeper run` on 200 declared VMs, SIGKILLed at random
// moments mid-create, with 10% injected 500s and 10% lock timeouts, then an apply to the end:
// exactly 200 VMs, all owned by their own resource, none refused. The controller is a child
// process; the simulator lives on in this one, as a hypervisor outlives its controller.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

const root = join(import.meta.dirname, '..', '..');
const COUNT = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('chaos: run killed mid-create, with faults (Proxmox simulator)', () => {
  it.each([0, 200])(
    'clone time %i ms: 200 VMs, all owned, none refused, none twice',
    async (cloneMs) => {
      const sim = await startProxmoxSimulator({ nodes: 3, templates: ['ubuntu-24.04'], taskDurations: { default: 0, qmclone: cloneMs }, agentDelayMs: 0, seed: 7 + cloneMs });
      const dir = await mkdtemp(join(tmpdir(), 'vk-chaos-'));
      const stateDir = `${dir}-state`;
      const env = { ...process.env, VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`, VK_LOG_LEVEL: 'error' };
      const names = Array.from({ length: COUNT }, (_, i) => `chaos-${i}`);
      await writeFile(
        join(dir, 'all.yaml'),
        [
          `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}, defaults: {node: pve1, storage: local-lvm, bridge: vmbr0}, limits: {maxConcurrentActions: 16}}\n`,
          ...names.map(
            (n) => `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${n}}\nspec: {hypervisor: pve, template: ubuntu-24.04, clone: linked, memory: 1Gi, cpu: {cores: 1}}\n`,
          ),
        ].join('---\n'),
      );
      try {
        sim.setFaults({ error500Share: 0.1, lockTimeoutShare: 0.1 });
        let random = 12345 + cloneMs;
        const next = () => {
          random = (random * 1103515245 + 12345) % 2 ** 31;
          return random / 2 ** 31;
        };
        for (let kill = 0; kill < 5; kill++) {
          const p = spawn(process.execPath, ['bin/virtkeeper.js', '--state-dir', stateDir, 'run', '-f', dir, '--workers', '16'], { cwd: root, env, stdio: 'ignore' });
          await sleep(400 + next() * 2500);
          p.kill('SIGKILL');
          await new Promise((r) => p.once('exit', r));
        }
        const made = sim.dump().vms.filter((v) => !v.template).length;
        expect(made, 'the kills came mid-create').toBeLessThan(COUNT);
        const r = await new Promise<{ code: number; out: string }>((resolve) => {
          execFile(
            process.execPath,
            ['bin/virtkeeper.js', '--state-dir', stateDir, 'apply', '-f', dir, '--wait', '--timeout', '4m', '-o', 'json'],
            { cwd: root, env, maxBuffer: 64 * 2 ** 20 },
            (e, out) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out }),
          );
        });
        const summary = (JSON.parse(r.out.trim().split('\n').pop() ?? '{}') as { summary: { resources: { resource: string; ready: boolean; error?: { code: string; message: string } }[] } }).summary;
        expect(summary.resources.filter((x) => x.error || !x.ready)).toEqual([]);
        expect(r.code).toBe(0);
        const vms = sim.dump().vms.filter((v) => !v.template);
        expect(vms.map((v) => v.config.name).sort()).toEqual([...names].sort());
        for (const v of vms) expect(v.config.description ?? '').toMatch(new RegExp(`^virtkeeper\\.io/owner=VirtualMachine/default/${v.config.name}@d-[0-9a-f]{10}(\\n|$)`));
        expect(vms.every((v) => v.status === 'running' && v.config.memory === '1024')).toBe(true);
        // No volume outside a VM: a create that was cut short left nothing behind.
        expect(Object.keys(sim.dump().volumeSizes ?? {})).toEqual([]);
      } finally {
        await sim.close();
        await rm(dir, { recursive: true, force: true });
        await rm(stateDir, { recursive: true, force: true });
      }
    },
    420_000,
  );
});
