import { pino } from 'pino';
import { OvirtClient } from '../../providers/ovirt/client.ts';
import * as ovirt from '../../providers/ovirt/index.ts';
import { startOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { describeSnapshotContract } from './snapshot-contract.ts';

// Runs once the oVirt connector has its day-2 clients (ovirtDay2, on the oVirt day-2 branch).
describeSnapshotContract(
  'ovirt (simulator over HTTP)',
  async () => {
    const sim = await startOvirtSimulator({ name: 'ov-contract', templates: ['centos-9'], imageCopyMs: 40, bootStepMs: 10, migrateMs: 40, diskResizeMs: 10 });
    const client = await ovirt.ovirtConnector.connect({
      name: 'ov-contract',
      spec: { type: 'ovirt', endpoint: sim.url, defaults: { cluster: 'Default', storageDomain: 'data1' } },
      credentials: sim.credentials,
      logger: pino({ level: 'silent' }),
    });
    const raw = new OvirtClient({ endpoint: sim.url, credentials: sim.credentials });
    return {
      client,
      template: 'centos-9',
      createForeignVM: async (name) => {
        const r = await raw.call<{ id: string }>('POST', '/vms', { body: { name, cluster: { name: 'Default' }, template: { name: 'centos-9' } } });
        while ((await raw.get(`/vms/${r.data.id}`)).status === 'image_locked') await new Promise((res) => setTimeout(res, 20));
      },
      close: async () => {
        await raw.close();
        await client.close();
        await sim.close();
      },
    };
  },
  { skip: !('ovirtDay2' in ovirt) },
);
