// Pure mapping between Proxmox's API shapes and the neutral model: rows of
// /cluster/resources + a guest's config → ObservedVM; DesiredVM → config parameters.
import type { DesiredNic, DesiredVM, ObservedDisk, ObservedNic, ObservedNode, ObservedVM, PowerState } from '../../controller/core/model.ts';
import { sanitizeTag } from '../../controller/core/desired.ts';
import { ProviderInvalidError } from '../../controller/core/errors.ts';
import { formatOwner, isAdopted, parseOwner } from '../../controller/core/provider.ts';
import { usageOf, type UsageRow } from './usage.ts';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export interface ResourceRow extends UsageRow {
  id: string;
  type: string;
  vmid?: number;
  name?: string;
  node: string;
  status?: string;
  maxcpu?: number;
  maxmem?: number;
  maxdisk?: number;
  mem?: number;
  template?: number;
  tags?: string;
  lock?: string;
  pool?: string;
  uptime?: number;
  cpu?: number;
}

/** One row of `GET …/pending`: the current value, and what waits for a restart. */
export interface PendingRow {
  key: string;
  value?: string | number;
  pending?: string | number;
  delete?: number;
}

export const MAX_MEMORY_LINE = 'virtkeeper.io/max-memory=';
const MAX_MEMORY = new RegExp(`${MAX_MEMORY_LINE.replace(/\./g, '\\.')}(\\d+)`);

/**
 * The fields of a row whose change means the guest's config must be read again. The power state
 * is not one: starting or stopping leaves the config as it was, unless changes were staged (the
 * cache keeps the status and re-reads a guest with staged changes whose status moved).
 */
export function rowSignature(r: ResourceRow): string {
  return [r.maxcpu, r.maxmem, r.maxdisk, r.tags ?? '', r.lock ?? '', r.node, r.name ?? '', r.template ?? 0, r.pool ?? ''].join('|');
}

export function configFromPending(rows: readonly PendingRow[]): { config: Record<string, string>; pending: boolean; staged: Record<string, string> } {
  const config: Record<string, string> = {};
  const staged: Record<string, string> = {};
  let pending = false;
  for (const r of rows) {
    if (r.value !== undefined) config[r.key] = String(r.value);
    if (r.pending !== undefined) staged[r.key] = String(r.pending);
    if (r.pending !== undefined || r.delete) pending = true;
  }
  return { config, pending, staged };
}

const BUS_RANK: Record<string, number> = { scsi: 0, virtio: 1, sata: 2, ide: 3 };
const DISK = /^(scsi|virtio|sata|ide)(\d+)$/;

export function parseSize(entry: string): number {
  const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)/.exec(entry);
  if (!m) return 0;
  return Math.round(Number(m[1]) * { '': 1, K: 2 ** 10, M: MiB, G: GiB, T: 2 ** 40 }[m[2] as '' | 'K' | 'M' | 'G' | 'T']);
}

const DISK_LINE = 'virtkeeper.io/disk=';

export function dataDisks(config: Record<string, string>): ObservedDisk[] {
  // VirtualDisks on this VM: named vkdisk-… when made, or listed in the description after a move.
  const text = config.description ?? '';
  const listed = new Set(
    text.includes(DISK_LINE)
      ? text
          .split('\n')
          .filter((l) => l.startsWith(DISK_LINE))
          .map((l) => l.slice(DISK_LINE.length).split(' ')[0] ?? '')
      : [],
  );
  // One pass over the keys, no array of entries: observation maps every guest of a fleet each pass.
  const found: { rank: number; disk: ObservedDisk }[] = [];
  for (const k in config) {
    const m = DISK.exec(k);
    const v = config[k];
    if (!m || v === undefined || v.includes('media=cdrom') || v.includes('cloudinit')) continue;
    const bus = m[1] as string;
    const id = v.split(',')[0] ?? '';
    found.push({
      rank: (BUS_RANK[bus] ?? 9) * 1000 + Number(m[2]),
      disk: {
        name: k,
        id,
        sizeBytes: parseSize(v),
        storage: v.split(':')[0] ?? '',
        interface: bus === 'scsi' ? 'virtio-scsi' : bus,
        ...(id.includes('vkdisk-') || listed.has(id) ? { standalone: true } : {}),
      },
    });
  }
  return found.sort((a, b) => a.rank - b.rank).map((x) => x.disk);
}

export function parseNic(key: string, value: string): ObservedNic {
  const parts = value.split(',');
  const [modelPart] = parts;
  const [model, mac] = (modelPart ?? '').split('=');
  const kv = Object.fromEntries(parts.slice(1).map((p) => p.split('=') as [string, string]));
  return { name: key, ...(model ? { model } : {}), ...(mac ? { mac: mac.toLowerCase() } : {}), ...(kv.bridge ? { network: kv.bridge } : {}), ...(kv.tag ? { vlan: Number(kv.tag) } : {}) };
}

const NIC = /^net\d+$/;

export function nics(config: Record<string, string>): ObservedNic[] {
  const keys: string[] = [];
  for (const k in config) if (NIC.test(k)) keys.push(k);
  return keys.sort((a, b) => Number(a.slice(3)) - Number(b.slice(3))).map((k) => parseNic(k, config[k] ?? ''));
}

function power(status: string | undefined): PowerState {
  return status === 'running' ? 'running' : status === 'stopped' ? 'stopped' : status === 'paused' ? 'paused' : 'unknown';
}

export function toObservedVM(row: ResourceRow, detail: { config: Record<string, string>; pending: boolean; staged?: Record<string, string> } | undefined, ipAddresses: string[]): ObservedVM {
  const config = detail?.config ?? {};
  const description = config.description ?? '';
  const maxMem = MAX_MEMORY.exec(description)?.[1];
  const owner = parseOwner(description);
  const sockets = Number(config.sockets ?? 1);
  const cores = Number(config.cores ?? (row.maxcpu ?? 1) / sockets);
  const vm: ObservedVM = {
    providerID: row.id,
    name: row.name ?? config.name ?? `VM ${row.vmid}`,
    node: row.node,
    power: power(row.status),
    cpu: { sockets, cores, threads: 1 },
    memoryBytes: config.memory ? Number(config.memory) * MiB : (row.maxmem ?? 0),
    disks: dataDisks(config),
    nics: nics(config),
    isTemplate: row.template === 1,
    ipAddresses,
    pendingRestart: detail?.pending ?? false,
    tags: (row.tags ?? '').split(/[;,\s]+/).filter(Boolean),
  };
  if (maxMem) vm.maxMemoryBytes = Number(maxMem);
  const st = detail?.staged ?? {};
  if (st.sockets || st.cores || st.memory) {
    vm.pending = {
      ...(st.sockets || st.cores ? { cpu: { sockets: Number(st.sockets ?? sockets), cores: Number(st.cores ?? cores), threads: 1 } } : {}),
      ...(st.memory ? { memoryBytes: Number(st.memory) * MiB } : {}),
    };
  }
  if (owner) vm.owner = owner;
  if (owner && isAdopted(description)) vm.adopted = true;
  if (config.onboot !== undefined) vm.autostart = config.onboot === '1';
  else if (detail) vm.autostart = false;
  if (row.lock) vm.busy = row.lock;
  const usage = usageOf(row);
  if (usage) vm.usage = usage;
  return vm;
}

export function toObservedNode(row: ResourceRow & { maxcpu?: number }, vms: number): ObservedNode {
  return {
    name: row.node,
    state: row.status === 'online' ? 'online' : row.status === 'offline' ? 'offline' : 'unknown',
    ...(row.maxcpu !== undefined ? { cpus: row.maxcpu } : {}),
    ...(row.cpu !== undefined ? { cpuUsage: row.cpu } : {}),
    ...(row.maxmem !== undefined ? { memoryBytes: row.maxmem } : {}),
    ...(row.mem !== undefined ? { memoryUsedBytes: row.mem } : {}),
    vms,
  };
}

/** The description: the ownership marker first, then the ceiling and request metadata. */
export function description(vm: DesiredVM): string {
  return [
    formatOwner(vm.owner),
    ...(vm.maxMemoryBytes ? [`${MAX_MEMORY_LINE}${vm.maxMemoryBytes}`] : []),
    ...Object.entries(vm.metadata).map(([k, v]) => `${k}: ${v}`),
    ...(vm.description ? ['', vm.description] : []),
  ].join('\n');
}

export function tags(vm: DesiredVM): string {
  return ['virtkeeper', ...vm.tags.map(sanitizeTag)].filter((t, i, a) => a.indexOf(t) === i).join(';');
}

/** One part of a property string: a bare leading value (`local-lvm:10`), or a key and its value (skipped when undefined). */
export type PropertyPart = string | readonly [key: string, value: string | number | undefined];

const PROPERTY_KEY = /^[a-z][a-z0-9_-]*$/i;
// `,` starts another property, `=` makes a bare value a key, a control character (a newline) another config line.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this matches
const PROPERTY_META = /[,=\x00-\x1f]/;

/**
 * The one place a Proxmox property string (`virtio=AA:…,bridge=vmbr0,tag=5`) is built. A value
 * with a metacharacter would add properties of its own (`bridge=vmbr0,firewall=0`): validation
 * refuses such names first, and this refuses them again at the depth where they would do harm.
 */
export function propertyString(parts: readonly PropertyPart[]): string {
  const out: string[] = [];
  for (const part of parts) {
    if (typeof part === 'string') {
      if (part === '' || PROPERTY_META.test(part))
        throw new ProviderInvalidError(`${JSON.stringify(part)} cannot go into a Proxmox property string: it is empty or holds ",", "=" or a control character`);
      out.push(part);
      continue;
    }
    const [key, raw] = part;
    if (raw === undefined) continue;
    const value = String(raw);
    if (!PROPERTY_KEY.test(key)) throw new ProviderInvalidError(`${JSON.stringify(key)} is not a Proxmox property name`);
    if (value === '' || PROPERTY_META.test(value))
      throw new ProviderInvalidError(`${key}=${JSON.stringify(value)} cannot go into a Proxmox property string: the value is empty or holds ",", "=" or a control character`);
    out.push(`${key}=${value}`);
  }
  return out.join(',');
}

export function nicValue(n: DesiredNic, keepMac?: string): string {
  const mac = n.mac ?? keepMac;
  return propertyString([mac ? [n.model, mac.toUpperCase()] : n.model, ['bridge', n.network ?? 'vmbr0'], ['tag', n.vlan || undefined]]);
}

export function ipconfig(n: DesiredNic): string | undefined {
  if (!n.ipv4) return undefined;
  return propertyString([
    ['ip', n.ipv4.address],
    ['gw', n.ipv4.gateway],
  ]);
}

/** A new disk on a storage: `local-lvm:10,format=qcow2` (size in GiB), or an import (`local-lvm:0,import-from=…`). */
export function diskValue(storage: string, sizeGiB: number, extra: { format?: string; importFrom?: string } = {}): string {
  return propertyString([`${storage}:${sizeGiB}`, ['format', extra.format], ['import-from', extra.importFrom]]);
}

/** Proxmox wants sshkeys URL-encoded (spaces as %20) before the form encoding of the request. */
export function encodeSshKeys(keys: readonly string[]): string {
  return encodeURIComponent(keys.join('\n'));
}

export const BUS: Record<string, string> = { virtio: 'virtio', 'virtio-scsi': 'scsi', sata: 'sata', ide: 'ide' };

/** The configuration a new VM gets after its clone (or with its create). */
export function configParams(vm: DesiredVM): Record<string, string> {
  const p: Record<string, string> = {
    name: vm.name,
    sockets: String(vm.cpu.sockets),
    cores: String(vm.cpu.cores * vm.cpu.threads),
    memory: String(Math.ceil(vm.memoryBytes / MiB)),
    numa: '1',
    hotplug: 'network,disk,usb,memory,cpu',
    agent: vm.guestAgent ? '1' : '0',
    tags: tags(vm),
    description: description(vm),
  };
  if (vm.autostart !== undefined) p.onboot = vm.autostart ? '1' : '0';
  vm.nics.forEach((n, i) => {
    p[`net${i}`] = nicValue(n);
    const ip = ipconfig(n);
    if (ip) p[`ipconfig${i}`] = ip;
  });
  const ci = vm.cloudInit;
  const dns = [...(ci?.dnsServers ?? []), ...vm.nics.flatMap((n) => n.dnsServers ?? [])];
  if (dns.length > 0) p.nameserver = [...new Set(dns)].join(' ');
  if (ci?.dnsSearch?.length) p.searchdomain = ci.dnsSearch.join(' ');
  if (ci?.user) p.ciuser = ci.user;
  if (ci?.sshAuthorizedKeys?.length) p.sshkeys = encodeSshKeys(ci.sshAuthorizedKeys);
  return p;
}
