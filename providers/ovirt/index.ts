// The oVirt connector: one client and provider per engine (Hypervisor).
import type { ProviderConnector } from '../../controller/core/provider.ts';
import { OvirtClient } from './client.ts';
import { OvirtProvider } from './provider.ts';
import { perKind } from '../flat-client.ts';

export const ovirtConnector: ProviderConnector = {
  type: 'ovirt',
  conventions: { virtualNetworks: 'named' },
  async connect({ spec, credentials, logger }) {
    if (!spec.endpoint) throw new Error('an ovirt Hypervisor needs spec.endpoint');
    const client = new OvirtClient({ endpoint: spec.endpoint, credentials, logger, ...(spec.tls ? { tls: spec.tls } : {}) });
    return perKind(new OvirtProvider({ client, logger, ...(spec.defaults ? { defaults: spec.defaults } : {}) }));
  },
};
