import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { seedFiles } from '../../providers/libvirt/cloud-init.ts';
import { contractVM } from '../contract/provider-contract.ts';

describe('NoCloud seed', () => {
  it('carries hostname, user, keys, and static addressing as network-config v2', () => {
    const files = seedFiles(
      contractVM('web-1', undefined, {
        cloudInit: { hostname: 'web-1.example.org', user: 'ops', sshAuthorizedKeys: ['ssh-ed25519 AAAA ops'], dnsSearch: ['example.org'] },
        nics: [{ name: 'eth0', model: 'virtio', mac: '52:54:00:00:00:01', ipv4: { address: '10.0.0.5/24', gateway: '10.0.0.1' }, dnsServers: ['10.0.0.2'] }],
      }),
    );
    expect(parse(files['meta-data'])).toEqual({ 'instance-id': 'contract-web-1', 'local-hostname': 'web-1.example.org' });
    expect(files['user-data'].startsWith('#cloud-config\n')).toBe(true);
    expect(parse(files['user-data']).users).toEqual([{ name: 'ops', sudo: 'ALL=(ALL) NOPASSWD:ALL', shell: '/bin/bash', ssh_authorized_keys: ['ssh-ed25519 AAAA ops'] }]);
    expect(parse(files['network-config'] ?? '')).toEqual({
      version: 2,
      ethernets: {
        eth0: {
          match: { macaddress: '52:54:00:00:00:01' },
          'set-name': 'eth0',
          addresses: ['10.0.0.5/24'],
          routes: [{ to: 'default', via: '10.0.0.1' }],
          nameservers: { addresses: ['10.0.0.2'], search: ['example.org'] },
        },
      },
    });
  });
  it('passes raw user data through untouched and omits network-config without static addresses', () => {
    const files = seedFiles(contractVM('x', undefined, { cloudInit: { userData: '#!/bin/sh\necho hi\n' } }));
    expect(files['user-data']).toBe('#!/bin/sh\necho hi\n');
    expect(files['network-config']).toBeUndefined();
  });
});
