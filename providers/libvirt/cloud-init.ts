// The NoCloud seed for a libvirt VM: meta-data, user-data and network-config v2, packed into
// an ISO 9660 image labelled `cidata` by Debian's genisoimage.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { DesiredVM } from '../../controller/core/model.ts';

export interface SeedFiles {
  'meta-data': string;
  'user-data': string;
  'network-config'?: string;
}

/** Whether the VM asks for anything cloud-init would do. */
export function wantsSeed(vm: DesiredVM): boolean {
  return !!vm.cloudInit || vm.nics.some((n) => n.ipv4);
}

export function seedFiles(vm: DesiredVM): SeedFiles {
  const ci = vm.cloudInit ?? {};
  const hostname = ci.hostname ?? vm.name;
  const meta = stringify({ 'instance-id': `${vm.owner.namespace ?? 'default'}-${vm.name}`, 'local-hostname': hostname });
  const user =
    ci.userData ??
    `#cloud-config\n${stringify({
      hostname,
      ...(ci.user
        ? { users: [{ name: ci.user, sudo: 'ALL=(ALL) NOPASSWD:ALL', shell: '/bin/bash', ...(ci.sshAuthorizedKeys?.length ? { ssh_authorized_keys: ci.sshAuthorizedKeys } : {}) }] }
        : ci.sshAuthorizedKeys?.length
          ? { ssh_authorized_keys: ci.sshAuthorizedKeys }
          : {}),
      ...(ci.timezone ? { timezone: ci.timezone } : {}),
      ...(vm.guestAgent ? { packages: ['qemu-guest-agent'], runcmd: [['systemctl', 'enable', '--now', 'qemu-guest-agent']] } : {}),
    })}`;
  const statics = vm.nics.filter((n) => n.ipv4);
  const dns = [...(ci.dnsServers ?? []), ...vm.nics.flatMap((n) => n.dnsServers ?? [])];
  const network =
    statics.length === 0
      ? undefined
      : stringify({
          version: 2,
          ethernets: Object.fromEntries(
            vm.nics.map((n, i) => [
              n.name,
              {
                ...(n.mac ? { match: { macaddress: n.mac }, 'set-name': n.name } : { match: { name: i === 0 ? 'e*' : n.name } }),
                ...(n.ipv4 ? { addresses: [n.ipv4.address], ...(n.ipv4.gateway ? { routes: [{ to: 'default', via: n.ipv4.gateway }] } : {}) } : { dhcp4: true }),
                ...(dns.length ? { nameservers: { addresses: [...new Set(dns)], ...(ci.dnsSearch?.length ? { search: ci.dnsSearch } : {}) } } : {}),
              },
            ]),
          ),
        });
  return { 'meta-data': meta, 'user-data': user, ...(network ? { 'network-config': network } : {}) };
}

/** Builds the ISO with genisoimage (Debian package `genisoimage`). */
export async function buildSeedIso(files: SeedFiles): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'vk-seed-'));
  try {
    for (const [name, text] of Object.entries(files)) if (text !== undefined) await writeFile(join(dir, name), text);
    return await new Promise<Buffer>((resolve, reject) => {
      const p = spawn('genisoimage', ['-quiet', '-output', '-', '-volid', 'cidata', '-joliet', '-rock', ...Object.keys(files).map((f) => join(dir, f))]);
      const out: Buffer[] = [];
      let err = '';
      p.stdout.on('data', (d: Buffer) => out.push(d));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('error', (e) => reject(new Error(`genisoimage is needed for cloud-init seeds (apt-get install genisoimage): ${e.message}`)));
      p.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`genisoimage failed: ${err.trim()}`))));
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
