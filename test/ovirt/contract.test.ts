import { pino } from 'pino';
import { arr, OvirtClient } from '../../providers/ovirt/client.ts';
import { ovirtProvider } from '../../providers/ovirt/index.ts';
import { startOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { describeProviderContract } from '../contract/provider-contract.ts';

describeProviderContract(
  'ovirt (simulator over HTTP)',
  async () => {
    const sim = await startOvirtSimulator({ name: 'e15-test', templates: ['centos-9'], imageCopyMs: 80, bootStepMs: 20, migrateMs: 50, diskResizeMs: 20 });
    const client = new OvirtClient({ endpoint: sim.url, credentials: sim.credentials });
    const provider = ovirtProvider({ client, logger: pino({ level: 'silent' }), pollMs: 20 });
    return {
      client: provider,
      template: 'centos-9',
      networkExists: async (name) => arr((await client.get('/networks')).network).some((n) => n.name === name),
      diskExists: async (providerID) => arr((await client.get('/disks')).disk).some((d) => d.id === providerID),
      createForeignVM: async (name) => {
        const r = await client.call<{ id: string }>('POST', '/vms', { body: { name, cluster: { name: 'Default' }, template: { name: 'centos-9' } } });
        while ((await client.get(`/vms/${r.data.id}`)).status === 'image_locked') await new Promise((res) => setTimeout(res, 20));
      },
      close: async () => {
        await provider.close();
        await sim.close();
      },
    };
  },
  { covers: ['disks', 'networks', 'templatesFromVM'] },
);
