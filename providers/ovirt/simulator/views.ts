// How each object looks on the wire (before the JSON/XML rendering).
import type { EngineState, SimDisk, SimVM } from './model.ts';
import { list, obj } from './representation.ts';

export const API = '/ovirt-engine/api';
const link = (kind: string, id: string | undefined) => (id ? { id, href: `${API}/${kind}/${id}` } : undefined);

export function diskView(d: SimDisk) {
  return {
    id: d.id, href: `${API}/disks/${d.id}`, name: d.name, alias: d.name, provisioned_size: d.provisioned_size, actual_size: d.actual_size, total_size: d.actual_size,
    status: d.status, format: d.format, sparse: d.sparse, storage_type: 'image', content_type: 'data',
    storage_domains: { storage_domain: [link('storagedomains', d.storage_domain)] }, ...(d.description ? { description: d.description } : {}),
  };
}

export function vmView(s: EngineState, vm: SimVM, follow: Set<string>, nextRun = false) {
  const c = nextRun && vm.next_run ? { ...vm.config, ...vm.next_run } : vm.config;
  const host = s.hosts.find((h) => h.id === vm.host);
  const base = `${API}/vms/${vm.id}`;
  return {
    id: vm.id, href: base, name: vm.name, description: c.description, comment: c.comment, status: vm.status,
    memory: c.memory, memory_policy: { guaranteed: c.memory, max: c.max_memory, ballooning: true },
    cpu: { architecture: 'x86_64', topology: { sockets: c.sockets, cores: c.cores, threads: c.threads } },
    os: { type: 'other_linux' }, type: 'server', stateless: false, delete_protected: c.delete_protected,
    next_run_configuration_exists: !!vm.next_run, creation_time: vm.creation_time,
    cluster: link('clusters', vm.cluster), template: link('templates', vm.template), ...(host ? { host: link('hosts', host.id) } : {}),
    placement_policy: { affinity: 'migratable' },
    ...(vm.initialization ? { initialization: vm.initialization } : {}),
    actions: { link: ['start', 'stop', 'shutdown', 'reboot', 'migrate', 'cancelmigration'].map((a) => ({ rel: a, href: `${base}/${a}` })) },
    link: ['diskattachments', 'nics', 'tags', 'statistics'].map((r) => ({ rel: r, href: `${base}/${r}` })),
    ...(follow.has('disk_attachments') ? { disk_attachments: { disk_attachment: vm.attachments.map((a) => attachmentView(s, vm, a, follow.has('disk_attachments.disk'))) } } : {}),
    ...(follow.has('nics') ? { nics: { nic: vm.nics.map((n) => ({ ...nicView(vm, n), ...(follow.has('nics.reporteddevices') ? { reported_devices: reportedDevices(vm, n) } : {}) })) } } : {}),
    ...(follow.has('tags') ? { tags: { tag: vm.tags.map((t) => ({ ...link('tags', t), name: s.tags.find((x) => x.id === t)?.name })) } } : {}),
  };
}

export function attachmentView(s: EngineState, vm: SimVM, a: SimVM['attachments'][number], withDisk: boolean) {
  const d = s.disks.find((x) => x.id === a.disk);
  return {
    id: a.id, href: `${API}/vms/${vm.id}/diskattachments/${a.id}`, bootable: a.bootable, active: a.active, interface: a.interface, pass_discard: false,
    disk: withDisk && d ? diskView(d) : link('disks', a.disk), vm: link('vms', vm.id),
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

export function nicView(vm: SimVM, n: SimVM['nics'][number]) {
  return {
    id: n.id, href: `${API}/vms/${vm.id}/nics/${n.id}`, name: n.name, interface: n.interface, mac: { address: n.mac }, plugged: n.plugged, linked: n.linked,
    ...(n.vnic_profile ? { vnic_profile: link('vnicprofiles', n.vnic_profile) } : {}), vm: link('vms', vm.id),
  };
}

export function hostView(s: EngineState, h: EngineState['hosts'][number]) {
  const used = s.vms.filter((v) => v.host === h.id && v.status !== 'down').reduce((a, v) => a + v.config.memory, 0);
  return {
    id: h.id, href: `${API}/hosts/${h.id}`, name: h.name, status: h.status, memory: h.memory, max_scheduling_memory: h.memory - used,
    cpu: { topology: { sockets: 2, cores: h.cores / 2, threads: 1 }, name: 'Simulated CPU' }, cluster: link('clusters', h.cluster),
    summary: { active: s.vms.filter((v) => v.host === h.id && v.status === 'up').length, total: s.vms.filter((v) => v.host === h.id).length },
    statistics: { statistic: [
      { name: 'memory.used', values: { value: [{ datum: used }] }, unit: 'bytes' },
      { name: 'load.avg.5m', values: { value: [{ datum: h.load }] }, unit: 'none' },
    ] },
  };
}

export function templateView(t: EngineState['templates'][number]) {
  return { id: t.id, href: `${API}/templates/${t.id}`, name: t.name, status: t.status, ...(t.description ? { description: t.description } : {}), memory: t.memory, cpu: { topology: { sockets: t.sockets, cores: t.cores, threads: 1 } }, ...(t.cluster ? { cluster: link('clusters', t.cluster) } : {}) };
}

export function networkView(n: EngineState['networks'][number]) {
  return { id: n.id, href: `${API}/networks/${n.id}`, name: n.name, mtu: n.mtu, ...(n.description ? { description: n.description } : {}), data_center: link('datacenters', n.data_center), ...(n.vlan ? { vlan: { id: n.vlan } } : {}), usages: { usage: ['vm'] } };
}

export { link };
