// Domain and volume XML, built and parsed with fast-xml-parser (never concatenated), with
// the ownership marker in <metadata>.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { DesiredDisk, DesiredNic, DesiredVM, ObservedDisk, ObservedNic, OwnerRef } from '../../controller/core/model.ts';
import { formatOwner, parseOwner } from '../provider.ts';

export const NS = 'https://virtkeeper.io/xmlns/libvirt/1';
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', format: true, suppressEmptyNode: true });
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => ['disk', 'interface', 'tag', 'channel'].includes(name) });

type X = Record<string, unknown>;
const asObj = (v: unknown): X => (v && typeof v === 'object' && !Array.isArray(v) ? (v as X) : {});
const asArr = (v: unknown): X[] => (Array.isArray(v) ? (v as X[]) : v ? [asObj(v)] : []);

export const BUS: Record<string, string> = { virtio: 'virtio', 'virtio-scsi': 'scsi', sata: 'sata', ide: 'ide' };
const PREFIX: Record<string, string> = { virtio: 'vd', scsi: 'sd', sata: 'sd', ide: 'hd' };

export function targetDev(bus: string, index: number): string {
  return `${PREFIX[bus] ?? 'vd'}${String.fromCharCode(97 + index)}`;
}

export function volumeName(vm: string, disk: string): string {
  return `${vm}-${disk}.qcow2`;
}

export function seedVolumeName(vm: string): string {
  return `${vm}-cidata.iso`;
}

export function diskXml(d: DesiredDisk, vmName: string, pool: string, index: number): X {
  const bus = BUS[d.interface] ?? 'virtio';
  return {
    '@type': 'volume', '@device': 'disk',
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
}

export function domainXml(s: DomainSpec): string {
  const { vm } = s;
  const vcpus = vm.cpu.sockets * vm.cpu.cores * vm.cpu.threads;
  const maxKiB = Math.ceil((vm.maxMemoryBytes ?? vm.memoryBytes) / 1024);
  return builder.build({
    domain: {
      '@type': s.type,
      name: vm.name,
      description: [formatOwner(vm.owner), ...Object.entries(vm.metadata).map(([k, v]) => `${k}: ${v}`), ...(vm.description ? [vm.description] : [])].join('\n'),
      metadata: { 'vk:owner': { '@xmlns:vk': NS, '#text': formatOwner(vm.owner) } },
      memory: { '@unit': 'KiB', '#text': String(maxKiB) },
      currentMemory: { '@unit': 'KiB', '#text': String(Math.ceil(vm.memoryBytes / 1024)) },
      vcpu: { '@placement': 'static', '@current': String(vcpus), '#text': String(Math.max(s.maxVcpus, vcpus)) },
      os: { type: { '@arch': 'x86_64', '#text': 'hvm' }, boot: { '@dev': 'hd' } },
      features: { acpi: '', apic: '' },
      on_poweroff: 'destroy', on_reboot: 'restart', on_crash: 'destroy',
      devices: {
        disk: [
          ...vm.disks.map((d, i) => diskXml(d, vm.name, d.storage ?? s.pool, vm.disks.slice(0, i).filter((x) => (BUS[x.interface] ?? 'virtio') === (BUS[d.interface] ?? 'virtio')).length)),
          ...(s.seedVolume ? [{ '@type': 'volume', '@device': 'cdrom', driver: { '@name': 'qemu', '@type': 'raw' }, source: { '@pool': s.pool, '@volume': s.seedVolume }, target: { '@dev': 'sdz', '@bus': 'sata' }, readonly: '' }] : []),
        ],
        ...(vm.nics.length ? { interface: vm.nics.map((n) => nicXml(n, s.bridge)) } : {}),
        ...(vm.guestAgent ? { channel: { '@type': 'unix', target: { '@type': 'virtio', '@name': 'org.qemu.guest_agent.0' } } } : {}),
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
}

export function parseDomain(xml: string): ParsedDomain {
  const d = asObj(asObj(parser.parse(xml)).domain);
  const meta = asObj(d.metadata);
  const ownerText = Object.entries(meta).map(([, v]) => (typeof v === 'string' ? v : String(asObj(v)['#text'] ?? ''))).join(' ');
  const owner = parseOwner(ownerText) ?? parseOwner(String(d.description ?? ''));
  const vcpu = d.vcpu;
  const vcpuMax = Number(typeof vcpu === 'object' ? asObj(vcpu)['#text'] : vcpu);
  const devices = asObj(d.devices);
  const all = asArr(devices.disk);
  const cdroms = all.filter((x) => x['@device'] === 'cdrom').map((x) => String(asObj(x.source)['@volume'] ?? '')).filter(Boolean);
  const disks = all
    .filter((x) => x['@device'] === 'disk')
    .map((x) => {
      const src = asObj(x.source);
      const tgt = asObj(x.target);
      const bus = String(tgt['@bus'] ?? 'virtio');
      return {
        name: String(tgt['@dev']), dev: String(tgt['@dev']), sizeBytes: 0, interface: bus === 'scsi' ? 'virtio-scsi' : bus,
        ...(src['@pool'] ? { pool: String(src['@pool']), storage: String(src['@pool']) } : {}), ...(src['@volume'] ? { volume: String(src['@volume']) } : {}), ...(src['@file'] ? { path: String(src['@file']) } : {}),
      };
    });
  const nics = asArr(devices.interface).map((x, i) => {
    const tag = asArr(asObj(x.vlan).tag)[0];
    return {
      name: `net${i}`, ...(asObj(x.mac)['@address'] ? { mac: String(asObj(x.mac)['@address']).toLowerCase() } : {}),
      ...(asObj(x.source)['@bridge'] || asObj(x.source)['@network'] ? { network: String(asObj(x.source)['@bridge'] ?? asObj(x.source)['@network']) } : {}),
      ...(tag ? { vlan: Number(tag['@id']) } : {}), ...(asObj(x.model)['@type'] ? { model: String(asObj(x.model)['@type']) } : {}),
    };
  });
  const guestAgent = asArr(devices.channel).some((x) => asObj(x.target)['@name'] === 'org.qemu.guest_agent.0');
  return {
    name: String(d.name), uuid: String(d.uuid), ...(owner ? { owner } : {}), guestAgent,
    maxMemoryKiB: Number(asObj(d.memory)['#text'] ?? d.memory), currentMemoryKiB: Number(asObj(d.currentMemory)['#text'] ?? d.currentMemory),
    vcpuMax, vcpuCurrent: Number(typeof vcpu === 'object' ? asObj(vcpu)['@current'] ?? vcpuMax : vcpuMax), disks, nics, cdroms,
  };
}
