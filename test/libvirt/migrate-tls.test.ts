// Live migration to a TLS host goes over TLS (VIR_MIGRATE_TLS), not plain TCP beside a TLS
// control connection. Host 2's TLS listener is the destination; QEMU's migration TLS reads
// the default /etc/pki/qemu, which this test fills from the provisioned CA and empties again.
// Without those certificates the migration must fail (it would succeed over plain TCP).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Target } from '../../controller/core/actions.ts';
import { LibvirtProvider } from '../../providers/libvirt/provider.ts';
import { contractVM } from '../contract/provider-contract.ts';

const run = promisify(execFile);
const uri1 = process.env.VK_LIBVIRT_URI_1 ?? '';
// The server certificate names 127.0.0.1 too; libvirt refuses a peer-to-peer URI to "localhost".
const tlsURI = (process.env.VK_LIBVIRT_URI_2_TLS ?? '').replace('//localhost:', '//127.0.0.1:');
const pki = /pkipath=([^&]+)/.exec(tlsURI)?.[1]?.replace(/\/client$/, '') ?? '';
const QEMU_PKI = '/etc/pki/qemu';
const usable = !!uri1 && !!tlsURI && existsSync(join(pki, 'cakey.pem')) && !existsSync(QEMU_PKI);
const MiB = 2 ** 20;
const name = `vk-migtls-${Math.random().toString(36).slice(2, 6)}`;

describe.skipIf(!usable)('libvirt live migration to a TLS host', () => {
  let certs: string;
  const madeEtcPki = !existsSync('/etc/pki');
  let p: LibvirtProvider;
  const vm = contractVM(name, undefined, { memoryBytes: 64 * MiB, maxMemoryBytes: 64 * MiB, disks: [{ name: 'root', sizeBytes: 16 * MiB, interface: 'virtio', bootable: true }] });
  const target = async (): Promise<Target> => {
    const found = (await p.vms.observe()).vms.find((v) => v.name === name);
    if (!found) throw new Error(`${name} is not observed`);
    return { providerID: found.providerID, name, ...(found.node ? { node: found.node } : {}), owner: vm.owner };
  };

  beforeAll(async () => {
    // QEMU's x509 directory: the CA, and one certificate for 127.0.0.1 used as server and client.
    certs = await mkdtemp(join(tmpdir(), 'vk-qemu-pki-'));
    const ext = join(certs, 'ext.cnf');
    await writeFile(ext, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
    await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', join(certs, 'server-key.pem'), '-out', join(certs, 'server.csr')]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      join(certs, 'server.csr'),
      '-CA',
      join(pki, 'cacert.pem'),
      '-CAkey',
      join(pki, 'cakey.pem'),
      '-CAcreateserial',
      '-CAserial',
      join(certs, 'ca.srl'),
      '-days',
      '2',
      '-extfile',
      ext,
      '-out',
      join(certs, 'server-cert.pem'),
    ]);
    await copyFile(join(pki, 'cacert.pem'), join(certs, 'ca-cert.pem'));
    await copyFile(join(certs, 'server-cert.pem'), join(certs, 'client-cert.pem'));
    await copyFile(join(certs, 'server-key.pem'), join(certs, 'client-key.pem'));
    p = new LibvirtProvider({
      hosts: [
        { name: 'host1', uri: uri1 },
        { name: 'host2', uri: tlsURI },
      ],
      logger: pino({ level: 'silent' }),
      migration: { sharedStorage: false },
    });
  });
  afterAll(async () => {
    await p.vms.execute({ type: 'delete', target: await target() }).catch(() => undefined);
    await p.close();
    await rm(QEMU_PKI, { recursive: true, force: true });
    if (madeEtcPki) await rmdir('/etc/pki').catch(() => undefined);
    await rm(certs, { recursive: true, force: true });
  });

  it('fails without QEMU TLS certificates, then migrates over TLS with them', async () => {
    await p.vms.execute({ type: 'create', vm, node: 'host1' });
    await p.vms.execute({ type: 'start', target: await target() });
    // No /etc/pki/qemu: a migration that is really TLS cannot start (plain TCP would go through).
    await expect(p.vms.execute({ type: 'migrate', target: await target(), to: 'host2' })).rejects.toThrow(/tls|x509|certificate|pki/i);
    expect((await target()).node).toBe('host1');

    await mkdir(QEMU_PKI, { recursive: true });
    for (const f of ['ca-cert.pem', 'server-cert.pem', 'server-key.pem', 'client-cert.pem', 'client-key.pem']) await copyFile(join(certs, f), join(QEMU_PKI, f));
    await p.vms.execute({ type: 'migrate', target: await target(), to: 'host2' });
    const after = (await p.vms.observe()).vms.find((v) => v.name === name);
    expect([after?.node, after?.power]).toEqual(['host2', 'running']);
  }, 120_000);
});
