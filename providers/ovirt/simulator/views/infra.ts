// The infrastructure as the engine sends it: hosts and their statistics, clusters, data
// centers, storage domains.
import type { EngineState, SimHost } from '../model.ts';
import { API, CLUSTER_LEVEL, type Follow, link, NONE, rels, stat } from './common.ts';

export function hostStatistics(s: EngineState, h: SimHost) {
  const used = s.vms.filter((v) => v.host === h.id && v.status !== 'down').reduce((a, v) => a + v.config.memory, 0);
  const o = { host: h.id };
  return [
    stat(o, 'memory.total', 'Total memory', 'bytes', h.memory),
    stat(o, 'memory.used', 'Used memory', 'bytes', used),
    stat(o, 'memory.free', 'Free memory', 'bytes', h.memory - used),
    stat(o, 'load.avg.5m', 'CPU 5 minute load average', 'none', h.load, 'decimal'),
  ];
}

export function hostView(s: EngineState, h: SimHost, follow: Follow = NONE) {
  const used = s.vms.filter((v) => v.host === h.id && v.status !== 'down').reduce((a, v) => a + v.config.memory, 0);
  const base = `${API}/hosts/${h.id}`;
  const spm = s.hosts.find((x) => x.status === 'up')?.id === h.id;
  const cluster = s.clusters.find((c) => c.id === h.cluster);
  return {
    id: h.id,
    href: base,
    name: h.name,
    comment: '',
    address: `${h.name}.sim.test`,
    status: h.status,
    external_status: 'ok',
    type: 'rhel',
    port: 54321,
    protocol: 'stomp',
    spm: { priority: 5, status: spm ? 'spm' : 'none' },
    version: { major: 4, minor: 50, build: 5, revision: 1, full_version: 'vdsm-4.50.5.1-1.el9' },
    libvirt_version: { major: 9, minor: 5, build: 0, revision: 0, full_version: 'libvirt-9.5.0-7.el9' },
    os: { type: 'RHEL', version: { major: 9, full_version: '9 - 3.el9' }, custom_kernel_cmdline: '', reported_kernel_cmdline: '' },
    cpu: { name: 'Simulated CPU', speed: 2400, type: 'Secure Intel Cascadelake Server Family', topology: { sockets: 2, cores: h.cores / 2, threads: 1 } },
    memory: h.memory,
    max_scheduling_memory: h.memory - used,
    summary: {
      active: s.vms.filter((v) => v.host === h.id && v.status === 'up').length,
      migrating: s.vms.filter((v) => v.host === h.id && v.status === 'migrating').length,
      total: s.vms.filter((v) => v.host === h.id).length,
    },
    hardware_information: { manufacturer: 'virtkeeper', product_name: 'Simulated host', serial_number: h.id, uuid: h.id, version: '1' },
    ksm: { enabled: false },
    transparent_hugepages: { enabled: true },
    kdump_status: 'disabled',
    se_linux: { mode: 'enforcing' },
    auto_numa_status: 'disable',
    numa_supported: false,
    update_available: false,
    network_operation_in_progress: false,
    reinstallation_required: false,
    ovn_configured: true,
    device_passthrough: { enabled: false },
    vgpu_placement: 'consolidated',
    certificate: { organization: 'sim.test', subject: `O=sim.test,CN=${h.name}.sim.test` },
    cluster: follow.has('cluster') && cluster ? clusterView(s, cluster) : link('clusters', h.cluster),
    actions: { link: rels(base, ['activate', 'deactivate', 'fence', 'install', 'refresh', 'upgrade', 'upgradecheck']) },
    link: rels(base, [
      'affinitylabels',
      'devices',
      'fenceagents',
      'hooks',
      'katelloerrata',
      'networkattachments',
      'nics',
      'numanodes',
      'permissions',
      'statistics',
      'storage',
      'storageconnectionextensions',
      'tags',
      'unmanagednetworks',
    ]),
    ...(follow.has('statistics') ? { statistics: { statistic: hostStatistics(s, h) } } : {}),
  };
}
export function clusterView(s: EngineState, c: EngineState['clusters'][number], follow: Follow = NONE) {
  const base = `${API}/clusters/${c.id}`;
  const dc = s.datacenters.find((d) => d.id === c.data_center);
  const mgmt = s.networks.find((n) => n.name === 'ovirtmgmt' && n.data_center === c.data_center);
  return {
    id: c.id,
    href: base,
    name: c.name,
    description: c.name === 'Default' ? 'The default server cluster' : '',
    comment: '',
    cpu: { architecture: 'x86_64', type: 'Secure Intel Cascadelake Server Family' },
    memory_policy: { over_commit: { percent: 100 }, transparent_hugepages: { enabled: true } },
    version: CLUSTER_LEVEL,
    supported_versions: { version: [CLUSTER_LEVEL] },
    error_handling: { on_error: 'migrate' },
    virt_service: true,
    gluster_service: false,
    threads_as_cores: false,
    tunnel_migration: false,
    trusted_service: false,
    ha_reservation: false,
    vnc_encryption: false,
    bios_type: 'q35_ovmf',
    fips_mode: 'disabled',
    firewall_type: 'firewalld',
    switch_type: 'legacy',
    optional_reason: false,
    maintenance_reason_required: false,
    ballooning_enabled: true,
    ksm: { enabled: true, merge_across_nodes: true },
    migration: {
      auto_converge: 'false',
      compressed: 'false',
      encrypted: 'false',
      parallel_migrations_policy: 'disabled',
      bandwidth: { assignment_method: 'auto' },
      policy: { id: '80554327-0569-496b-bdeb-fcbbf52b827b' },
    },
    required_rng_sources: { required_rng_source: ['urandom'] },
    fencing_policy: {
      enabled: true,
      skip_if_connectivity_broken: { enabled: false, threshold: 50 },
      skip_if_gluster_bricks_up: false,
      skip_if_gluster_quorum_not_met: false,
      skip_if_sd_active: { enabled: false },
    },
    log_max_memory_used_threshold: 95,
    log_max_memory_used_threshold_type: 'percentage',
    upgrade_in_progress: false,
    custom_scheduling_policy_properties: {
      property: [
        { name: 'HighUtilization', value: '80' },
        { name: 'CpuOverCommitDurationMinutes', value: '2' },
      ],
    },
    data_center: follow.has('data_center') && dc ? datacenterView(s, dc) : link('datacenters', c.data_center),
    ...(mgmt ? { management_network: link('networks', mgmt.id) } : {}),
    mac_pool: { id: '58ca604b-017d-0374-0220-00000000014e', href: `${API}/macpools/58ca604b-017d-0374-0220-00000000014e` },
    scheduling_policy: { id: 'b4ed2332-a7ac-4d5f-9596-99a439cb2812', href: `${API}/schedulingpolicies/b4ed2332-a7ac-4d5f-9596-99a439cb2812` },
    actions: { link: rels(base, ['resetemulatedmachine', 'syncallnetworks', 'upgrade']) },
    link: rels(base, ['affinitygroups', 'cpuprofiles', 'enabledfeatures', 'externalnetworkproviders', 'glusterhooks', 'glustervolumes', 'networkfilters', 'networks', 'permissions']),
  };
}

export function datacenterView(_s: EngineState, d: EngineState['datacenters'][number]) {
  const base = `${API}/datacenters/${d.id}`;
  return {
    id: d.id,
    href: base,
    name: d.name,
    description: d.name === 'Default' ? 'The default Data Center' : '',
    comment: '',
    local: false,
    storage_format: 'v5',
    version: CLUSTER_LEVEL,
    supported_versions: { version: [CLUSTER_LEVEL] },
    status: 'up',
    quota_mode: 'disabled',
    mac_pool: { id: '58ca604b-017d-0374-0220-00000000014e', href: `${API}/macpools/58ca604b-017d-0374-0220-00000000014e` },
    actions: { link: rels(base, ['cleanfinishedtasks', 'setmaster']) },
    link: rels(base, ['clusters', 'iscsibonds', 'networks', 'permissions', 'quotas', 'qoss', 'storagedomains']),
  };
}

export function storageDomainView(s: EngineState, d: EngineState['storagedomains'][number]) {
  const base = `${API}/storagedomains/${d.id}`;
  return {
    id: d.id,
    href: base,
    name: d.name,
    description: '',
    comment: '',
    type: d.type,
    status: d.status,
    external_status: 'ok',
    master: s.storagedomains[0]?.id === d.id,
    storage: { type: 'nfs', address: 'nfs.sim.test', path: `/exports/${d.name}`, nfs_version: 'auto' },
    available: d.available,
    used: d.used,
    committed: d.committed,
    storage_format: 'v5',
    wipe_after_delete: false,
    discard_after_delete: false,
    supports_discard: false,
    supports_discard_zeroes_data: false,
    warning_low_space_indicator: 10,
    critical_space_action_blocker: 5,
    backup: false,
    block_size: 512,
    data_centers: { data_center: s.datacenters.slice(0, 1).map((x) => link('datacenters', x.id)) },
    actions: { link: rels(base, ['isattached', 'reduceluns', 'refreshluns', 'updateovfstore']) },
    link: rels(base, ['diskprofiles', 'disks', 'disksnapshots', 'permissions', 'storageconnections', 'templates', 'vms']),
  };
}
