// A VM as the engine sends it, with what `follow` inlines: disk attachments, NICs and their
// reported devices, consoles, statistics; `vmBase` is what templates share.
import type { EngineState, SimDisk, SimVM } from '../model.ts';
import { list, obj } from '../representation.ts';
import { API, asFollow, type Follow, link, NONE, rels } from './common.ts';
import { diskView } from './disk.ts';
import { clusterView, hostView } from './infra.ts';
import { templateView } from './template.ts';
import { vmBase } from './vm-base.ts';
import { vnicProfileView } from './network.ts';
import { diskStatistics, nicStatistics, vmUsageStatistics } from './statistics.ts';

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
    ...(f.has('disk_attachments')
      ? {
          disk_attachments: {
            disk_attachment: vm.attachments.map((a) => attachmentView(s, vm, a, f.under('disk_attachments').has('disk'), f.under('disk_attachments').under('disk').has('statistics'))),
          },
        }
      : {}),
    ...(f.has('nics') ? { nics: { nic: vm.nics.map((n) => nicView(vm, n, s, f.under('nics'))) } } : {}),
    ...(f.has('tags') ? { tags: { tag: vm.tags.map((t) => ({ ...link('tags', t), name: s.tags.find((x) => x.id === t)?.name })) } } : {}),
    ...(f.has('graphics_consoles') ? { graphics_consoles: { graphics_console: graphicsConsoles(vm, false) } } : {}),
    ...(f.has('statistics') ? { statistics: { statistic: vmStatistics(vm) } } : {}),
  };
}

/** The disks by id, built once per state of the list (a VM list reads every VM's disks). */
const diskIndex = new WeakMap<SimDisk[], { size: number; byId: Map<string, SimDisk> }>();
function diskById(s: EngineState, id: string): SimDisk | undefined {
  let ix = diskIndex.get(s.disks);
  if (!ix || ix.size !== s.disks.length) {
    ix = { size: s.disks.length, byId: new Map(s.disks.map((d) => [d.id, d])) };
    diskIndex.set(s.disks, ix);
  }
  // Disks are only pushed (the count changes) or filtered out (a new array): the index holds.
  return ix.byId.get(id);
}

export function attachmentView(s: EngineState, vm: SimVM, a: SimVM['attachments'][number], withDisk: boolean, withStatistics = false) {
  const d = diskById(s, a.disk);
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
    disk: withDisk && d ? { ...diskView(d, s), ...(withStatistics ? { statistics: { statistic: diskStatistics(s, d, vm) } } : {}) } : link('disks', a.disk),
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
    ...(n.vnic_profile ? { vnic_profile: follow.has('vnic_profile') && profile && s ? vnicProfileView(s, profile, follow.under('vnic_profile')) : link('vnicprofiles', n.vnic_profile) } : {}),
    vm: link('vms', vm.id),
    ...(follow.has('reported_devices') ? { reported_devices: reportedDevices(vm, n) } : {}),
    ...(follow.has('statistics') ? { statistics: { statistic: nicStatistics(vm, n) } } : {}),
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
/** The VM's statistics: they move with the clock (views/statistics.ts). */
export const vmStatistics = (vm: SimVM) => vmUsageStatistics(vm);
