// What oVirt observation and waiting cost in requests, on a simulated engine over HTTP (issue
// 15): observation is the VM follow search (networks inline) beside hosts and templates; two
// observes at once share one list call, one after a write does not; job waits share one jobs
// search per tick; a create does not look for its name when the observation just made says
// it is free.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DesiredVM } from '../../controller/core/model.ts';
import type { ProviderClient } from '../../controller/core/provider.ts';
import { arr, OvirtClient } from '../../providers/ovirt/client.ts';
import { ovirtProvider } from '../../providers/ovirt/index.ts';
import { correlationId, JobWatch } from '../../providers/ovirt/jobs.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { contractVM } from '../contract/provider-contract.ts';

const GiB = 2 ** 30;
let sim: RunningOvirtSimulator;
let api: OvirtClient;
let p: ProviderClient;

beforeEach(async () => {
  sim = await startOvirtSimulator({ name: 'cost', templates: ['centos-9'], imageCopyMs: 150, bootStepMs: 20, diskResizeMs: 20 });
  api = new OvirtClient({ endpoint: sim.url, credentials: sim.credentials });
  p = ovirtProvider({ client: new OvirtClient({ endpoint: sim.url, credentials: sim.credentials }), logger: pino({ level: 'silent' }), pollMs: 20 });
});
afterEach(async () => {
  await p.close();
  await api.close();
  await sim.close();
});

const desired = (name: string): DesiredVM =>
  contractVM(name, 'centos-9', {
    owner: { kind: 'VirtualMachine', namespace: 'cost', name },
    cpu: { sockets: 1, cores: 2, threads: 1 },
    disks: [{ name: 'root', sizeBytes: 20 * GiB, interface: 'virtio-scsi', bootable: true }],
    nics: [{ name: 'nic1', model: 'virtio', network: 'ovirtmgmt' }],
  });

describe('oVirt observation', () => {
  it('is the VM follow search beside hosts and templates; NICs name their network from it', async () => {
    const r = await api.call<{ id: string }>('POST', '/vms', { body: { name: 'cost-a', cluster: { name: 'Default' }, template: { name: 'centos-9' } } });
    while ((await api.get(`/vms/${r.data.id}`)).status === 'image_locked') await new Promise((res) => setTimeout(res, 20));
    sim.resetStats();
    const obs = await p.vms.observe();
    expect(sim.stats()).toEqual({ 'GET /vms': 1, 'GET /hosts': 1, 'GET /templates': 1 });
    expect(obs.vms.find((v) => v.name === 'cost-a')?.nics[0]?.network).toBe('ovirtmgmt');
  });

  it('shares one list call between observes at once, and never one sent before a write', async () => {
    await p.vms.observe();
    sim.resetStats();
    const [a, b] = await Promise.all([p.vms.observe(), p.vms.observe()]);
    expect(a).toBe(b);
    expect(sim.stats()['GET /vms']).toBe(1);
    sim.resetStats();
    const first = p.vms.observe();
    await p.vms.execute({ type: 'create', vm: desired('cost-b') });
    const second = await p.vms.observe();
    await first;
    expect(sim.stats()['GET /vms']).toBe(2);
    expect(second.vms.some((v) => v.name === 'cost-b')).toBe(true);
  });
});

describe('oVirt job waiting', () => {
  it('serves every wait in flight with one jobs search per tick', async () => {
    const watch = new JobWatch({ api, now: Date.now, minMs: 20, maxMs: 200 });
    const ids = Array.from({ length: 8 }, (_, i) => correlationId(`cost-j${i}`));
    await Promise.all(ids.map((c, i) => api.call('POST', '/vms', { body: { name: `cost-j${i}`, cluster: { name: 'Default' }, template: { name: 'centos-9' } }, query: { correlation_id: c } })));
    sim.resetStats();
    const outcomes = await Promise.all(ids.map((c) => watch.wait(c, 'copy')));
    expect(outcomes).toEqual(ids.map(() => 'finished'));
    // One search a tick serves all eight waits, not one a job.
    expect(sim.stats()['GET /jobs']).toBe(watch.reads);
    expect(watch.reads).toBeGreaterThan(0);
    expect(watch.reads).toBeLessThan(20);
  });

  it('creates and starts a VM with the jobs watched, reading it once after each job', async () => {
    await p.vms.observe();
    sim.resetStats();
    await p.vms.execute({ type: 'create', vm: desired('cost-c') });
    const made = (await p.vms.observe()).vms.find((v) => v.name === 'cost-c');
    if (!made) throw new Error('cost-c was made');
    expect(made.disks[0]?.sizeBytes).toBe(20 * GiB);
    await p.vms.execute({ type: 'start', target: { name: 'cost-c', providerID: made.providerID, owner: desired('cost-c').owner } });
    const s = sim.stats();
    // No name search (the observation says it is free), no poll per VM: one read after the copy, one after the start.
    expect(arr((await api.get('/vms', { search: 'name=cost-c' })).vm)[0]?.status).toBe('up');
    expect(s['GET /vms/{id}']).toBe(2);
    expect(s['POST /vms']).toBe(1);
    expect(s['GET /vms']).toBe(1);
  });
});
