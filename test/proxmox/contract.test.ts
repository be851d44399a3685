import { pino } from 'pino';
import { ProxmoxClient } from '../../providers/proxmox/client.ts';
import { ProxmoxProvider } from '../../providers/proxmox/provider.ts';
import { startProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { describeProviderContract } from '../contract/provider-contract.ts';

describeProviderContract('proxmox (simulator over HTTP)', async () => {
  const sim = await startProxmoxSimulator({ nodes: 2, templates: ['ubuntu-24.04'], taskDurations: { default: 20, qmclone: 60 } });
  const client = new ProxmoxClient({ endpoint: sim.url, credentials: { username: sim.credentials.username, password: sim.credentials.password } });
  const provider = new ProxmoxProvider({ client, logger: pino({ level: 'silent' }) });
  const raw = new ProxmoxClient({ endpoint: sim.url, credentials: { token: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` } });
  return {
    client: provider,
    template: 'ubuntu-24.04',
    networkBinding: { sdn: { zone: 'vkzone', vnet: '' } },
    createForeignVM: async (name) => {
      const vmid = Number(await raw.get<string>('/cluster/nextid'));
      await raw.waitForTask(await raw.post<string>('/nodes/pve1/qemu', { vmid, name, memory: 512, scsi0: 'local-lvm:4' }));
    },
    close: async () => {
      await raw.close();
      await provider.close();
      await sim.close();
    },
  };
});
