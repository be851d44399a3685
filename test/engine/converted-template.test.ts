// A VMTemplate made from a VM: the VM is taken for converted (not made again) only where the
// connector says making a template consumes the VM (templates.fromVMConsumesVM); where the
// VM is copied, a missing VM is made again even when a template of that name is there.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderClient } from '../../controller/core/provider.ts';
import { converge } from '../../controller/runtime/converge.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { MemoryProvider } from '../support/memory-provider.ts';

const manifests = `apiVersion: virtkeeper.io/v1alpha1
kind: Hypervisor
metadata: {name: mem}
spec: {type: proxmox, endpoint: http://127.0.0.1:1}
---
apiVersion: virtkeeper.io/v1alpha1
kind: VirtualMachine
metadata: {name: base}
spec: {hypervisor: mem, template: ubuntu-24.04, memory: 1Gi, disks: [{name: root, size: 10Gi}], runStrategy: Halted}
---
apiVersion: virtkeeper.io/v1alpha1
kind: VMTemplate
metadata: {name: golden}
spec: {hypervisor: mem, source: {fromVirtualMachine: base}}
`;

describe('a VM a template was made from', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  async function run(client: (p: MemoryProvider) => ProviderClient) {
    // The template is there already, the VM is not, and nothing is remembered (a fresh state directory).
    const provider = new MemoryProvider({ templates: ['ubuntu-24.04', 'golden'] });
    const dir = await mkdtemp(join(tmpdir(), 'vk-converted-'));
    const state = new StateDir(await mkdtemp(join(tmpdir(), 'vk-converted-state-')));
    dirs.push(dir, state.dir);
    await writeFile(join(dir, 'all.yaml'), manifests);
    const hypervisors = new HypervisorPool({
      loadConnector: async () => ({ type: 'proxmox', connect: async () => client(provider) }),
      credentials: async () => ({ none: true }),
      logger: pino({ level: 'silent' }),
      now: Date.now,
      observeMaxAgeMs: 0,
    });
    const report = await converge({ folder: dir, statuses: state, hypervisors, logger: pino({ level: 'silent' }), now: Date.now, sleep: async () => {} });
    await hypervisors.closeAll();
    return { provider, report, status: (await state.read('VirtualMachine/default/base'))?.status };
  }

  it('where the template is a copy, the missing VM is made again', async () => {
    const { provider, status } = await run((p) => p);
    expect((await provider.observe()).vms.map((v) => v.name)).toEqual(['base']);
    expect(JSON.stringify(status)).not.toContain('ConvertedToTemplate');
  });

  it('where making the template consumed the VM, it is not made again', async () => {
    const { provider, status } = await run((p) => ({ capabilities: p.capabilities, vms: p.vms, templates: { ...p.templates, fromVMConsumesVM: true }, close: async () => {} }));
    expect((await provider.observe()).vms).toEqual([]);
    expect(JSON.stringify(status)).toContain('ConvertedToTemplate');
  });
});
