// What the provider observes reads what an engine sends: host load only comes with
// `follow=statistics`, and Blank is one of the templates.
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OvirtClient } from '../../providers/ovirt/client.ts';
import type { ProviderClient } from '../../controller/core/provider.ts';
import { ovirtProvider } from '../../providers/ovirt/index.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';

let sim: RunningOvirtSimulator;
let provider: ProviderClient;
beforeAll(async () => {
  sim = await startOvirtSimulator({ name: 'observe', hosts: 2, templates: ['centos-9'] });
  provider = ovirtProvider({ client: new OvirtClient({ endpoint: sim.url, credentials: sim.credentials }), logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await provider.close();
  await sim.close();
});

it("nodes carry the hosts' load and memory; templates include Blank", async () => {
  const obs = await provider.vms.observe();
  expect(obs.nodes.map((n) => [n.name, n.state, n.load, n.memoryBytes])).toEqual([
    ['host1', 'online', 0.1, 256 * 2 ** 30],
    ['host2', 'online', 0.2, 256 * 2 ** 30],
  ]);
  expect(obs.templates.map((t) => t.name).sort()).toEqual(['Blank', 'centos-9']);
});
