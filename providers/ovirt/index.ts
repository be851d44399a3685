// The oVirt connector: one client and provider per engine (Hypervisor).
import type { ProviderConnector } from '../../controller/core/provider.ts';
import { OvirtClient } from './client.ts';
import { OvirtProvider } from './provider.ts';
import { perKind } from '../flat-client.ts';
import { OvirtConsoles } from './consoles.ts';
import { OvirtHosts } from './hosts.ts';
import { OvirtSnapshots } from './snapshots.ts';

/** The day-2 clients of an engine (snapshots, consoles, the engine's host maintenance). */
export function ovirtDay2(api: OvirtClient, lookups: { forgetLookups(): void }, o: { pollMs?: number } = {}) {
  const poll = o.pollMs !== undefined ? { pollMs: o.pollMs } : {};
  return {
    snapshots: new OvirtSnapshots({ api, ...poll }),
    consoles: new OvirtConsoles({ api }),
    // Observation reads the hosts again once one changed state (its cache would say otherwise for a while).
    nodes: new OvirtHosts({ api, ...poll, onChange: () => lookups.forgetLookups() }),
  };
}

export const ovirtConnector: ProviderConnector = {
  type: 'ovirt',
  async connect({ spec, credentials, logger }) {
    if (!spec.endpoint) throw new Error('an ovirt Hypervisor needs spec.endpoint');
    const client = new OvirtClient({ endpoint: spec.endpoint, credentials, logger, ...(spec.tls ? { tls: spec.tls } : {}) });
    // Day-2 kinds are native per-kind clients already (snapshots.ts, consoles.ts, hosts.ts).
    const provider = new OvirtProvider({ client, logger, ...(spec.defaults ? { defaults: spec.defaults } : {}) });
    return { ...perKind(provider), ...ovirtDay2(client, provider) };
  },
};
