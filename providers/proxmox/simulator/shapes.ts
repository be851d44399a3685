// What a PVE 9 node answers for guests and nodes, key for key and with the JSON types of its
// API schema (pve-docs apidata.js): integers and booleans (as 0/1) are numbers, `memory` is a
// property string ("2048"), a guest's list row says `cpus`, its cluster row `maxcpu`.
import { createHash, X509Certificate } from 'node:crypto';
import { diskSize, GiB, isDataDisk, type SimNode, type SimVM } from './model.ts';

/** Config keys the schema types as integer or number; the rest are strings. */
const NUMERIC = new Set(['balloon', 'cores', 'cpulimit', 'cpuunits', 'migrate_downtime', 'migrate_speed', 'shares', 'smp', 'snaptime', 'sockets', 'vcpus']);
/** Config keys the schema types as boolean: stored and answered as 0/1. */
export const BOOLEAN_KEYS = new Set([
  'acpi',
  'allow-ksm',
  'autostart',
  'ciupgrade',
  'freeze',
  'keephugepages',
  'kvm',
  'localtime',
  'numa',
  'onboot',
  'protection',
  'reboot',
  'tablet',
  'tdf',
  'template',
]);

/** A boolean parameter as the node stores it: `true`, `yes`, `on` become 1. */
export function storedBoolean(v: string): string {
  return /^(1|true|yes|on)$/i.test(v) ? '1' : '0';
}

/** A guest's config as `GET …/config` (and `/pending`) types it. */
export function typedConfig(config: Record<string, string>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(config)) out[k] = (NUMERIC.has(k) || BOOLEAN_KEYS.has(k)) && v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  return out;
}

export const guestCpus = (vm: SimVM) => Number(vm.config.vcpus ?? Number(vm.config.cores ?? 1) * Number(vm.config.sockets ?? 1));

/**
 * Usage that moves with the clock: CPU and memory wave around a level of their own per VM,
 * the I/O counters grow from the start at a per-VM rate; a stopped VM reports 0.
 */
function usage(vm: SimVM, uptime: number, maxmem: number): Record<string, number> {
  if (vm.status !== 'running') return { cpu: 0, mem: 0, netin: 0, netout: 0, diskread: 0, diskwrite: 0 };
  const wave = (period: number) => 0.5 + 0.5 * Math.sin(uptime / period + vm.vmid);
  const KiB = 1024;
  return {
    cpu: Math.round((0.02 + 0.3 * wave(20)) * 1e4) / 1e4,
    mem: Math.floor(maxmem * (0.3 + 0.2 * wave(45))),
    diskread: 64 * 2 ** 20 + uptime * (200 + (vm.vmid % 7) * 50) * KiB,
    diskwrite: uptime * (100 + (vm.vmid % 5) * 30) * KiB,
    netin: uptime * (20 + (vm.vmid % 11) * 5) * KiB,
    netout: uptime * (10 + (vm.vmid % 13) * 3) * KiB,
  };
}

/** The fields vmstatus() computes for a guest, shared by its list row and status/current. */
function guestStatus(vm: SimVM, now = Date.now()): Record<string, unknown> {
  const disks = Object.entries(vm.config).filter(([k, v]) => isDataDisk(k, v));
  const maxmem = Number(vm.config.memory ?? 512) * 2 ** 20;
  const running = vm.status === 'running';
  const uptime = running ? Math.max(0, Math.floor((now - (vm.startedAt ?? now)) / 1000)) : 0;
  const use = usage(vm, uptime, maxmem);
  return {
    vmid: vm.vmid,
    name: vm.config.name ?? `VM ${vm.vmid}`,
    status: vm.status,
    cpus: guestCpus(vm),
    maxmem,
    mem: use.mem,
    ...(running ? { memhost: Math.floor((use.mem ?? 0) * 1.05) } : {}),
    cpu: use.cpu,
    maxdisk: disks.reduce((a, [, v]) => a + diskSize(v), 0),
    disk: 0,
    uptime,
    netin: use.netin,
    netout: use.netout,
    diskread: use.diskread,
    diskwrite: use.diskwrite,
    ...(running ? { pid: 10000 + vm.vmid } : {}),
    ...(vm.template ? { template: 1 } : {}),
    ...(vm.config.tags ? { tags: vm.config.tags } : {}),
    ...(vm.lock ? { lock: vm.lock } : {}),
  };
}

/** A row of `GET /nodes/{node}/qemu`. */
export const qemuListRow = (vm: SimVM) => guestStatus(vm);

/** `GET /nodes/{node}/qemu/{vmid}/status/current`. */
export function qemuStatusCurrent(vm: SimVM): Record<string, unknown> {
  const running = vm.status === 'running';
  return {
    ...guestStatus(vm),
    qmpstatus: vm.status,
    ha: { managed: 0 },
    ...(/^(1|enabled=1)/.test(vm.config.agent ?? '0') ? { agent: 1 } : {}),
    ...(vm.config.serial0 ? { serial: 1 } : {}),
    ...(running ? { 'running-machine': 'pc-i440fx-10.0+pve0', 'running-qemu': '10.0.2' } : {}),
  };
}

/** A guest's row of `GET /cluster/resources` (`maxcpu`, and `template` always as 0/1). */
export function clusterVmRow(vm: SimVM, now = Date.now()): Record<string, unknown> {
  const { cpus, pid: _pid, ...rest } = guestStatus(vm, now);
  return { id: `qemu/${vm.vmid}`, type: 'qemu', node: vm.node, ...rest, maxcpu: cpus, template: vm.template ? 1 : 0, ...(vm.pool ? { pool: vm.pool } : {}) };
}

/** A node's root file system: the `disk`/`maxdisk` of its rows and the `rootfs` of its status. */
const ROOTFS = { total: 100 * GiB, used: 9 * GiB };

/** The SHA-256 fingerprint of the node's certificate, colon-separated as pveproxy prints it. */
export function sslFingerprint(node: SimNode, certificate: string | undefined): string {
  if (certificate) return new X509Certificate(certificate).fingerprint256;
  return (createHash('sha256').update(`pve-ssl ${node.name}`).digest('hex').toUpperCase().match(/../g) ?? []).join(':');
}

/** A node's row of `GET /nodes` (`ssl_fingerprint`) or `/cluster/resources` (`cgroup-mode`). */
export function nodeRow(node: SimNode, use: { cpu: number; mem: number }, where: 'nodes' | 'resources', certificate: string | undefined): Record<string, unknown> {
  const common = {
    id: `node/${node.name}`,
    type: 'node',
    node: node.name,
    status: node.offline ? 'offline' : 'online',
    cpu: use.cpu,
    maxcpu: node.cpus,
    mem: use.mem,
    maxmem: node.memory,
    disk: ROOTFS.used,
    maxdisk: ROOTFS.total,
    uptime: 86400,
    level: '',
  };
  return where === 'nodes' ? { ...common, ssl_fingerprint: sslFingerprint(node, certificate) } : { ...common, 'cgroup-mode': 2 };
}

export const PVE_VERSION = { version: '9.0.6', release: '9.0', repoid: '49c767b70aeb6648' };
const KERNEL = { sysname: 'Linux', release: '6.14.11-1-pve', version: '#1 SMP PREEMPT_DYNAMIC PMX 6.14.11-1 (2025-08-26T16:06Z)', machine: 'x86_64' };

/** `GET /nodes/{node}/status`. */
export function nodeStatus(node: SimNode, use: { cpu: number; mem: number }): Record<string, unknown> {
  return {
    cpu: use.cpu,
    wait: 0,
    idle: 0,
    uptime: 86400,
    loadavg: [node.load.toFixed(2), (node.load * 0.9).toFixed(2), (node.load * 0.8).toFixed(2)],
    cpuinfo: {
      cpus: node.cpus,
      sockets: 2,
      cores: node.cpus / 2,
      model: 'Simulated CPU',
      mhz: '2400.000',
      hvm: '1',
      user_hz: 100,
      flags: 'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx lm constant_tsc svm',
    },
    memory: { total: node.memory, used: use.mem, free: node.memory - use.mem, available: node.memory - use.mem },
    swap: { total: 8 * GiB, used: 0, free: 8 * GiB },
    rootfs: { total: ROOTFS.total, used: ROOTFS.used, free: ROOTFS.total - ROOTFS.used, avail: ROOTFS.total - ROOTFS.used },
    ksm: { shared: 0 },
    pveversion: `pve-manager/${PVE_VERSION.version}/${PVE_VERSION.repoid}`,
    kversion: `${KERNEL.sysname} ${KERNEL.release} ${KERNEL.version}`,
    'current-kernel': KERNEL,
    'boot-info': { mode: 'efi', secureboot: 0 },
  };
}
