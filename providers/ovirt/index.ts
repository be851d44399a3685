// The oVirt connector: one session per engine (Hypervisor), and a client per kind on it.
import type { Capabilities, ProviderClient, ProviderConnector } from '../../controller/core/provider.ts';
import { OvirtClient } from './client.ts';
import { ovirtDisks } from './disks.ts';
import { watchEvents } from './events.ts';
import { ovirtNetworks } from './networks.ts';
import { OvirtSession, type OvirtOptions } from './session.ts';
import { ovirtTemplates } from './templates.ts';
import { ovirtVms } from './vms/index.ts';
import { OvirtConsoles } from './consoles.ts';
import { OvirtHosts } from './hosts.ts';
import { OvirtSnapshots } from './snapshots.ts';

export type { OvirtOptions } from './session.ts';

export const OVIRT_CAPABILITIES: Capabilities = {
  liveCpu: true,
  liveCpuDecrease: false,
  liveCpuSocketsOnly: true,
  liveMemory: true,
  liveMemoryStepBytes: 256 * 2 ** 20,
  liveMigration: true,
  diskGrow: true,
  liveDiskAttach: true,
  guestAgent: false,
  linkedClone: false,
};

/** The day-2 clients of an engine (snapshots, consoles, the engine's host maintenance). */
export function ovirtDay2(s: OvirtSession, o: { pollMs?: number } = {}): Pick<ProviderClient, 'snapshots' | 'consoles' | 'nodes'> {
  const poll = o.pollMs !== undefined ? { pollMs: o.pollMs } : {};
  return {
    snapshots: new OvirtSnapshots({ api: s.api, ...poll }),
    consoles: new OvirtConsoles({ api: s.api }),
    // Observation reads the hosts again once one changed state (its cache would say otherwise for a while).
    nodes: new OvirtHosts({ api: s.api, ...poll, onChange: () => s.forgetLookups() }),
  };
}

/** An engine's clients: VMs, VirtualDisks, networks, templates, and the event log as change notifications. */
export function ovirtProvider(options: OvirtOptions): ProviderClient {
  const s = new OvirtSession(options);
  // Closing the client stops its event polls too, whoever subscribed.
  const watches = new Set<() => void>();
  return {
    capabilities: OVIRT_CAPABILITIES,
    vms: ovirtVms(s),
    disks: ovirtDisks(s),
    networks: ovirtNetworks(s),
    templates: ovirtTemplates(s),
    ...ovirtDay2(s, options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    watch: (onChange) => {
      const stop = watchEvents(s, onChange);
      watches.add(stop);
      return () => {
        watches.delete(stop);
        stop();
      };
    },
    close: () => {
      for (const stop of watches) stop();
      watches.clear();
      return s.api.close();
    },
  };
}

export const ovirtConnector: ProviderConnector = {
  type: 'ovirt',
  conventions: { virtualNetworks: 'named' },
  async connect({ spec, credentials, logger, usage }) {
    if (!spec.endpoint) throw new Error('an ovirt Hypervisor needs spec.endpoint');
    const client = new OvirtClient({ endpoint: spec.endpoint, credentials, logger, ...(spec.tls ? { tls: spec.tls } : {}) });
    return ovirtProvider({ client, logger, ...(spec.defaults ? { defaults: spec.defaults } : {}), ...(usage ? { usage } : {}) });
  },
};
