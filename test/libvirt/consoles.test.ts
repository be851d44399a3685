// Console tickets on a real libvirtd: the password set on the running domain's VNC display
// lets a VNC client in (RFB 3.8, VNC authentication) on the port the ticket names, a wrong one
// does not; over qemu+ssh the ticket carries an ssh line that forwards the port.
import { spawn } from 'node:child_process';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Target } from '../../controller/core/actions.ts';
import { LibvirtProvider } from '../../providers/libvirt/provider.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { contractVM } from '../contract/provider-contract.ts';
import { vncLogin } from './vnc-client.ts';

const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
const sshURI = process.env.VK_LIBVIRT_URI_SSH ?? '';
const s = Math.random().toString(36).slice(2, 6);
const MiB = 2 ** 20;

describe.skipIf(!uri)('libvirt console tickets', () => {
  let p: LibvirtProvider;
  let c: LibvirtConnection;
  let target: Target;
  const name = `vk-cons-${s}`;

  beforeAll(async () => {
    p = new LibvirtProvider({ hosts: [{ name: 'host1', uri }], logger: pino({ level: 'silent' }) });
    c = await LibvirtConnection.connect(uri);
    const vm = contractVM(name, undefined, { memoryBytes: 64 * MiB, maxMemoryBytes: 64 * MiB, disks: [{ name: 'root', sizeBytes: 16 * MiB, interface: 'virtio', bootable: true }] });
    await p.vms.execute({ type: 'create', vm, node: 'host1' });
    const seen = (await p.vms.observe()).vms.find((v) => v.name === name);
    target = { providerID: seen?.providerID ?? '', name, node: 'host1', owner: vm.owner };
    await p.vms.execute({ type: 'start', target });
  }, 60_000);
  afterAll(async () => {
    await p.vms.execute({ type: 'delete', target }).catch(() => undefined);
    await p.close();
    await c.close();
  }, 60_000);

  it('sets a password with an expiry that a VNC client logs in with, and a wrong one is refused', async () => {
    const t = await p.consoles.open(target, { ttlSeconds: 120 });
    expect(t).toMatchObject({ protocol: 'vnc', host: '127.0.0.1' });
    expect(t.tunnel).toBeUndefined();
    expect(t.password).toHaveLength(8);
    expect(Date.parse(t.expiresAt) - Date.now()).toBeGreaterThan(100_000);
    expect(t.viewerFile).toContain(`[virt-viewer]\ntype=vnc\nhost=127.0.0.1\nport=${t.port}\npassword=${t.password}\n`);
    // The live device carries it (read with the secure flag); the persistent one does not.
    const live = await c.xmlDesc(await c.lookupDomain(name), 1);
    expect(live).toMatch(new RegExp(`passwd=['"]${t.password}['"]`));
    expect(live).toMatch(/passwdValidTo=/);
    expect(await c.xmlDesc(await c.lookupDomain(name), 1 | 2)).not.toContain(t.password);

    expect(await vncLogin(t.host, t.port, t.password)).toEqual({ version: 'RFB 003.008\n', result: 0 });
    const wrong = t.password.startsWith('x') ? `y${t.password.slice(1)}` : `x${t.password.slice(1)}`;
    expect((await vncLogin(t.host, t.port, wrong)).result).not.toBe(0);
  }, 60_000);

  it('an expired ticket lets no one in', async () => {
    const t = await p.consoles.open(target, { ttlSeconds: -60 });
    expect((await vncLogin(t.host, t.port, t.password)).result).not.toBe(0);
  }, 30_000);

  it('refuses a VM it does not own, and one that has no display', async () => {
    await expect(p.consoles.open({ ...target, owner: { kind: 'VirtualMachine', namespace: 'other', name } }, { ttlSeconds: 60 })).rejects.toThrow(/is not owned by this resource; no console ticket/);
    await expect(p.consoles.open(target, { protocol: 'spice', ttlSeconds: 60 })).rejects.toThrow(/has no spice display/);
  });

  it.skipIf(!sshURI)(
    'over qemu+ssh, gives an ssh line that forwards the display',
    async () => {
      const viaSsh = new LibvirtProvider({ hosts: [{ name: 'host1', uri: sshURI }], logger: pino({ level: 'silent' }) });
      try {
        const t = await viaSsh.consoles.open(target, { ttlSeconds: 120 });
        expect(t.host).toBe('127.0.0.1');
        const keyfile = /keyfile=([^&]+)/.exec(sshURI)?.[1] ?? '';
        expect(t.tunnel).toBe(`ssh -N -L ${t.port}:127.0.0.1:${t.port} -p 2222 -i ${keyfile} -o UserKnownHostsFile=${/known_hosts=([^&]+)/.exec(sshURI)?.[1]} root@127.0.0.1`);
        // Here the display's port is taken on this machine (the "remote" host is this one): forward another.
        const local = 20000 + Math.floor(Math.random() * 20000);
        const argv = (t.tunnel ?? '').replace(`-L ${t.port}:`, `-L ${local}:`).split(' ');
        const ssh = spawn(argv[0] ?? 'ssh', [...argv.slice(1, 2), '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes', ...argv.slice(2)], { stdio: 'ignore' });
        try {
          let login: { result: number } | undefined;
          for (let i = 0; i < 40 && !login; i++) {
            await new Promise((r) => setTimeout(r, 250));
            login = await vncLogin('127.0.0.1', local, t.password).catch(() => undefined);
          }
          expect(login?.result).toBe(0);
        } finally {
          ssh.kill();
        }
      } finally {
        await viaSsh.close();
      }
    },
    60_000,
  );
});
