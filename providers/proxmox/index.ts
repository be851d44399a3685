// The Proxmox connector: builds the HTTP client and the provider for one Hypervisor.
import type { ProviderConnector } from '../../controller/core/provider.ts';
import { ProxmoxClient } from './client.ts';
import { ProxmoxProvider } from './provider.ts';
import { perKind } from '../flat-client.ts';
import { ProxmoxSnapshots } from './snapshots.ts';
import { ProxmoxConsoles } from './consoles.ts';

export const proxmoxConnector: ProviderConnector = {
  type: 'proxmox',
  async connect({ spec, credentials, logger }) {
    if (!spec.endpoint) throw new Error('a proxmox Hypervisor needs spec.endpoint');
    const client = new ProxmoxClient({ endpoint: spec.endpoint, credentials, logger, ...(spec.tls ? { tls: spec.tls } : {}) });
    const kinds = perKind(new ProxmoxProvider({ client, logger, ...(spec.defaults ? { defaults: spec.defaults } : {}) }), { fromVMConsumesVM: true });
    return { ...kinds, snapshots: new ProxmoxSnapshots({ api: client }), consoles: new ProxmoxConsoles({ api: client, endpoint: spec.endpoint }) };
  },
};
