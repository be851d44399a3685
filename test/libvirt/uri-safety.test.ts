// What a libvirt URI may carry to ssh and to the remote shell, what it may relax, and how a
// migration between TLS hosts goes (pure: no daemon, no network).
import { describe, expect, it } from 'vitest';
import { migrationRequest } from '../../providers/libvirt/migrate-params.ts';
import { MigrateFlags } from '../../providers/libvirt/rpc/protocol.ts';
import { checkVerify, parseLibvirtURI, skipsVerify, sshArgs } from '../../providers/libvirt/rpc/uri.ts';
import { ownedVolumes, parseDomain, domainXml, seedVolumeName, volumeName } from '../../providers/libvirt/domain-xml.ts';
import { assertTemplateVolume, volumesOwnedBy } from '../../providers/libvirt/ownership.ts';
import { contractVM } from '../contract/provider-contract.ts';

describe('libvirt URI parts that reach ssh or the remote shell', () => {
  it.each([
    ['a socket with a shell command', 'qemu+ssh://root@h/system?socket=/x;id', /socket= must be an absolute path/],
    ['a socket with a command substitution', 'qemu+ssh://h/system?socket=/x$(id)', /socket= must be an absolute path/],
    ['a relative socket', 'qemu+unix:///system?socket=run/sock', /socket= must be an absolute path/],
    ['a path with a shell command', 'qemu+ssh://h/system;id', /the path "\/system;id" must be an absolute path/],
    ['a path with a space', 'qemu+ssh://h/sys%20tem', /the path/],
    ['a host that is an ssh option', 'qemu+ssh://-oProxyCommand=id/system', /the host "-oProxyCommand=id" is not a host name/],
    ['a user that is an ssh option', 'qemu+ssh://-oProxyCommand=id@h/system', /the user "-oProxyCommand=id" is not a user name/],
    ['a keyfile with a newline', 'qemu+ssh://h/system?keyfile=/k%0AProxyCommand=id', /keyfile= must be an absolute path/],
    ['a known_hosts that is not a path', 'qemu+ssh://h/system?known_hosts=x', /known_hosts= must be an absolute path/],
    ['a pkipath with a quote', "qemu+tls://h/system?pkipath=/p'x", /pkipath= must be an absolute path/],
  ])('refuses %s, naming the field', (_n, uri, message) => {
    expect(() => parseLibvirtURI(uri)).toThrow(message);
  });

  it('builds argv with -- before the host and the remote command quoted', () => {
    const u = parseLibvirtURI('qemu+ssh://root@127.0.0.1:2222/system?keyfile=/k/key&known_hosts=/k/known&socket=/run/libvirt/libvirt-sock');
    expect(sshArgs(u)).toEqual([
      '-T',
      '-o',
      'BatchMode=yes',
      '-p',
      '2222',
      '-i',
      '/k/key',
      '-o',
      'UserKnownHostsFile=/k/known',
      '-o',
      'StrictHostKeyChecking=yes',
      '-l',
      'root',
      '--',
      '127.0.0.1',
      "nc -U '/run/libvirt/libvirt-sock' 2>/dev/null || virt-ssh-helper 'qemu:///system'",
    ]);
  });
});

describe('no_verify and spec.tls', () => {
  it.each([
    ['ssh', 'qemu+ssh://h/system?no_verify=1'],
    ['tls', 'qemu+tls://h/system?no_verify=1'],
  ])('refuses no_verify=1 over %s unless spec.tls.insecureSkipVerify says so', (_t, uri) => {
    const u = parseLibvirtURI(uri);
    expect(() => checkVerify(u, {})).toThrow(/no_verify=1, which turns off host-key and certificate checks; remove it, or set spec.tls.insecureSkipVerify: true/);
    expect(() => checkVerify(u, { insecureSkipVerify: true })).not.toThrow();
    expect(skipsVerify(u, { insecureSkipVerify: true })).toBe(true);
  });

  it('ssh host keys are checked unless both the URI and the Hypervisor say otherwise', () => {
    expect(sshArgs(parseLibvirtURI('qemu+ssh://h/system'), { insecureSkipVerify: true })).toContain('StrictHostKeyChecking=yes');
    expect(() => sshArgs(parseLibvirtURI('qemu+ssh://h/system?no_verify=1'))).toThrow(/no_verify/);
    expect(sshArgs(parseLibvirtURI('qemu+ssh://h/system?no_verify=1'), { insecureSkipVerify: true })).toContain('StrictHostKeyChecking=no');
  });

  it('TLS certificates are checked unless spec.tls.insecureSkipVerify', () => {
    const u = parseLibvirtURI('qemu+tls://h/system');
    expect(skipsVerify(u, {})).toBe(false);
    expect(skipsVerify(u, { insecureSkipVerify: true })).toBe(true);
  });
});

describe('live migration between TLS hosts', () => {
  it.each([
    ['tls to tls', 'qemu+tls://a/system', 'qemu+tls://b/system', true],
    ['unix to tls', 'qemu:///system', 'qemu+tls://b/system', true],
    ['tcp to tcp', 'qemu+tcp://a/system', 'qemu+tcp://b/system', false],
  ])('%s: VIR_MIGRATE_TLS is %s', (_n, sourceURI, destURI, tls) => {
    const r = migrationRequest({ sourceURI, destURI });
    expect(r.tls).toBe(tls);
    expect((r.flags & MigrateFlags.TLS) !== 0).toBe(tls);
    expect(r.params.find((p) => p.field === 'migrate_uri')?.value).toBe('tcp://b');
  });

  it('names the destination certificate when the stream goes over another network', () => {
    const r = migrationRequest({ sourceURI: 'qemu+tls://a/system', destURI: 'qemu+tls://b.example/system', migration: { network: '10.0.0.2', sharedStorage: true } });
    expect(r.params.map((p) => [p.field, p.value])).toEqual([
      ['migrate_uri', 'tcp://10.0.0.2'],
      ['tls.destination', 'b.example'],
    ]);
    expect(r.flags & MigrateFlags.UNSAFE).toBe(MigrateFlags.UNSAFE);
  });
});

describe('volume names and the ownership record', () => {
  it.each([
    ['web', '1-root', 'web-1', 'root'],
    ['a.b', 'c', 'a', 'b.c'],
    ['a%2Eb', 'c', 'a.b', 'c'],
  ])('VM %s disk %s and VM %s disk %s never share a volume', (v1, d1, v2, d2) => {
    expect(volumeName(v1, d1)).not.toBe(volumeName(v2, d2));
  });

  it('the domain XML records the volumes its creation makes, and parses back', () => {
    const vm = contractVM('web', undefined, {
      disks: [
        { name: 'root', sizeBytes: 1, interface: 'virtio', bootable: true },
        { name: 'data', sizeBytes: 1, storage: 'fast', interface: 'virtio', bootable: false },
      ],
    });
    const spec = { vm, type: 'qemu' as const, pool: 'default', bridge: 'br0', maxVcpus: 2, seedVolume: seedVolumeName('web'), creating: true };
    const parsed = parseDomain(domainXml(spec));
    expect(parsed.owned).toEqual(ownedVolumes(spec));
    expect(parsed.owned?.map((v) => `${v.pool}/${v.name}`)).toEqual(['default/web.root.qcow2', 'fast/web.data.qcow2', 'default/web.cidata.iso']);
    expect(parsed.creating).toBe(true);
    expect(parseDomain(domainXml({ ...spec, creating: false })).creating).toBe(false);
  });
});

describe('which volumes a domain owns (pure)', () => {
  const dom = (name: string, vols: string[], owned?: string[]) => ({
    ...parseDomain(
      `<domain><name>${name}</name><devices>${vols.map((v, i) => `<disk type='volume' device='disk'><source pool='default' volume='${v}'/><target dev='vd${'abcd'[i]}'/></disk>`).join('')}</devices></domain>`,
    ),
    ...(owned ? { owned: owned.map((n) => ({ pool: 'default', name: n })) } : {}),
  });
  const claimsOf = (...ds: ReturnType<typeof dom>[]) => {
    const m = new Map<string, string[]>();
    for (const d of ds) for (const v of [...d.disks.map((x) => x.volume ?? ''), ...(d.owned ?? []).map((o) => o.name)]) m.set(`default/${v}`, [...new Set([...(m.get(`default/${v}`) ?? []), d.name])]);
    return m;
  };

  it.each([
    ['the record, not the names', dom('web', ['web.root.qcow2', 'web-x.qcow2'], ['web.root.qcow2']), [], ['web.root.qcow2']],
    ['a recorded volume another domain also uses stays', dom('web', ['web.root.qcow2'], ['web.root.qcow2']), [dom('other', ['web.root.qcow2'])], []],
    [
      'before records: old names only, and never what another domain uses',
      dom('web', ['web-root.qcow2', 'web-1-root.qcow2', 'vkdisk-web-data.qcow2', 'base.qcow2']),
      [dom('web-1', ['web-1-root.qcow2'])],
      ['web-root.qcow2'],
    ],
  ])('%s', (_n, d, others, want) => {
    expect(volumesOwnedBy(d, claimsOf(d, ...others), 'default').map((v) => v.name)).toEqual(want);
  });

  it('a backing file is refused when a VM uses it or it is a VirtualDisk', () => {
    const claims = claimsOf(dom('web', ['web.root.qcow2'], ['web.root.qcow2']));
    expect(() => assertTemplateVolume(claims, 'default', 'web.root.qcow2', false)).toThrow(/is a disk of VM web, not a template/);
    expect(() => assertTemplateVolume(claims, 'default', 'vkdisk-ns-a.qcow2', false)).toThrow(/is a VirtualDisk/);
    expect(() => assertTemplateVolume(claims, 'default', 'data.qcow2', true)).toThrow(/is a VirtualDisk/);
    expect(() => assertTemplateVolume(claims, 'default', 'ubuntu.qcow2', false)).not.toThrow();
  });
});
