// The plan a request shows reads its VMs as the VM reconciler does: with the connector's
// conventions (here Proxmox's default disk bus, virtio-scsi), through the pool that the
// controller uses. Over real HTTP, with the real connectors; nothing is connected to.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConnector } from '../../providers/registry.ts';
import type { AnyResource } from '../../controller/api/types.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { folderSink } from '../../controller/ui/intake.ts';
import { type ServedInventory, serveInventory } from '../../controller/ui/serve.ts';

const hv = (name: string, type: string): AnyResource =>
  ({ apiVersion: 'virtkeeper.io/v1alpha1', kind: 'Hypervisor', metadata: { name }, spec: { type, endpoint: 'https://x' } }) as unknown as AnyResource;
const declared = [hv('pve-conv', 'proxmox'), hv('engine-conv', 'ovirt')];

const request = (name: string, engine: string) => ({
  meta: { document_num: `REQ-${name}`, inf_system: 'billing' },
  ovirt: { engine, cluster: 'Default' },
  vm: { name, cores: 2, memory: 4, disks: [{ size: 40 }] },
});

describe('request intake: the plan uses the connector conventions', () => {
  let dir: string;
  let pool: HypervisorPool;
  let served: ServedInventory;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vkui-conv-'));
    const logger = pino({ level: 'silent' });
    pool = new HypervisorPool({ loadConnector, credentials: () => Promise.reject(new Error('this test connects to nothing')), logger, now: Date.now });
    served = await serveInventory({ listen: '127.0.0.1:0', intake: folderSink(join(dir, 'requests')), pool, declared: () => declared, records: async () => [], now: Date.now, logger });
  });
  afterAll(async () => {
    await served?.close();
    await pool?.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  const planOf = async (body: object) => {
    const form = new FormData();
    form.set('jsonfile', new Blob([JSON.stringify(body)]), 'req.json');
    const res = await fetch(`${served.url}api/v1/requests`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    return ((await res.json()) as { plan: { kind: string; action: string; message: string }[] }).plan.filter((r) => r.kind === 'VirtualMachine');
  };

  it('shows a Proxmox disk without a bus on virtio-scsi, as the controller creates it', async () => {
    const [row] = await planOf(request('conv-pve', 'pve-conv'));
    expect(row?.action).toBe('create');
    expect(row?.message).toMatch(/disks \S+ 40Gi virtio-scsi$/);
  });

  it('shows the same disk on oVirt on virtio (that connector names no other bus)', async () => {
    const [row] = await planOf(request('conv-ovirt', 'engine-conv'));
    expect(row?.action).toBe('create');
    expect(row?.message).toMatch(/disks \S+ 40Gi virtio$/);
  });
});
