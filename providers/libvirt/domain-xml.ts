// Domain and volume XML, built and parsed with fast-xml-parser (never concatenated), with
// the ownership marker in <metadata>.
import { randomBytes } from 'node:crypto';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { DesiredDisk, DesiredNic, DesiredVM, ObservedDisk, ObservedNic, OwnerRef } from '../../controller/core/model.ts';
import { formatOwner, parseOwner } from '../../controller/core/provider.ts';

export const NS = 'https://virtkeeper.io/xmlns/libvirt/1';
/** The domain's record of the volumes it owns (its own namespace: libvirt's setMetadata replaces one element per namespace). */
export const VOLUMES_NS = 'https://virtkeeper.io/xmlns/libvirt/volumes/1';
export const VOLUMES_KEY = 'vkv';
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', format: true, suppressEmptyNode: true });
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  isArray: (name) => ['disk', 'interface', 'tag', 'channel', 'volume'].includes(name) || name.endsWith(':volume'),
});

type X = Record<string, unknown>;
const asObj = (v: unknown): X => (v && typeof v === 'object' && !Array.isArray(v) ? (v as X) : {});
const asArr = (v: unknown): X[] => (Array.isArray(v) ? (v as X[]) : v ? [asObj(v)] : []);

export const BUS: Record<string, string> = { virtio: 'virtio', 'virtio-scsi': 'scsi', sata: 'sata', ide: 'ide' };
const PREFIX: Record<string, string> = { virtio: 'vd', scsi: 'sd', sata: 'sd', ide: 'hd' };

export function targetDev(bus: string, index: number): string {
  return `${PREFIX[bus] ?? 'vd'}${String.fromCharCode(97 + index)}`;
}

/** A name part with `.`, `/` and `%` escaped: the parts of a volume name are then told apart by their dots. */
const part = (s: string) => s.replace(/[%./]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** `<vm>.<disk>.qcow2`: VM `web` disk `1-root` and VM `web-1` disk `root` never share a name. */
export function volumeName(vm: string, disk: string): string {
  return `${part(vm)}.${part(disk)}.qcow2`;
}

export function seedVolumeName(vm: string): string {
  return `${part(vm)}.cidata.iso`;
}

/** A volume a domain owns: its record lists it, and only those are ever deleted with it. */
export interface OwnedVolume {
  pool: string;
  name: string;
}

/** The record as setMetadata takes it (the namespace and prefix go as arguments). */
export function volumesRecordXml(owned: OwnedVolume[], creating = false): string {
  return builder.build({ volumes: { ...(creating ? { '@creating': '1' } : {}), volume: owned.map((v) => ({ '@pool': v.pool, '@name': v.name })) } }) as string;
}

/** The volumes a new domain's creation makes: its disks and its seed. */
export function ownedVolumes(s: DomainSpec): OwnedVolume[] {
  return [...s.vm.disks.map((d) => ({ pool: d.storage ?? s.pool, name: volumeName(s.vm.name, d.name) })), ...(s.seedVolume ? [{ pool: s.pool, name: s.seedVolume }] : [])];
}

export function diskXml(d: DesiredDisk, vmName: string, pool: string, index: number): X {
  const bus = BUS[d.interface] ?? 'virtio';
  return {
    '@type': 'volume',
    '@device': 'disk',
    driver: { '@name': 'qemu', '@type': d.format ?? 'qcow2', '@cache': 'none' },
    source: { '@pool': pool, '@volume': volumeName(vmName, d.name) },
    target: { '@dev': targetDev(bus, index), '@bus': bus },
  };
}

export function nicXml(n: DesiredNic, defaultBridge: string): X {
  if (n.virtualNetwork && n.network) {
    return { '@type': 'network', ...(n.mac ? { mac: { '@address': n.mac } } : {}), source: { '@network': n.network }, model: { '@type': n.model === 'virtio' ? 'virtio' : n.model } };
  }
  return {
    '@type': 'bridge',
    ...(n.mac ? { mac: { '@address': n.mac } } : {}),
    source: { '@bridge': n.network ?? defaultBridge },
    ...(n.vlan ? { vlan: { tag: [{ '@id': String(n.vlan) }] } } : {}),
    model: { '@type': n.model === 'virtio' ? 'virtio' : n.model },
  };
}

/** Our marker element as setMetadata takes it (namespace NS, prefix `vk`). */
export function ownerElementXml(owner: OwnerRef): string {
  return builder.build({ owner: formatOwner(owner) }) as string;
}

export function deviceXml(root: 'disk' | 'interface', body: X): string {
  return builder.build({ [root]: body }) as string;
}

export interface DomainSpec {
  vm: DesiredVM;
  /** The cloud-init seed volume, attached as a read-only CD-ROM. */
  seedVolume?: string;
  type: 'kvm' | 'qemu';
  pool: string;
  bridge: string;
  maxVcpus: number;
  /** Fixed before the first define, so the domain is redefined (not made twice) when the create finishes. */
  uuid?: string;
  /** The create has not finished: the record says so until every volume it lists exists. */
  creating?: boolean;
}

export function domainXml(s: DomainSpec): string {
  const { vm } = s;
  const vcpus = vm.cpu.sockets * vm.cpu.cores * vm.cpu.threads;
  const maxKiB = Math.ceil((vm.maxMemoryBytes ?? vm.memoryBytes) / 1024);
  return builder.build({
    domain: {
      '@type': s.type,
      name: vm.name,
      ...(s.uuid ? { uuid: s.uuid } : {}),
      description: [formatOwner(vm.owner), ...Object.entries(vm.metadata).map(([k, v]) => `${k}: ${v}`), ...(vm.description ? [vm.description] : [])].join('\n'),
      metadata: {
        'vk:owner': { '@xmlns:vk': NS, '#text': formatOwner(vm.owner) },
        [`${VOLUMES_KEY}:volumes`]: { [`@xmlns:${VOLUMES_KEY}`]: VOLUMES_NS, ...(s.creating ? { '@creating': '1' } : {}), volume: ownedVolumes(s).map((v) => ({ '@pool': v.pool, '@name': v.name })) },
      },
      memory: { '@unit': 'KiB', '#text': String(maxKiB) },
      currentMemory: { '@unit': 'KiB', '#text': String(Math.ceil(vm.memoryBytes / 1024)) },
      vcpu: { '@placement': 'static', '@current': String(vcpus), '#text': String(Math.max(s.maxVcpus, vcpus)) },
      os: { type: { '@arch': 'x86_64', '#text': 'hvm' }, boot: { '@dev': 'hd' } },
      features: { acpi: '', apic: '' },
      on_poweroff: 'destroy',
      on_reboot: 'restart',
      on_crash: 'destroy',
      devices: {
        disk: [
          ...vm.disks.map((d, i) => diskXml(d, vm.name, d.storage ?? s.pool, vm.disks.slice(0, i).filter((x) => (BUS[x.interface] ?? 'virtio') === (BUS[d.interface] ?? 'virtio')).length)),
          ...(s.seedVolume
            ? [
                {
                  '@type': 'volume',
                  '@device': 'cdrom',
                  driver: { '@name': 'qemu', '@type': 'raw' },
                  source: { '@pool': s.pool, '@volume': s.seedVolume },
                  target: { '@dev': 'sdz', '@bus': 'sata' },
                  readonly: '',
                },
              ]
            : []),
        ],
        ...(vm.nics.length ? { interface: vm.nics.map((n) => nicXml(n, s.bridge)) } : {}),
        ...(vm.guestAgent ? { channel: { '@type': 'unix', target: { '@type': 'virtio', '@name': 'org.qemu.guest_agent.0' } } } : {}),
        // A VNC display on the host's loopback, locked by a password no one knows until a console ticket sets one (consoles.ts).
        graphics: { '@type': 'vnc', '@port': '-1', '@autoport': 'yes', '@listen': '127.0.0.1', '@passwd': randomBytes(12).toString('base64url').slice(0, 8) },
        memballoon: { '@model': 'virtio' },
        serial: { '@type': 'pty' },
        console: { '@type': 'pty' },
      },
    },
  }) as string;
}

export function volumeXml(name: string, bytes: number, backing?: { path: string; format: string }, format = 'qcow2'): string {
  return builder.build({
    volume: {
      name,
      capacity: { '@unit': 'bytes', '#text': String(bytes) },
      target: { format: { '@type': format } },
      ...(backing ? { backingStore: { path: backing.path, format: { '@type': backing.format } } } : {}),
    },
  }) as string;
}

export interface ParsedDomain {
  name: string;
  uuid: string;
  owner?: OwnerRef;
  maxMemoryKiB: number;
  currentMemoryKiB: number;
  vcpuMax: number;
  vcpuCurrent: number;
  disks: (ObservedDisk & { dev: string; pool?: string; volume?: string; path?: string })[];
  nics: ObservedNic[];
  /** Volumes attached as CD-ROMs (the cloud-init seed). */
  cdroms: string[];
  /** Whether the domain has the QEMU guest agent's channel. */
  guestAgent: boolean;
  /** The volumes the domain's record says it owns; undefined for a domain made before the record existed. */
  owned?: OwnedVolume[];
  /** The record says the create has not finished. */
  creating: boolean;
}

/** The volumes record, found by its namespace whatever prefix libvirt kept; children come prefixed or not. */
function parseRecord(meta: X): { owned?: OwnedVolume[]; creating: boolean } {
  for (const [key, value] of Object.entries(meta)) {
    const el = asObj(value);
    const prefix = key.includes(':') ? key.slice(0, key.indexOf(':')) : '';
    if (el[prefix ? `@xmlns:${prefix}` : '@xmlns'] !== VOLUMES_NS) continue;
    const items = [...asArr(el.volume), ...(prefix ? asArr(el[`${prefix}:volume`]) : [])];
    return { owned: items.map((v) => ({ pool: String(v['@pool'] ?? ''), name: String(v['@name'] ?? '') })).filter((v) => v.pool && v.name), creating: el['@creating'] === '1' };
  }
  return { creating: false };
}

export function parseDomain(xml: string): ParsedDomain {
  const d = asObj(asObj(parser.parse(xml)).domain);
  const meta = asObj(d.metadata);
  const record = parseRecord(meta);
  const ownerText = Object.entries(meta)
    .map(([, v]) => (typeof v === 'string' ? v : String(asObj(v)['#text'] ?? '')))
    .join(' ');
  const owner = parseOwner(ownerText) ?? parseOwner(String(d.description ?? ''));
  const vcpu = d.vcpu;
  const vcpuMax = Number(typeof vcpu === 'object' ? asObj(vcpu)['#text'] : vcpu);
  const devices = asObj(d.devices);
  const all = asArr(devices.disk);
  const cdroms = all
    .filter((x) => x['@device'] === 'cdrom')
    .map((x) => String(asObj(x.source)['@volume'] ?? ''))
    .filter(Boolean);
  const disks = all
    .filter((x) => x['@device'] === 'disk')
    .map((x) => {
      const src = asObj(x.source);
      const tgt = asObj(x.target);
      const bus = String(tgt['@bus'] ?? 'virtio');
      return {
        name: String(tgt['@dev']),
        dev: String(tgt['@dev']),
        sizeBytes: 0,
        interface: bus === 'scsi' ? 'virtio-scsi' : bus,
        ...(src['@pool'] ? { pool: String(src['@pool']), storage: String(src['@pool']) } : {}),
        ...(src['@volume'] ? { volume: String(src['@volume']) } : {}),
        ...(src['@file'] ? { path: String(src['@file']) } : {}),
      };
    });
  const nics = asArr(devices.interface).map((x, i) => {
    const tag = asArr(asObj(x.vlan).tag)[0];
    return {
      name: `net${i}`,
      ...(asObj(x.mac)['@address'] ? { mac: String(asObj(x.mac)['@address']).toLowerCase() } : {}),
      ...(asObj(x.source)['@bridge'] || asObj(x.source)['@network'] ? { network: String(asObj(x.source)['@bridge'] ?? asObj(x.source)['@network']) } : {}),
      ...(tag ? { vlan: Number(tag['@id']) } : {}),
      ...(asObj(x.model)['@type'] ? { model: String(asObj(x.model)['@type']) } : {}),
    };
  });
  const guestAgent = asArr(devices.channel).some((x) => asObj(x.target)['@name'] === 'org.qemu.guest_agent.0');
  return {
    name: String(d.name),
    uuid: String(d.uuid),
    ...(owner ? { owner } : {}),
    guestAgent,
    ...(record.owned ? { owned: record.owned } : {}),
    creating: record.creating,
    maxMemoryKiB: Number(asObj(d.memory)['#text'] ?? d.memory),
    currentMemoryKiB: Number(asObj(d.currentMemory)['#text'] ?? d.currentMemory),
    vcpuMax,
    vcpuCurrent: Number(typeof vcpu === 'object' ? (asObj(vcpu)['@current'] ?? vcpuMax) : vcpuMax),
    disks,
    nics,
    cdroms,
  };
}
