// The Proxmox connector: builds the HTTP client and one client per kind for one Hypervisor.
import { parseDuration } from '../../controller/api/quantity.ts';
import type { Capabilities } from '../../controller/core/model.ts';
import type { ProviderClient, ProviderConnector } from '../../controller/core/provider.ts';
import { ProxmoxClient } from './client.ts';
import { ProxmoxContext, type ProxmoxProviderOptions } from './context.ts';
import { ProxmoxDisks } from './disks/index.ts';
import { ProxmoxGuest } from './guest.ts';
import { ProxmoxNetworks } from './networks.ts';
import { ProxmoxTemplates } from './templates.ts';
import { ProxmoxSnapshots } from './snapshots.ts';
import { ProxmoxConsoles } from './consoles.ts';
import { ProxmoxVMs } from './vms/index.ts';

export type { ProxmoxProviderOptions } from './context.ts';

export const PROXMOX_CAPABILITIES: Capabilities = {
  liveCpu: false,
  liveCpuDecrease: false,
  liveCpuSocketsOnly: false,
  liveMemory: true,
  liveMigration: true,
  diskGrow: true,
  liveDiskAttach: true,
  guestAgent: true,
  linkedClone: true,
  poolAcls: true,
};

/** A Proxmox VE cluster as a ProviderClient, one client per kind over one HTTP client. */
export function proxmoxProvider(options: ProxmoxProviderOptions): ProviderClient {
  const c = new ProxmoxContext(options);
  return {
    capabilities: PROXMOX_CAPABILITIES,
    vms: new ProxmoxVMs(c),
    disks: new ProxmoxDisks(c),
    networks: new ProxmoxNetworks(c),
    templates: new ProxmoxTemplates(c),
    guest: new ProxmoxGuest(c),
    close: () => c.close(),
  };
}

export const proxmoxConnector: ProviderConnector = {
  type: 'proxmox',
  conventions: { diskInterface: 'virtio-scsi' },
  async connect({ spec, credentials, logger, memory }) {
    if (!spec.endpoint) throw new Error('a proxmox Hypervisor needs spec.endpoint');
    const client = new ProxmoxClient({ endpoint: spec.endpoint, credentials, logger, ...(spec.tls ? { tls: spec.tls } : {}) });
    const kinds = proxmoxProvider({
      client,
      logger,
      ...(spec.defaults ? { defaults: spec.defaults } : {}),
      ...(memory ? { memory } : {}),
      ...(spec.fullResyncInterval ? { fullReadMs: parseDuration(spec.fullResyncInterval) } : {}),
    });
    return { ...kinds, snapshots: new ProxmoxSnapshots({ api: client }), consoles: new ProxmoxConsoles({ api: client, endpoint: spec.endpoint }) };
  },
};
