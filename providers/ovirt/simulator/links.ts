// What the links of representations point at beyond what the routes model: empty
// subcollections and the fixed objects (profiles, MAC pool, scheduling policy, the admin user).
import type { Engine } from './engine.ts';
import { notFound } from './faults.ts';
import type { RouteResult } from './routes/route.ts';
import { API } from './views/common.ts';
import { nicStatistics } from './views/statistics.ts';
import { reportedDevices } from './views/vm.ts';

/**
 * What the links of a representation point at and the simulator does not model: the
 * subcollections answer empty (an engine's root element), the fixed objects (profiles, the
 * MAC pool, the scheduling policy) answer with themselves. Undefined: the route decides.
 */
export function linkTargets(engine: Engine, method: string, seg: readonly string[], modelled: (key: string) => boolean): RouteResult | undefined {
  if (method !== 'GET') return undefined;
  const s = engine.state;
  const [col = '', oid, sub, sid, subsub] = seg;
  if (seg.length === 2 && oid && FIXED_OBJECTS[col])
    return [
      200,
      FIXED_OBJECTS[col],
      {
        id: oid,
        href: `${API}/${col}/${oid}`,
        name: col === 'macpools' ? 'Default' : col === 'users' ? 'admin' : col === 'schedulingpolicies' ? 'evenly_distributed' : col === 'networkfilters' ? 'vdsm-no-mac-spoofing' : 'default',
      },
    ];
  if (seg.length === 5 && col === 'vms' && oid && sub === 'nics' && sid && subsub) {
    const vm = engine.vm(oid);
    const n = vm.nics.find((x) => x.id === sid);
    if (!n) throw notFound();
    if (subsub === 'reporteddevices') return [200, 'reported_devices', reportedDevices(vm, n)];
    if (subsub === 'statistics') return [200, 'statistics', { statistic: nicStatistics(vm, n) }];
    if (subsub === 'networkfilterparameters') return [200, 'network_filter_parameters', {}];
    throw notFound();
  }
  if (seg.length !== 3 || !oid || !sub || modelled(`${col}/${sub}`)) return undefined;
  const root = SUBCOLLECTION_ROOTS[sub];
  const parents: Record<string, { id: string }[]> = {
    vms: s.vms,
    templates: s.templates,
    hosts: s.hosts,
    clusters: s.clusters,
    datacenters: s.datacenters,
    storagedomains: s.storagedomains,
    networks: s.networks,
    disks: s.disks,
    vnicprofiles: s.vnicprofiles,
  };
  if (!root || !parents[col]) return undefined;
  if (!parents[col]?.some((x) => x.id === oid)) throw notFound();
  return [200, root, {}];
}

/** Every other subcollection a link names, by the root element an engine answers it with. */
const SUBCOLLECTION_ROOTS: Record<string, string> = {
  affinitygroups: 'affinity_groups',
  affinitylabels: 'affinity_labels',
  cdroms: 'cdroms',
  cpuprofiles: 'cpu_profiles',
  devices: 'host_devices',
  diskprofiles: 'disk_profiles',
  disks: 'disks',
  disksnapshots: 'disk_snapshots',
  enabledfeatures: 'cluster_features',
  externalnetworkproviders: 'external_providers',
  fenceagents: 'agents',
  glusterhooks: 'gluster_hooks',
  glustervolumes: 'gluster_volumes',
  hooks: 'hooks',
  iscsibonds: 'iscsi_bonds',
  katelloerrata: 'katello_errata',
  mediateddevices: 'vm_mediated_devices',
  networkattachments: 'network_attachments',
  networkfilters: 'network_filters',
  networklabels: 'network_labels',
  nics: 'host_nics',
  numanodes: 'host_numa_nodes',
  permissions: 'permissions',
  qoss: 'qoss',
  quotas: 'quotas',
  statistics: 'statistics',
  storage: 'host_storages',
  storageconnectionextensions: 'storage_connection_extensions',
  storageconnections: 'storage_connections',
  tags: 'tags',
  templates: 'templates',
  unmanagednetworks: 'unmanaged_networks',
  vms: 'vms',
  watchdogs: 'watchdogs',
};

/** Objects with fixed ids that representations link to (the default profiles, MAC pool, scheduling policy, the admin user). */
const FIXED_OBJECTS: Record<string, string> = {
  cpuprofiles: 'cpu_profile',
  diskprofiles: 'disk_profile',
  macpools: 'mac_pool',
  schedulingpolicies: 'scheduling_policy',
  networkfilters: 'network_filter',
  users: 'user',
};
