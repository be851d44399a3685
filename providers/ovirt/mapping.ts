// Pure mapping between the engine's JSON (numbers and booleans as strings) and the neutral
// model, and from a DesiredVM to the bodies the engine takes.
import type { DesiredVM, ObservedNode, ObservedVM, PowerState } from '../../controller/core/model.ts';
import { formatOwner, isAdopted, parseOwner } from '../../controller/core/provider.ts';
import { arr, bool, num, obj, type Json } from './client.ts';
import { statistics } from './usage.ts';

export interface Lookups {
  hostName: (id: string) => string | undefined;
  /** vNIC profile id → network name and VLAN. */
  profile: (id: string) => { network: string; vlan?: number } | undefined;
}

const POWER: Record<string, PowerState> = {
  up: 'running',
  down: 'stopped',
  powering_up: 'starting',
  wait_for_launch: 'starting',
  powering_down: 'stopping',
  paused: 'paused',
  suspended: 'paused',
  migrating: 'running',
  reboot_in_progress: 'running',
  image_locked: 'stopped',
  saving_state: 'stopping',
  restoring_state: 'starting',
};
const BUSY = new Set(['image_locked', 'migrating', 'wait_for_launch', 'powering_up', 'powering_down', 'reboot_in_progress', 'saving_state', 'restoring_state']);
const IFACE: Record<string, string> = { virtio: 'virtio', virtio_scsi: 'virtio-scsi', sata: 'sata', ide: 'ide' };
export const TO_IFACE: Record<string, string> = { virtio: 'virtio', 'virtio-scsi': 'virtio_scsi', sata: 'sata', ide: 'ide' };

function reportedIPs(vm: Json): string[] {
  const ips = arr(obj(vm.nics).nic)
    .flatMap((n) => arr(obj(n.reported_devices).reported_device))
    .flatMap((d) => arr(obj(d.ips).ip));
  const text = (v: 'v4' | 'v6') =>
    ips
      .filter((i) => String(i.version ?? 'v4') === v)
      .map((i) => String(i.address ?? ''))
      .filter((a) => a && !/^(127\.|::1$|fe80:)/i.test(a));
  return [...new Set([...text('v4'), ...text('v6')])];
}

export function toObservedVM(vm: Json, l: Lookups): ObservedVM {
  const status = String(vm.status ?? 'unknown');
  const topo = obj(obj(vm.cpu).topology);
  const attachments = arr(obj(vm.disk_attachments).disk_attachment);
  const ordered = [...attachments].sort((a, b) => Number(bool(b.bootable)) - Number(bool(a.bootable)));
  const lockedDisk = ordered.some((a) => obj(a.disk).status === 'locked');
  const hostId = String(obj(vm.host).id ?? '');
  const out: ObservedVM = {
    providerID: String(vm.id),
    name: String(vm.name),
    power: POWER[status] ?? 'unknown',
    cpu: { sockets: num(topo.sockets) || 1, cores: num(topo.cores) || 1, threads: num(topo.threads) || 1 },
    memoryBytes: num(vm.memory),
    disks: ordered.map((a) => {
      const d = obj(a.disk);
      return {
        name: String(a.id),
        sizeBytes: num(d.provisioned_size),
        id: String(d.id ?? a.id),
        interface: IFACE[String(a.interface)] ?? String(a.interface),
        ...(String(d.alias ?? '').startsWith('vkdisk-') ? { standalone: true } : {}),
      };
    }),
    nics: arr(obj(vm.nics).nic).map((n) => {
      // The profile's network, inline when the list followed it, else from the lookups.
      const net = obj(obj(n.vnic_profile).network);
      const p = net.name ? { network: String(net.name), ...(num(obj(net.vlan).id) ? { vlan: num(obj(net.vlan).id) } : {}) } : l.profile(String(obj(n.vnic_profile).id ?? ''));
      return {
        name: String(n.name),
        model: String(n.interface ?? 'virtio'),
        ...(obj(n.mac).address ? { mac: String(obj(n.mac).address).toLowerCase() } : {}),
        ...(p ? { network: p.network, ...(p.vlan ? { vlan: p.vlan } : {}) } : {}),
      };
    }),
    isTemplate: false,
    // What the guest agent reported per NIC (the engine's reported devices), IPv4 first.
    ipAddresses: reportedIPs(vm),
    pendingRestart: bool(vm.next_run_configuration_exists),
  };
  const max = num(obj(vm.memory_policy).max);
  if (max) out.maxMemoryBytes = max;
  const host = hostId ? l.hostName(hostId) : undefined;
  if (host) out.node = host;
  const owner = parseOwner(String(vm.comment ?? ''));
  if (owner) out.owner = owner;
  if (owner && isAdopted(String(vm.comment ?? ''))) out.adopted = true;
  if (BUSY.has(status)) out.busy = status;
  else if (lockedDisk) out.busy = 'disk locked';
  if (status === 'migrating') {
    // How far it is rides along only where statistics were followed (the migrations read, not the
    // fleet's list, which follows none: that read answers for every migrating VM in one search).
    const progress = statistics(vm).get('migration.progress');
    out.migration = { from: host ?? '', ...(progress !== undefined ? { progress: Math.floor(progress) } : {}) };
  }
  if (vm.creation_time) out.createdAt = new Date(num(vm.creation_time)).toISOString();
  if (status === 'image_locked' && out.createdAt) out.busySince = out.createdAt;
  return out;
}

export function toObservedNode(h: Json, vms: number): ObservedNode {
  const mem = num(h.memory);
  const free = num(h.max_scheduling_memory);
  const stats = arr(obj(h.statistics).statistic);
  const load = stats.find((s) => s.name === 'load.avg.5m');
  return {
    name: String(h.name),
    state: h.status === 'up' ? 'online' : h.status === 'maintenance' ? 'maintenance' : 'offline',
    memoryBytes: mem,
    memoryUsedBytes: Math.max(0, mem - free),
    vms,
    ...(load ? { load: num(arr(obj(load.values).value)[0]?.datum) } : {}),
    cpus: num(obj(obj(h.cpu).topology).sockets) * num(obj(obj(h.cpu).topology).cores) || undefined,
  } as ObservedNode;
}

function netmask(bits: number): string {
  const m = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 255).join('.');
}

/** cloud-init for the engine: hostname, user, keys, DNS, static addresses on the named NICs. */
export function initialization(vm: DesiredVM): Json | undefined {
  const ci = vm.cloudInit;
  const nics = vm.nics.filter((n) => n.ipv4);
  if (!ci && nics.length === 0) return undefined;
  const dns = [...(ci?.dnsServers ?? []), ...vm.nics.flatMap((n) => n.dnsServers ?? [])];
  return {
    ...(ci?.hostname ? { host_name: ci.hostname } : { host_name: vm.name }),
    ...(ci?.user ? { user_name: ci.user } : {}),
    ...(ci?.sshAuthorizedKeys?.length ? { authorized_ssh_keys: ci.sshAuthorizedKeys.join('\n') } : {}),
    ...(dns.length ? { dns_servers: [...new Set(dns)].join(' ') } : {}),
    ...(ci?.dnsSearch?.length ? { dns_search: ci.dnsSearch.join(' ') } : {}),
    ...(ci?.timezone ? { timezone: ci.timezone } : {}),
    ...(ci?.userData ? { custom_script: ci.userData } : {}),
    ...(nics.length
      ? {
          nic_configurations: {
            nic_configuration: nics.map((n) => {
              const [address, bits] = (n.ipv4?.address ?? '').split('/');
              return { name: n.name, boot_protocol: 'static', on_boot: true, ip: { address, netmask: netmask(Number(bits)), ...(n.ipv4?.gateway ? { gateway: n.ipv4.gateway } : {}) } };
            }),
          },
        }
      : {}),
  };
}

export function description(vm: DesiredVM): string {
  return [...Object.entries(vm.metadata).map(([k, v]) => `${k}: ${v}`), ...(vm.description ? [vm.description] : [])].join('\n');
}

export function createBody(vm: DesiredVM, cluster: string): Json {
  const init = initialization(vm);
  return {
    name: vm.name,
    cluster: { name: cluster },
    template: { name: vm.template ?? 'Blank' },
    memory: vm.memoryBytes,
    memory_policy: { guaranteed: vm.memoryBytes, max: vm.maxMemoryBytes ?? vm.memoryBytes, ballooning: true },
    cpu: { topology: { sockets: vm.cpu.sockets, cores: vm.cpu.cores, threads: vm.cpu.threads } },
    comment: formatOwner(vm.owner),
    description: description(vm),
    delete_protected: false,
    ...(init ? { initialization: init } : {}),
  };
}
