// `virtkeeper exec` runs nothing in a VM that is not this resource's (issue 12, item 14): the
// state file names a Proxmox vmid, and ids are reused. The CLI over the simulator over HTTP.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { virtkeeperCli } from '../support/cli.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

describe('virtkeeper exec checks ownership first (Proxmox simulator)', () => {
  let sim: RunningProxmoxSimulator;
  let dir: string;
  let stateDir: string;
  let env: NodeJS.ProcessEnv;
  const cli = virtkeeperCli(() => ({ stateDir, env }));

  beforeEach(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 0, qmclone: 0 }, agentDelayMs: 0 });
    dir = await mkdtemp(join(tmpdir(), 'vk-exec-own-'));
    stateDir = `${dir}-state`;
    env = { ...process.env, VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` };
    await writeFile(
      join(dir, 'all.yaml'),
      `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n---\napiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: shell}\nspec: {hypervisor: pve, template: ubuntu-24.04, memory: 1Gi}\n`,
    );
  });
  afterEach(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  it.each([
    ['a VM virtkeeper never made', 'made by hand'],
    ['the same resource of another controller instance', 'virtkeeper.io/owner=VirtualMachine/default/shell@someone-else'],
  ])(
    'a state file naming the id of %s: refused, nothing run there',
    async (_what, description) => {
      expect((await cli(['apply', '-f', dir, '--wait', '-o', 'json'])).code).toBe(0);
      expect(await cli(['exec', 'shell', '-f', dir, '--', 'hostname'])).toMatchObject({ code: 0, out: 'shell\n' });

      // Another running VM with an agent, and the state file pointing at it (as after a reused vmid).
      const state = sim.dump();
      const mine = state.vms.find((v) => v.config.name === 'shell');
      if (!mine) throw new Error('shell not created');
      const vmid = Math.max(...state.vms.map((v) => v.vmid)) + 1;
      state.vms.push({ ...structuredClone(mine), vmid, config: { ...mine.config, name: 'not-yours', description } });
      sim.load(state);
      const store = new StateDir(stateDir);
      const rec = await store.read('VirtualMachine/default/shell');
      if (!rec) throw new Error('no state record');
      await store.write({ ...rec, status: { ...rec.status, providerID: `qemu/${vmid}` } });

      const before = sim.dump().agentExec.length;
      const r = await cli(['exec', 'shell', '-f', dir, '--', 'hostname']);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toContain(`(qemu/${vmid}) is not owned by VirtualMachine default/shell`);
      expect(r.err).toContain('[VK_REFUSED]');
      expect(sim.dump().agentExec.slice(before)).toEqual([]);
    },
    60_000,
  );
});
