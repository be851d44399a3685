import { pino } from 'pino';
import { ProxmoxClient } from '../../providers/proxmox/client.ts';
import { proxmoxConnector } from '../../providers/proxmox/index.ts';
import { startProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { describeSnapshotContract } from './snapshot-contract.ts';

describeSnapshotContract('proxmox (simulator over HTTP)', async () => {
  const sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5, qmclone: 20, qmsnapshot: 20, qmrollback: 10 } });
  const client = await proxmoxConnector.connect({
    name: 'pve',
    spec: { type: 'proxmox', endpoint: sim.url, defaults: { node: 'pve1', storage: 'local-lvm' } },
    credentials: { username: sim.credentials.username, password: sim.credentials.password },
    logger: pino({ level: 'silent' }),
  });
  const raw = new ProxmoxClient({ endpoint: sim.url, credentials: { token: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` } });
  return {
    client,
    template: 'ubuntu-24.04',
    createForeignVM: async (name) => {
      const vmid = Number(await raw.get<string>('/cluster/nextid'));
      await raw.waitForTask(await raw.post<string>('/nodes/pve1/qemu', { vmid, name, memory: 512, scsi0: 'local-lvm:4' }));
    },
    close: async () => {
      await raw.close();
      await client.close();
      await sim.close();
    },
  };
});
