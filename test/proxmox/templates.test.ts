// VMTemplate source.existing on the Proxmox simulator: adopted and validated, a condition per
// requirement; a VM on a template that fails one waits with the reason.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { loadConnector } from '../../providers/registry.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

describe('VMTemplate (existing) on Proxmox', () => {
  let sim: RunningProxmoxSimulator;
  let dir: string;
  let pool: HypervisorPool;
  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5 } });
    dir = await mkdtemp(join(tmpdir(), 'vk-tpl-'));
    pool = new HypervisorPool({ loadConnector, credentials: directoryCredentials({ PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` }), logger: pino({ level: 'silent' }), now: Date.now, observeMaxAgeMs: 0 });
  });
  afterAll(async () => {
    await pool.closeAll();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-state`, { recursive: true, force: true });
  });

  it('validates each requirement and holds back VMs on a template that fails one', async () => {
    const tpl = (name: string, minDisk: string) => `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: ${name}}\nspec: {hypervisor: pve, name: ubuntu-24.04, source: {existing: ubuntu-24.04}, require: {guestAgent: true, cloudInit: true, minDisk: ${minDisk}}}\n`;
    const vm = (name: string, template: string) => `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec: {hypervisor: pve, template: ${template}, memory: 1Gi}\n`;
    await writeFile(join(dir, 'all.yaml'), [`apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n`, tpl('ubuntu-small', '5Gi'), tpl('ubuntu-big', '20Gi'), vm('ok-vm', 'ubuntu-small'), vm('held-vm', 'ubuntu-big')].join('---\n'));
    const statuses = new StateDir(`${dir}-state`);
    const r = await converge({ folder: dir, statuses, hypervisors: pool, logger: pino({ level: 'silent' }), now: Date.now, sleep: async () => {} });
    const small = (await statuses.read('VMTemplate/ubuntu-small'))?.status.conditions as { type: string; status: string; message: string }[];
    expect(small.map((c) => [c.type, c.status])).toEqual([['CloudInit', 'True'], ['GuestAgent', 'True'], ['MinDisk', 'True'], ['Ready', 'True']]);
    const big = (await statuses.read('VMTemplate/ubuntu-big'))?.status.conditions as { type: string; status: string; message: string }[];
    expect(big.find((c) => c.type === 'MinDisk')).toMatchObject({ status: 'False', message: 'disk is 8Gi, less than 20Gi' });
    expect(big.find((c) => c.type === 'Ready')?.status).toBe('False');
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/held-vm')?.plan?.waiting).toMatch(/VMTemplate ubuntu-big is not Ready \(template ubuntu-24.04: disk smaller than 20Gi\)/);
    expect(sim.dump().vms.filter((v) => !v.template).map((v) => v.config.name)).toEqual(['ok-vm']);
  });
});
