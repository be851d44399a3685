// How each object looks on the wire (before the JSON/XML rendering): the attributes a 4.5
// engine sends, with the API model's types (ovirt-engine-api-model, types/*.java), the links
// (`link rel=…`) a client follows, and what `follow` inlines. The README's simulator section
// says which attributes follow the simulated state and which are constants.
import type { EngineState, SimDisk, SimEvent, SimHost, SimNetwork, SimTemplate, SimVM } from './model.ts';
import { list, obj } from './representation.ts';

export const API = '/ovirt-engine/api';
const link = (kind: string, id: string | undefined) => (id ? { id, href: `${API}/${kind}/${id}` } : undefined);
const rels = (base: string, names: readonly string[]) => names.map((r) => ({ rel: r, href: `${base}/${r}` }));

/** The follow set: `disk_attachments.disk` also names `disk_attachments`; names compare without underscores. */
export class Follow {
  private readonly names: Set<string>;
  constructor(names: Iterable<string>) {
    this.names = new Set([...names].map((n) => n.replace(/_/g, '').toLowerCase()));
  }
  has(name: string): boolean {
    return this.names.has(name.replace(/_/g, '').toLowerCase());
  }
  /** What is followed below `name` (`nics.reported_devices` → `reported_devices` under nics). */
  under(name: string): Follow {
    const p = `${name.replace(/_/g, '').toLowerCase()}.`;
    return new Follow([...this.names].filter((n) => n.startsWith(p)).map((n) => n.slice(p.length)));
  }
}
const NONE = new Follow([]);
const asFollow = (f: Follow | Set<string>) => (f instanceof Follow ? f : new Follow(f));

/** The engine's version, as `version` elements carry it. */
const V45 = { major: 4, minor: 5, build: 6, revision: 0, full_version: '4.5.6-1.el9' };
const CLUSTER_LEVEL = { major: 4, minor: 7 };
const BLANK = '00000000-0000-0000-0000-000000000000';
/** The engine's fixed ids: the default CPU and disk profiles and MAC pool hang off these. */
const fixedId = (tag: string, of: string) => `${tag.padEnd(8, '0').slice(0, 8)}-${of.slice(9)}`;

export function diskView(d: SimDisk, s?: EngineState) {
  const base = `${API}/disks/${d.id}`;
  return {
    id: d.id,
    href: base,
    name: d.name,
    alias: d.name,
    ...(d.description ? { description: d.description } : {}),
    image_id: fixedId('1a6e0000', d.id),
    provisioned_size: d.provisioned_size,
    actual_size: d.actual_size,
    total_size: d.actual_size,
    status: d.status,
    format: d.format,
    ...(d.format === 'cow' ? { qcow_version: 'qcow2_v3' } : {}),
    sparse: d.sparse,
    shareable: false,
    wipe_after_delete: false,
    propagate_errors: false,
    backup: 'none',
    content_type: 'data',
    storage_type: 'image',
    storage_domains: { storage_domain: [link('storagedomains', d.storage_domain)] },
    disk_profile: link('diskprofiles', fixedId('d15c0000', d.storage_domain)),
    ...(s?.datacenters[0] ? { quota: { id: fixedId('90000000', s.datacenters[0].id) } } : {}),
    actions: { link: rels(base, ['copy', 'export', 'move', 'reduce', 'refreshlun', 'sparsify']) },
    link: rels(base, ['disksnapshots', 'permissions', 'statistics']),
  };
}

const VM_RELS = [
  'affinitylabels',
  'applications',
  'backups',
  'cdroms',
  'checkpoints',
  'diskattachments',
  'floppies',
  'graphicsconsoles',
  'hostdevices',
  'katelloerrata',
  'mediateddevices',
  'nics',
  'numanodes',
  'permissions',
  'reporteddevices',
  'sessions',
  'snapshots',
  'statistics',
  'tags',
  'watchdogs',
] as const;
const VM_ACTIONS = [
  'cancelmigration',
  'clone',
  'commitsnapshot',
  'detach',
  'export',
  'freezefilesystems',
  'logon',
  'maintenance',
  'migrate',
  'previewsnapshot',
  'reboot',
  'remove',
  'reordermacaddresses',
  'shutdown',
  'start',
  'stop',
  'suspend',
  'thawfilesystems',
  'ticket',
  'undosnapshot',
] as const;

/** What VMs and templates share (the API model's VmBase), with its constant defaults. */
function vmBase(s: EngineState, c: { memory: number; max_memory: number; sockets: number; cores: number; threads: number }, cluster: string | undefined, creation: number) {
  return {
    type: 'server',
    memory: c.memory,
    memory_policy: { guaranteed: c.memory, max: c.max_memory, ballooning: true, over_commit: { percent: 100 } },
    cpu: { architecture: 'x86_64', topology: { sockets: c.sockets, cores: c.cores, threads: c.threads } },
    cpu_shares: 0,
    bios: { boot_menu: { enabled: false }, type: 'q35_ovmf' },
    os: { type: 'other_linux', boot: { devices: { device: ['hd'] } } },
    creation_time: creation,
    origin: 'ovirt',
    stateless: false,
    high_availability: { enabled: false, priority: 0 },
    display: {
      type: 'vnc',
      monitors: 1,
      single_qxl_pci: false,
      allow_override: false,
      smartcard_enabled: false,
      file_transfer_enabled: true,
      copy_paste_enabled: true,
      disconnect_action: 'LOCK_SCREEN',
      disconnect_action_delay: 0,
      keyboard_layout: 'en-us',
    },
    sso: { methods: { method: [{ id: 'guest_agent' }] } },
    console: { enabled: false },
    usb: { enabled: false },
    soundcard_enabled: false,
    tunnel_migration: false,
    migration_downtime: -1,
    virtio_scsi: { enabled: true },
    start_paused: false,
    migration: { auto_converge: 'inherit', compressed: 'inherit', encrypted: 'inherit', parallel_migrations_policy: 'inherit' },
    io: { threads: 1 },
    time_zone: { name: 'Etc/GMT' },
    placement_policy: { affinity: 'migratable' },
    multi_queues_enabled: true,
    virtio_scsi_multi_queues_enabled: false,
    tpm_enabled: false,
    cpu_pinning_policy: 'none',
    storage_error_resume_behaviour: 'auto_resume',
    cluster: link('clusters', cluster),
    ...(cluster ? { cpu_profile: link('cpuprofiles', fixedId('c9000000', cluster)) } : {}),
    ...(s.datacenters[0] ? { quota: { id: fixedId('90000000', s.datacenters[0].id) } } : {}),
  };
}

export function vmView(s: EngineState, vm: SimVM, follow: Follow | Set<string>, nextRun = false) {
  const f = asFollow(follow);
  const c = nextRun && vm.next_run ? { ...vm.config, ...vm.next_run } : vm.config;
  const host = s.hosts.find((h) => h.id === vm.host);
  const cluster = s.clusters.find((x) => x.id === vm.cluster);
  const tpl = s.templates.find((t) => t.id === vm.template);
  const base = `${API}/vms/${vm.id}`;
  const running = !['down', 'image_locked'].includes(vm.status);
  const common = vmBase(s, c, vm.cluster, vm.creation_time);
  return {
    id: vm.id,
    href: base,
    name: vm.name,
    description: c.description,
    comment: c.comment,
    ...common,
    status: vm.status,
    ...(vm.status === 'down' && vm.stop_time ? { stop_time: vm.stop_time, ...(vm.stop_reason ? { stop_reason: vm.stop_reason } : {}) } : {}),
    run_once: false,
    ...(running && host
      ? { start_time: vm.start_time ?? vm.creation_time, fqdn: `${vm.name}.sim.test`, display: { ...common.display, address: `${host.name}.sim.test`, port: 5900, secure_port: 5901 } }
      : {}),
    delete_protected: c.delete_protected,
    next_run_configuration_exists: !!vm.next_run,
    has_illegal_images: false,
    use_latest_template_version: false,
    numa_tune_mode: 'interleave',
    template: f.has('template') && tpl ? templateView(s, tpl) : link('templates', vm.template),
    original_template: link('templates', vm.template),
    ...(f.has('cluster') && cluster ? { cluster: clusterView(s, cluster, f.under('cluster')) } : {}),
    ...(host ? { host: f.has('host') ? hostView(s, host) : link('hosts', host.id) } : {}),
    // As the engine: the root password is write-only, never sent back.
    ...(vm.initialization ? { initialization: { ...vm.initialization, root_password: undefined } } : {}),
    actions: { link: rels(base, VM_ACTIONS) },
    link: rels(base, VM_RELS),
    ...(f.has('disk_attachments') ? { disk_attachments: { disk_attachment: vm.attachments.map((a) => attachmentView(s, vm, a, f.under('disk_attachments').has('disk'))) } } : {}),
    ...(f.has('nics') ? { nics: { nic: vm.nics.map((n) => nicView(vm, n, s, f.under('nics'))) } } : {}),
    ...(f.has('tags') ? { tags: { tag: vm.tags.map((t) => ({ ...link('tags', t), name: s.tags.find((x) => x.id === t)?.name })) } } : {}),
    ...(f.has('graphics_consoles') ? { graphics_consoles: { graphics_console: graphicsConsoles(vm, false) } } : {}),
    ...(f.has('statistics') ? { statistics: { statistic: vmStatistics(vm) } } : {}),
  };
}

export function attachmentView(s: EngineState, vm: SimVM, a: SimVM['attachments'][number], withDisk: boolean) {
  const d = s.disks.find((x) => x.id === a.disk);
  const i = vm.attachments.indexOf(a);
  return {
    id: a.id,
    href: `${API}/vms/${vm.id}/diskattachments/${a.id}`,
    bootable: a.bootable,
    active: a.active,
    interface: a.interface,
    pass_discard: false,
    read_only: false,
    uses_scsi_reservation: false,
    ...(vm.status === 'up' ? { logical_name: a.interface === 'virtio' ? `/dev/vd${String.fromCharCode(97 + i)}` : `/dev/sd${String.fromCharCode(97 + i)}` } : {}),
    disk: withDisk && d ? diskView(d, s) : link('disks', a.disk),
    vm: link('vms', vm.id),
  };
}

/** What the guest agent reports for a NIC of a running VM: its static address from cloud-init, else one derived from the MAC. */
export function reportedDevices(vm: SimVM, n: SimVM['nics'][number]) {
  if (vm.status !== 'up') return {};
  const configs = list(obj(obj(vm.initialization).nic_configurations).nic_configuration).map((c) => obj(c));
  const fixed = configs.find((c) => c.name === n.name);
  const bytes = n.mac.split(':').map((x) => parseInt(x, 16));
  const address = fixed ? String(obj(fixed.ip).address ?? '') : `10.${bytes[3] ?? 0}.${bytes[4] ?? 0}.${bytes[5] ?? 1}`;
  return { reported_device: [{ name: 'eth0', type: 'network', description: 'guest reported data', mac: { address: n.mac }, ips: { ip: [{ address, version: 'v4' }] } }] };
}

export function nicView(vm: SimVM, n: SimVM['nics'][number], s?: EngineState, follow: Follow = NONE) {
  const base = `${API}/vms/${vm.id}/nics/${n.id}`;
  const profile = s?.vnicprofiles.find((p) => p.id === n.vnic_profile);
  return {
    id: n.id,
    href: base,
    name: n.name,
    interface: n.interface,
    mac: { address: n.mac },
    plugged: n.plugged,
    linked: n.linked,
    synced: true,
    ...(n.vnic_profile ? { vnic_profile: follow.has('vnic_profile') && profile && s ? vnicProfileView(s, profile) : link('vnicprofiles', n.vnic_profile) } : {}),
    vm: link('vms', vm.id),
    ...(follow.has('reported_devices') ? { reported_devices: reportedDevices(vm, n) } : {}),
    actions: { link: rels(base, ['activate', 'deactivate']) },
    link: rels(base, ['networkfilterparameters', 'reporteddevices', 'statistics']),
  };
}

/** A VM's consoles: the engine names them by the hex of the protocol (`766e63` is vnc). */
export function graphicsConsoles(vm: SimVM, current: boolean) {
  return [
    {
      id: '766e63',
      href: `${API}/vms/${vm.id}/graphicsconsoles/766e63`,
      protocol: 'vnc',
      ...(current && vm.status === 'up' ? { address: '127.0.0.1', port: 5900, tls_port: 5901 } : {}),
      vm: link('vms', vm.id),
    },
  ];
}

const stat = (owner: { vm?: string; host?: string }, name: string, description: string, unit: string, datum: number, type = 'integer') => {
  const kind = owner.vm ? 'vms' : 'hosts';
  const ownerId = owner.vm ?? owner.host ?? '';
  const statId = `${Buffer.from(name).toString('hex').padEnd(32, '0').slice(0, 32)}`.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
  return {
    id: statId,
    href: `${API}/${kind}/${ownerId}/statistics/${statId}`,
    name,
    description,
    kind: 'gauge',
    type,
    unit,
    values: { value: [{ datum }] },
    ...(owner.vm ? { vm: link('vms', owner.vm) } : { host: link('hosts', owner.host) }),
  };
};

export function vmStatistics(vm: SimVM) {
  const up = vm.status === 'up';
  const o = { vm: vm.id };
  return [
    stat(o, 'memory.installed', 'Total memory configured', 'bytes', vm.config.memory),
    stat(o, 'memory.used', 'Memory used (agent)', 'bytes', up ? Math.floor(vm.config.memory / 4) : 0),
    stat(o, 'memory.free', 'Memory free (agent)', 'bytes', up ? vm.config.memory - Math.floor(vm.config.memory / 4) : 0),
    stat(o, 'cpu.current.guest', 'CPU used by guest', 'percent', up ? 1 : 0, 'decimal'),
    stat(o, 'elapsed.time', 'Elapsed VM runtime', 'seconds', up ? Math.floor((Date.now() - vm.creation_time) / 1000) : 0),
  ];
}

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

export function templateView(s: EngineState, t: SimTemplate, follow: Follow = NONE) {
  const base = `${API}/templates/${t.id}`;
  const blank = t.id === BLANK;
  return {
    id: t.id,
    href: base,
    name: t.name,
    description: t.description ?? (blank ? 'Blank template' : ''),
    comment: '',
    ...vmBase(s, { memory: t.memory, max_memory: t.memory * 4, sockets: t.sockets, cores: t.cores, threads: 1 }, t.cluster || undefined, 0),
    status: t.status,
    version: { version_number: 1, version_name: 'base version', base_template: link('templates', t.id) },
    delete_protected: false,
    actions: { link: rels(base, ['export']) },
    link: rels(base, ['cdroms', 'diskattachments', 'graphicsconsoles', 'mediateddevices', 'nics', 'permissions', 'tags', 'watchdogs']),
    ...(follow.has('disk_attachments') ? { disk_attachments: { disk_attachment: templateAttachments(t, follow.under('disk_attachments').has('disk')) } } : {}),
    ...(follow.has('nics') ? { nics: {} } : {}),
  };
}

/** A template's disks: ids derived from the template's, as they never change. */
export function templateAttachments(t: SimTemplate, withDisk: boolean) {
  return t.disks.map((d, i) => {
    const diskId = `${t.id.slice(0, 24)}${String(i).padStart(12, '0')}`;
    const disk = {
      id: diskId,
      href: `${API}/disks/${diskId}`,
      alias: d.alias,
      name: d.alias,
      provisioned_size: d.size,
      actual_size: d.size,
      status: t.status === 'locked' ? 'locked' : 'ok',
      format: 'cow',
      qcow_version: 'qcow2_v3',
      sparse: true,
      shareable: false,
      content_type: 'data',
      storage_type: 'image',
    };
    return {
      id: diskId,
      href: `${API}/templates/${t.id}/diskattachments/${diskId}`,
      bootable: i === 0,
      active: true,
      interface: d.interface,
      pass_discard: false,
      read_only: false,
      uses_scsi_reservation: false,
      disk: withDisk ? disk : { id: diskId, href: disk.href },
      template: link('templates', t.id),
    };
  });
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

export function networkView(n: SimNetwork, s?: EngineState, follow: Follow = NONE): Record<string, unknown> {
  const base = `${API}/networks/${n.id}`;
  const dc = s?.datacenters.find((d) => d.id === n.data_center);
  return {
    id: n.id,
    href: base,
    name: n.name,
    description: n.description ?? (n.name === 'ovirtmgmt' ? 'Management Network' : ''),
    comment: '',
    mtu: n.mtu,
    stp: false,
    port_isolation: false,
    vdsm_name: n.name,
    ...(n.vlan ? { vlan: { id: n.vlan } } : {}),
    usages: { usage: n.name === 'ovirtmgmt' ? ['management', 'vm'] : ['vm'] },
    data_center: follow.has('data_center') && dc && s ? datacenterView(s, dc) : link('datacenters', n.data_center),
    link: rels(base, ['networklabels', 'permissions', 'vnicprofiles']),
    ...(follow.has('vnic_profiles') && s ? { vnic_profiles: { vnic_profile: s.vnicprofiles.filter((p) => p.network === n.id).map((p) => vnicProfileView(s, p)) } } : {}),
  };
}

export function vnicProfileView(s: EngineState, p: EngineState['vnicprofiles'][number], follow: Follow = NONE): Record<string, unknown> {
  const base = `${API}/vnicprofiles/${p.id}`;
  const net = s.networks.find((n) => n.id === p.network);
  return {
    id: p.id,
    href: base,
    name: p.name,
    description: '',
    port_mirroring: false,
    pass_through: { mode: 'disabled' },
    network: follow.has('network') && net ? networkView(net, s) : link('networks', p.network),
    network_filter: { id: 'd2370ab4-fee3-11e9-a310-8c1645ce738e', href: `${API}/networkfilters/d2370ab4-fee3-11e9-a310-8c1645ce738e` },
    link: rels(base, ['permissions']),
  };
}

export function eventView(s: EngineState, ev: SimEvent) {
  const vm = s.vms.find((v) => v.id === ev.vm);
  return {
    id: ev.id,
    href: `${API}/events/${ev.id}`,
    index: ev.index,
    code: ev.code,
    severity: ev.severity,
    time: ev.time,
    description: ev.description,
    ...(ev.correlation_id ? { correlation_id: ev.correlation_id } : {}),
    origin: 'oVirt',
    custom_id: -1,
    flood_rate: 30,
    log_on_host: false,
    user: { id: 'f0aed3bc-0d6f-11ee-8a0e-5254000000ff', href: `${API}/users/f0aed3bc-0d6f-11ee-8a0e-5254000000ff` },
    ...(ev.vm ? { vm: link('vms', ev.vm) } : {}),
    ...(vm ? { cluster: link('clusters', vm.cluster), ...(vm.host ? { host: link('hosts', vm.host) } : {}) } : {}),
  };
}

export const productInfo = { name: 'oVirt Engine', vendor: 'ovirt.org', version: V45, instance_id: '6f3b5c52-0d6f-11ee-9a3a-525400000001' };

export { link };
