import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ProxmoxClient } from '../../providers/proxmox/client.ts';
import { proxmoxProvider } from '../../providers/proxmox/index.ts';
import { startProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';
import { describeProviderContract } from '../contract/provider-contract.ts';

describeProviderContract(
  'proxmox (simulator over HTTP)',
  async () => {
    // A small raw image the contract imports as a template.
    const imageDir = await mkdtemp(join(tmpdir(), 'vk-contract-img-'));
    const imageFile = join(imageDir, 'tiny.raw');
    await writeFile(imageFile, '');
    await truncate(imageFile, 8 * 2 ** 20);
    const sim = await startProxmoxSimulator({ nodes: 2, templates: ['ubuntu-24.04'], taskDurations: { default: 20, qmclone: 60 } });
    const client = new ProxmoxClient({ endpoint: sim.url, credentials: { username: sim.credentials.username, password: sim.credentials.password } });
    const provider = proxmoxProvider({ client, logger: pino({ level: 'silent' }) });
    const raw = new ProxmoxClient({ endpoint: sim.url, credentials: { token: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` } });
    return {
      client: provider,
      imageFile,
      template: 'ubuntu-24.04',
      networkBinding: { sdn: { zone: 'vkzone', vnet: '' } },
      networkExists: async (name) => (await raw.get<{ vnet: string }[]>('/cluster/sdn/vnets')).some((v) => v.vnet === name),
      diskExists: async (providerID) => {
        for (const { node } of await raw.get<{ node: string }[]>('/nodes')) {
          if ((await raw.get<{ volid: string }[]>(`/nodes/${node}/storage/local-lvm/content`)).some((v) => v.volid === providerID)) return true;
        }
        return false;
      },
      createForeignVM: async (name) => {
        const vmid = Number(await raw.get<string>('/cluster/nextid'));
        await raw.waitForTask(await raw.post<string>('/nodes/pve1/qemu', { vmid, name, memory: 512, scsi0: 'local-lvm:4' }));
      },
      close: async () => {
        await rm(imageDir, { recursive: true, force: true });
        await raw.close();
        await provider.close();
        await sim.close();
      },
    };
  },
  { covers: ['disks', 'networks', 'templatesFromVM', 'imageImport', 'observeKinds'] },
);
