import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseQuantity, formatBytes } from '../../controller/api/quantity.ts';
import { sameSubnet } from '../../controller/api/validate.ts';
import { formatProblem, loadFolder, loadTexts } from '../../controller/sources/load-folder.ts';

const root = join(import.meta.dirname, '..', '..');

describe('quantities', () => {
  it.each([
    ['2Gi', 2 * 2 ** 30],
    ['40G', 40e9],
    ['512Mi', 512 * 2 ** 20],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['1024', 1024],
    ['1k', 1000],
    ['3Ti', 3 * 2 ** 40],
  ])('%s → %d bytes', (q, bytes) => expect(parseQuantity(q)).toBe(bytes));
  it.each(['', 'Gi', '-1Gi', '2 GB', '2gb'])('rejects %j', (q) => expect(() => parseQuantity(q)).toThrow(/invalid quantity/));
  it.each([
    [2 ** 31, '2Gi'],
    [1536 * 2 ** 20, '1536Mi'],
    [1000, '1000'],
  ])('formats %d as %s', (b, s) => expect(formatBytes(b)).toBe(s));
});

describe('subnets', () => {
  it.each([
    ['10.0.0.5/24', '10.0.0.1', true],
    ['10.0.0.5/24', '10.0.1.1', false],
    ['10.0.0.5/16', '10.0.200.1', true],
    ['192.168.1.10/30', '192.168.1.9', true],
    ['192.168.1.10/30', '192.168.1.13', false],
  ])('%s with gateway %s → %s', (cidr, gw, ok) => expect(sameSubnet(cidr, gw)).toBe(ok));
});

describe('validate a corpus of broken manifests', () => {
  const expected: [string, RegExp][] = [
    ['bad-yaml.yaml', /^bad-yaml\.yaml:\d+: YAML syntax/],
    ['wrong-type.yaml', /^wrong-type\.yaml:9: VirtualMachine default\/wrong-type spec\.cpu\.cores: expected integer/],
    ['unknown-field.yaml', /^unknown-field\.yaml:8: VirtualMachine default\/unknown-field spec\.colour: unknown field "colour"/],
    ['negative-size.yaml', /^negative-size\.yaml:10: VirtualMachine default\/negative-size spec\.disks\[0\]\.size: expected a quantity such as 20Gi/],
    ['unknown-ref.yaml', /^unknown-ref\.yaml:6: VirtualMachine default\/unknown-ref spec\.hypervisor: unknown Hypervisor "nowhere"/],
    ['duplicate.yaml', /^duplicate\.yaml:4: VirtualMachine default\/dup metadata\.name: duplicate name: also defined at duplicate\.yaml:\d+/],
    ['binary.yaml', /^binary\.yaml:1: not a text file/],
    ['empty.yaml', /^empty\.yaml:1: empty file/],
    ['vlan-range.yaml', /^vlan-range\.yaml:6: VirtualNetwork vlan-big spec\.vlanId: must be <= 4094/],
    ['gateway-subnet.yaml', /^gateway-subnet\.yaml:10: VirtualMachine default\/gw spec\.networks\[0\]\.ipv4\.gateway: gateway 10\.0\.1\.1 is not in the subnet/],
    ['memory-above-max.yaml', /^memory-above-max\.yaml:7: VirtualMachine default\/mem spec\.memory: memory 8Gi is above maxMemory 4Gi/],
    ['unknown-kind.yaml', /^unknown-kind\.yaml:2: kind: unknown kind "Gadget"/],
  ];

  it.each(expected)('%s gets one clear line', async (file, pattern) => {
    const load = await loadFolder(join(root, 'test/fixtures/broken'));
    const lines = load.problems.filter((p) => p.file === file).map(formatProblem);
    expect(lines.length, lines.join('\n')).toBeGreaterThanOrEqual(1);
    expect(
      lines.some((l) => pattern.test(l)),
      lines.join('\n'),
    ).toBe(true);
  });

  it('accepts the good resources beside the broken ones', async () => {
    const load = await loadFolder(join(root, 'test/fixtures/broken'));
    expect(load.resources.map((r) => r.key).sort()).toEqual(['Hypervisor/hv', 'VirtualMachine/default/shrink']);
  });

  it('refuses a disk shrink against the last applied spec', async () => {
    const lastApplied = new Map([['VirtualMachine/default/shrink', { hypervisor: 'hv', memory: '1Gi', disks: [{ name: 'root', size: '20Gi' }] }]]);
    const load = await loadFolder(join(root, 'test/fixtures/broken'), { lastApplied });
    const lines = load.problems.filter((p) => p.file === 'shrink.yaml').map(formatProblem);
    expect(lines).toEqual(['shrink.yaml:9: VirtualMachine default/shrink spec.disks[0].size: disk "root" cannot shrink from 20Gi to 10Gi: disks only grow']);
  });

  it('refuses a VirtualDisk shrink against the last applied spec, and lets a grow through', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vk-vdshrink-'));
    try {
      await writeFile(join(dir, 'hv.yaml'), 'apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "https://pve:8006"}\n');
      await writeFile(join(dir, 'disk.yaml'), 'apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualDisk\nmetadata: {name: data}\nspec:\n  hypervisor: pve\n  size: 2Gi\n');
      const shrink = await loadFolder(dir, { lastApplied: new Map([['VirtualDisk/default/data', { hypervisor: 'pve', size: '3Gi' }]]) });
      expect(shrink.problems.map(formatProblem)).toEqual(['disk.yaml:6: VirtualDisk default/data spec.size: cannot shrink from 3Gi to 2Gi: disks only grow']);
      expect(shrink.resources.map((r) => r.key)).toEqual(['Hypervisor/pve']);
      const grow = await loadFolder(dir, { lastApplied: new Map([['VirtualDisk/default/data', { hypervisor: 'pve', size: '1Gi' }]]) });
      expect(grow.problems).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('accepts every example', async () => {
    const load = await loadFolder(join(root, 'examples'));
    expect(load.problems.map(formatProblem)).toEqual([]);
    expect(new Set(load.resources.map((r) => r.id.kind)).size).toBe(9);
  });
});

describe('inputs that cannot be trusted are refused at validation', () => {
  const hv = (spec: string) => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: x}\nspec:\n${spec}`;
  const lines = (text: string) => loadTexts(new Map([['in.yaml', text]])).problems.map(formatProblem);

  it.each([
    [
      'a user and password in the endpoint',
      hv('  type: proxmox\n  endpoint: https://admin:s3cret@pve.example:8006\n'),
      /^in\.yaml:6: Hypervisor x spec\.endpoint: the URL carries a user name or password \(user:password@host\); remove it and name the credentials in credentialsRef$/,
    ],
    [
      'a user alone in the endpoint',
      hv('  type: ovirt\n  endpoint: https://admin@engine.example/ovirt-engine/api\n'),
      /^in\.yaml:6: Hypervisor x spec\.endpoint: the URL carries a user name or password/,
    ],
    ['a password in a libvirt URI', hv('  type: libvirt\n  hosts: [{name: h1, uri: "qemu+ssh://root:pw@h1/system"}]\n'), /^in\.yaml:6: Hypervisor x spec\.hosts\[0\]\.uri: the URI carries a password/],
  ])('%s', (_what, text, pattern) => {
    const got = lines(text);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(pattern);
    expect(got[0]).not.toContain('s3cret');
  });

  it('an ssh login name in a libvirt URI is fine', () => {
    expect(lines(hv('  type: libvirt\n  hosts: [{name: h1, uri: "qemu+ssh://root@h1/system"}]\n'))).toEqual([]);
  });
});

describe("names that would be pasted into a hypervisor's own syntax", () => {
  const hv = 'apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "https://pve:8006"}\n---\n';
  const vm = (spec: string) => `${hv}apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: web}\nspec:\n  hypervisor: pve\n  memory: 1Gi\n${spec}`;
  const lines = (text: string) => loadTexts(new Map([['in.yaml', text]])).problems.map(formatProblem);
  const refused = (value: string) => `expected a name without , = ; : / \\ ? # % quotes or spaces, got ${JSON.stringify(value)}`;

  it.each([
    ['a network name', vm('  networks: [{name: nic0, network: "vmbr0,firewall=0,tag=99"}]\n'), 'VirtualMachine default/web spec.networks[0].network', 'vmbr0,firewall=0,tag=99'],
    ['a disk storage', vm('  disks: [{name: root, size: 10Gi, storage: "local-lvm,cache=unsafe"}]\n'), 'VirtualMachine default/web spec.disks[0].storage', 'local-lvm,cache=unsafe'],
    ['a disk name with a path', vm('  disks: [{name: ../../etc/x, size: 10Gi}]\n'), 'VirtualMachine default/web spec.disks[0].name', '../../etc/x'],
    ['a pinned node with a path', vm('  placement: {node: "pve1/../../x"}\n'), 'VirtualMachine default/web spec.placement.node', 'pve1/../../x'],
    ['a template', vm('  template: "t,efi=1"\n'), 'VirtualMachine default/web spec.template', 't,efi=1'],
    [
      'a default bridge',
      'apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "https://pve:8006", defaults: {bridge: "vmbr0,tag=5"}}\n',
      'Hypervisor pve spec.defaults.bridge',
      'vmbr0,tag=5',
    ],
    [
      "a network binding's bridge",
      `${hv}apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualNetwork\nmetadata: {name: v}\nspec:\n  vlanId: 5\n  hypervisors: [{hypervisor: pve, bridge: "vmbr0=x"}]\n`,
      'VirtualNetwork v spec.hypervisors[0].bridge',
      'vmbr0=x',
    ],
    [
      'a VirtualDisk storage',
      `${hv}apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualDisk\nmetadata: {name: d}\nspec: {hypervisor: pve, size: 1Gi, storage: "a b"}\n`,
      'VirtualDisk default/d spec.storage',
      'a b',
    ],
  ])('%s', (_what, text, where, value) => {
    const got = lines(text);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^in\.yaml:\d+: /);
    expect(got[0]).toContain(`${where}: ${refused(value)}`);
  });

  it('an image path or URL with a comma', () => {
    const got = lines(`${hv}apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: t}\nspec: {hypervisor: pve, source: {image: "/img.qcow2,cache=unsafe"}}\n`);
    expect(got).toEqual([expect.stringMatching(/^in\.yaml:\d+: VMTemplate t spec\.source\.image: expected an image path or URL without , or spaces/)]);
  });

  it.each([['vmbr0'], ['vmbr0.100'], ['local-lvm'], ['Кластер-1'], ['ovirtmgmt']])('accepts %s', (name) => {
    expect(lines(vm(`  networks: [{name: nic0, network: "${name}"}]\n  disks: [{name: root, size: 1Gi, storage: "${name}"}]\n`))).toEqual([]);
  });
});
