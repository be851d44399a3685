// What a client reads from the simulator is what a 4.5 engine sends: the attributes of the API
// model with their types, in JSON (numbers and booleans as strings) and XML (ids as attributes),
// links that answer, and `follow` that inlines what it names. The official SDK reads the same.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';

type J = Record<string, unknown>;
let sim: RunningOvirtSimulator;
const GiB = 2 ** 30;
const auth = () => `Basic ${Buffer.from(`${sim.credentials.username}:${sim.credentials.password}`).toString('base64')}`;
const root = () => sim.url.replace('/ovirt-engine/api', '');
async function json(path: string, method = 'GET', body?: unknown): Promise<J> {
  const r = await fetch(path.startsWith('/ovirt-engine') ? `${root()}${path}` : `${sim.url}${path}`, {
    method,
    headers: { authorization: auth(), accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  expect(r.status, `${method} ${path}`).toBeLessThan(300);
  const text = await r.text();
  return (text ? JSON.parse(text) : {}) as J;
}
const xmlParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false });
async function xml(path: string): Promise<J> {
  const r = await fetch(`${sim.url}${path}`, { headers: { authorization: auth() } });
  expect(r.status, path).toBe(200);
  return xmlParser.parse(await r.text()) as J;
}
const at = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (Array.isArray(v) ? (v as unknown[])[Number(k)] : (v as J)[k]) : undefined), o);
const waitFor = async (fn: () => Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await fn()); i++) await new Promise((r) => setTimeout(r, 20));
};

let up: J;
let stopped: J;
const ids: Record<string, string> = {};

beforeAll(async () => {
  sim = await startOvirtSimulator({ name: 'repr', hosts: 2, templates: ['centos-9'], imageCopyMs: 30, bootStepMs: 10 });
  await json('/networks', 'POST', { name: 'vlan120', data_center: { name: 'Default' }, vlan: { id: 120 } });
  for (const name of ['repr-up', 'repr-stopped']) {
    const vm = await json('/vms', 'POST', { name, cluster: { name: 'Default' }, template: { name: 'centos-9' }, memory: 2 * GiB });
    ids[name] = String(vm.id);
    await waitFor(async () => (await json(`/vms/${String(vm.id)}`)).status === 'down');
    await json(`/vms/${String(vm.id)}/start`, 'POST', {});
    await waitFor(async () => (await json(`/vms/${String(vm.id)}`)).status === 'up');
  }
  await json(`/vms/${ids['repr-stopped']}/stop`, 'POST', { reason: 'maintenance window' });
  await waitFor(async () => (await json(`/vms/${ids['repr-stopped']}`)).status === 'down');
  up = await json(`/vms/${ids['repr-up']}`);
  stopped = await json(`/vms/${ids['repr-stopped']}`);
});
afterAll(() => sim.close());

// Kinds: int and bool are strings in JSON as engines send them; time is epoch ms; enum is one of the model's values.
type Kind = 'int' | 'bool' | 'string' | 'time' | 'link' | string[];
const check = (o: unknown, path: string, kind: Kind) => {
  const v = at(o, path);
  if (kind === 'int') expect(v, path).toMatch(/^-?\d+$/);
  else if (kind === 'bool') expect(['true', 'false'], path).toContain(v);
  else if (kind === 'string') expect(typeof v, path).toBe('string');
  else if (kind === 'time') expect(typeof v, path).toBe('number');
  else if (kind === 'link') expect(v, path).toMatchObject({ id: expect.any(String), href: expect.stringMatching(/^\/ovirt-engine\/api\//) });
  else expect(kind, `${path} = ${String(v)}`).toContain(v);
};

const VM: [string, Kind][] = [
  ['status', ['up', 'down']],
  ['type', ['server', 'desktop', 'high_performance']],
  ['memory', 'int'],
  ['memory_policy.guaranteed', 'int'],
  ['memory_policy.max', 'int'],
  ['memory_policy.ballooning', 'bool'],
  ['cpu.topology.sockets', 'int'],
  ['cpu.topology.cores', 'int'],
  ['cpu.architecture', ['x86_64']],
  ['cpu_shares', 'int'],
  ['bios.type', ['q35_ovmf', 'q35_sea_bios', 'i440fx_sea_bios', 'q35_secure_boot', 'cluster_default']],
  ['bios.boot_menu.enabled', 'bool'],
  ['os.type', 'string'],
  ['os.boot.devices.device.0', ['hd', 'network', 'cdrom']],
  ['display.type', ['vnc', 'spice']],
  ['display.monitors', 'int'],
  ['display.smartcard_enabled', 'bool'],
  ['high_availability.enabled', 'bool'],
  ['high_availability.priority', 'int'],
  ['migration.auto_converge', ['true', 'false', 'inherit']],
  ['migration.compressed', ['true', 'false', 'inherit']],
  ['io.threads', 'int'],
  ['usb.enabled', 'bool'],
  ['console.enabled', 'bool'],
  ['sso.methods.method.0.id', ['guest_agent']],
  ['placement_policy.affinity', ['migratable', 'user_migratable', 'pinned']],
  ['stateless', 'bool'],
  ['delete_protected', 'bool'],
  ['next_run_configuration_exists', 'bool'],
  ['creation_time', 'time'],
  ['origin', 'string'],
  ['storage_error_resume_behaviour', ['auto_resume', 'leave_paused', 'kill']],
  ['cluster', 'link'],
  ['template', 'link'],
  ['original_template', 'link'],
  ['cpu_profile', 'link'],
];

describe('representations (JSON), typed as the API model says', () => {
  it('vm: running and stopped', () => {
    for (const [path, kind] of VM) {
      check(up, path, kind);
      check(stopped, path, kind);
    }
    check(up, 'host', 'link');
    check(up, 'start_time', 'time');
    check(up, 'display.port', 'int');
    check(stopped, 'stop_time', 'time');
    expect(stopped.stop_reason).toBe('maintenance window');
    expect(Number(stopped.stop_time)).toBeGreaterThanOrEqual(Number(up.start_time));
    expect(stopped.host).toBeUndefined();
  });

  it.each([
    [
      '/hosts',
      'host',
      [
        ['status', ['up', 'maintenance']],
        ['address', 'string'],
        ['port', 'int'],
        ['type', ['rhel', 'ovirt_node', 'rhev_h']],
        ['spm.status', ['spm', 'none', 'contending']],
        ['spm.priority', 'int'],
        ['version.major', 'int'],
        ['version.full_version', 'string'],
        ['libvirt_version.major', 'int'],
        ['os.type', 'string'],
        ['memory', 'int'],
        ['max_scheduling_memory', 'int'],
        ['cpu.topology.cores', 'int'],
        ['cpu.name', 'string'],
        ['summary.total', 'int'],
        ['ksm.enabled', 'bool'],
        ['kdump_status', ['disabled', 'enabled', 'unknown']],
        ['se_linux.mode', ['enforcing', 'permissive', 'disabled']],
        ['cluster', 'link'],
        ['external_status', ['ok']],
      ],
    ],
    [
      '/clusters',
      'cluster',
      [
        ['version.major', 'int'],
        ['version.minor', 'int'],
        ['cpu.architecture', ['x86_64']],
        ['cpu.type', 'string'],
        ['memory_policy.over_commit.percent', 'int'],
        ['ballooning_enabled', 'bool'],
        ['ksm.enabled', 'bool'],
        ['error_handling.on_error', ['migrate', 'do_not_migrate', 'migrate_highly_available']],
        ['bios_type', ['q35_ovmf']],
        ['firewall_type', ['firewalld', 'iptables']],
        ['switch_type', ['legacy', 'ovs']],
        ['migration.auto_converge', ['true', 'false', 'inherit']],
        ['data_center', 'link'],
        ['scheduling_policy', 'link'],
        ['mac_pool', 'link'],
        ['management_network', 'link'],
      ],
    ],
    [
      '/datacenters',
      'data_center',
      [
        ['status', ['up']],
        ['local', 'bool'],
        ['storage_format', ['v5']],
        ['version.major', 'int'],
        ['version.minor', 'int'],
        ['quota_mode', ['disabled', 'enabled', 'audit']],
        ['mac_pool', 'link'],
      ],
    ],
    [
      '/storagedomains',
      'storage_domain',
      [
        ['type', ['data', 'iso', 'export', 'image', 'volume', 'managed_block_storage']],
        ['master', 'bool'],
        ['available', 'int'],
        ['used', 'int'],
        ['committed', 'int'],
        ['storage.type', ['nfs']],
        ['storage.address', 'string'],
        ['storage.path', 'string'],
        ['storage_format', ['v5']],
        ['block_size', 'int'],
        ['wipe_after_delete', 'bool'],
        ['data_centers.data_center.0', 'link'],
        ['external_status', ['ok']],
      ],
    ],
    [
      '/networks',
      'network',
      [
        ['mtu', 'int'],
        ['stp', 'bool'],
        ['usages.usage.0', ['management', 'vm', 'display', 'migration', 'gluster', 'default_route']],
        ['data_center', 'link'],
        ['port_isolation', 'bool'],
      ],
    ],
    [
      '/vnicprofiles',
      'vnic_profile',
      [
        ['port_mirroring', 'bool'],
        ['pass_through.mode', ['disabled', 'enabled']],
        ['network', 'link'],
        ['network_filter', 'link'],
      ],
    ],
    [
      '/templates',
      'template',
      [
        ['status', ['ok', 'locked', 'illegal']],
        ['version.version_number', 'int'],
        ['version.version_name', 'string'],
        ['version.base_template', 'link'],
        ['memory', 'int'],
        ['cpu.topology.cores', 'int'],
        ['bios.type', ['q35_ovmf']],
        ['display.type', ['vnc', 'spice']],
        ['os.type', 'string'],
        ['creation_time', 'time'],
      ],
    ],
    [
      '/disks',
      'disk',
      [
        ['provisioned_size', 'int'],
        ['actual_size', 'int'],
        ['total_size', 'int'],
        ['status', ['ok', 'locked', 'illegal']],
        ['format', ['cow', 'raw']],
        ['qcow_version', ['qcow2_v3', 'qcow2_v2']],
        ['sparse', 'bool'],
        ['shareable', 'bool'],
        ['wipe_after_delete', 'bool'],
        ['propagate_errors', 'bool'],
        ['storage_type', ['image', 'lun', 'cinder', 'managed_block_storage']],
        ['content_type', ['data']],
        ['alias', 'string'],
        ['storage_domains.storage_domain.0', 'link'],
        ['disk_profile', 'link'],
      ],
    ],
    [
      '/events',
      'event',
      [
        ['index', 'int'],
        ['code', 'int'],
        ['severity', ['normal', 'warning', 'error', 'alert']],
        ['time', 'time'],
        ['origin', 'string'],
        ['custom_id', 'int'],
        ['flood_rate', 'int'],
        ['log_on_host', 'bool'],
        ['user', 'link'],
        ['vm', 'link'],
      ],
    ],
  ] as [string, string, [string, Kind][]][])('%s', async (path, key, fields) => {
    const items = (await json(path))[key] as J[];
    expect(items.length).toBeGreaterThan(0);
    const item = key === 'event' ? items.find((e) => e.vm) : (items.find((x) => x.name !== 'Blank') ?? items[0]);
    for (const [f, kind] of fields) check(item, f, kind);
  });

  it('nic and disk attachment of a running VM', async () => {
    const nic = ((await json(`/vms/${ids['repr-up']}/nics`)).nic as J[])[0];
    for (const [f, kind] of [
      ['interface', ['virtio', 'e1000', 'rtl8139']],
      ['mac.address', 'string'],
      ['plugged', 'bool'],
      ['linked', 'bool'],
      ['synced', 'bool'],
      ['vnic_profile', 'link'],
      ['vm', 'link'],
    ] as [string, Kind][])
      check(nic, f, kind);
    const a = ((await json(`/vms/${ids['repr-up']}/diskattachments`)).disk_attachment as J[])[0];
    for (const [f, kind] of [
      ['bootable', 'bool'],
      ['active', 'bool'],
      ['read_only', 'bool'],
      ['pass_discard', 'bool'],
      ['uses_scsi_reservation', 'bool'],
      ['interface', ['virtio', 'virtio_scsi', 'sata', 'ide']],
      ['logical_name', 'string'],
      ['disk', 'link'],
      ['vm', 'link'],
    ] as [string, Kind][])
      check(a, f, kind);
  });

  it('never sends a root password back', async () => {
    await json(`/vms/${ids['repr-stopped']}`, 'PUT', { initialization: { host_name: 'x', root_password: 'never-shown' } });
    expect(JSON.stringify(await json(`/vms/${ids['repr-stopped']}`))).not.toContain('never-shown');
  });
});

describe('XML carries the same attributes, ids as attributes', () => {
  it.each([
    ['vms', 'vm', ['memory', 'cpu.topology.cores', 'display.type', 'bios.type', 'high_availability.enabled', 'migration.auto_converge', 'os.type', 'status']],
    ['hosts', 'host', ['spm.status', 'version.major', 'address', 'memory']],
    ['clusters', 'cluster', ['version.minor', 'cpu.type']],
    ['storagedomains', 'storage_domain', ['storage.type', 'available', 'master']],
    ['templates', 'template', ['version.version_number', 'status']],
    ['networks', 'network', ['mtu', 'stp']],
  ])('%s', async (col, key, paths) => {
    const j = ((await json(`/${col}`))[key] as J[])[0];
    const x = at(await xml(`/${col}`), `${key}s.${key}`);
    const first = Array.isArray(x) ? (x[0] as J) : (x as J);
    expect(first.id).toBe(j?.id);
    expect(first.href).toBe(j?.href);
    for (const p of paths) expect(at(first, p), p).toBe(at(j, p));
    // A link is an element with the id and href as attributes.
    for (const l of ['cluster', 'data_center', 'template']) if (j?.[l]) expect(first[l]).toEqual(j[l]);
  });
});

describe('links answer, follow inlines', () => {
  it('every link and every rel of vm, host, cluster, data center, storage domain, network, template, nic and disk answers 200', async () => {
    const objects: J[] = [up, stopped];
    for (const [col, key] of [
      ['hosts', 'host'],
      ['clusters', 'cluster'],
      ['datacenters', 'data_center'],
      ['storagedomains', 'storage_domain'],
      ['networks', 'network'],
      ['vnicprofiles', 'vnic_profile'],
      ['templates', 'template'],
      ['disks', 'disk'],
    ] as const) {
      objects.push(...((await json(`/${col}`))[key] as J[]));
    }
    objects.push(...((await json(`/vms/${ids['repr-up']}/nics`)).nic as J[]));
    const hrefs = new Set<string>();
    for (const o of objects) {
      for (const l of (o.link as { href: string }[] | undefined) ?? []) hrefs.add(l.href);
      for (const v of Object.values(o)) if (v && typeof v === 'object' && typeof (v as J).href === 'string' && !Array.isArray(v)) hrefs.add(String((v as J).href));
    }
    expect(hrefs.size).toBeGreaterThan(80);
    const failed: string[] = [];
    for (const h of hrefs) {
      const r = await fetch(`${root()}${h}`, { headers: { authorization: auth(), accept: 'application/json' } });
      if (r.status !== 200) failed.push(`${r.status} ${h}`);
      await r.arrayBuffer();
    }
    expect(failed).toEqual([]);
  });

  it.each(['json', 'xml'])('follow in %s: the data center of a cluster; template, cluster, host, nics, disk attachments, consoles and statistics of a vm', async (kind) => {
    const get = async (path: string, key: string) => (kind === 'json' ? await json(path) : (at(await xml(path), key) as J));
    const cl = at(await get('/clusters?follow=data_center', 'clusters'), 'cluster');
    expect(at(Array.isArray(cl) ? cl[0] : cl, 'data_center.name')).toBe('Default');
    const vm = await get(`/vms/${ids['repr-up']}?follow=template,cluster,host,nics.vnic_profile,disk_attachments.disk,graphics_consoles,statistics`, 'vm');
    expect(at(vm, 'template.name')).toBe('centos-9');
    expect(at(vm, 'cluster.name')).toBe('Default');
    expect(['host1', 'host2']).toContain(at(vm, 'host.name'));
    const nics = at(vm, 'nics.nic');
    expect(at(Array.isArray(nics) ? nics[0] : nics, 'vnic_profile.name')).toBe('ovirtmgmt');
    const atts = at(vm, 'disk_attachments.disk_attachment');
    expect(at(Array.isArray(atts) ? atts[0] : atts, 'disk.provisioned_size')).toBe(String(10 * GiB));
    const consoles = at(vm, 'graphics_consoles.graphics_console');
    expect(at(Array.isArray(consoles) ? consoles[0] : consoles, 'protocol')).toBe('vnc');
    const stats = at(vm, 'statistics.statistic') as J[];
    expect(stats.find((x) => x.name === 'memory.installed')).toMatchObject({ unit: 'bytes', kind: 'gauge' });
    const net = at(await get('/networks?follow=vnic_profiles', 'networks'), 'network');
    const mgmt = (Array.isArray(net) ? net : [net]).find((n) => (n as J).name === 'ovirtmgmt') as J;
    expect(at(mgmt, 'vnic_profiles.vnic_profile.name') ?? at(mgmt, 'vnic_profiles.vnic_profile.0.name')).toBe('ovirtmgmt');
  });

  it('without follow, relations are links only', async () => {
    expect(Object.keys(up.template as J).sort()).toEqual(['href', 'id']);
    expect(up.nics).toBeUndefined();
    expect(((await json('/hosts')).host as J[])[0]?.statistics).toBeUndefined();
    expect(((await json('/hosts?follow=statistics')).host as J[])[0]?.statistics).toBeDefined();
  });
});

const python = process.env.VK_PYTHON;
describe.skipIf(!python)('the official SDK reads them with the engine types', () => {
  it('enums, integers, booleans, links it follows', async () => {
    const { stdout } = await promisify(execFile)(python ?? '', [join(import.meta.dirname, 'sdk_representations.py'), sim.url, sim.credentials.username, sim.credentials.password, 'repr-up']);
    expect(JSON.parse(stdout)).toEqual({
      display: 'vnc',
      bios: 'q35_ovmf',
      ha: [false, 0],
      migration: 'inherit',
      os: 'other_linux',
      memory: 2 * GiB,
      start_time: true,
      template: ['centos-9', 1],
      cluster_dc: 'Default',
      cluster_version: [4, 7],
      spm: ['spm', 'none'],
      host_version: 4,
      storage: ['nfs', true],
      nics: ['nic1'],
      consoles: ['vnc'],
      statistics: true,
      event_severity: true,
    });
  }, 60_000);
});
