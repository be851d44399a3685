// libvirt's TLS transport against a real libvirtd listening with TLS (host 2): a client
// certificate from the URI's pkipath, the server's name checked; an untrusted client is
// turned away; a provider observes the host over TLS. And the SSH transport through a real
// sshd to host 1's socket.
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LibvirtProvider } from '../../providers/libvirt/provider.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';

const tlsURI = process.env.VK_LIBVIRT_URI_2_TLS ?? '';
const other = process.env.VK_LIBVIRT_PKI_OTHER ?? '';

describe.skipIf(!tlsURI)('libvirt over TLS', () => {
  it('connects with the client certificate in pkipath and speaks RPC', async () => {
    const c = await LibvirtConnection.connect(tlsURI);
    try {
      expect(await c.hostname()).toBe('node2');
      expect((await c.nodeInfo()).cpus).toBeGreaterThan(0);
      expect(await c.lookupPool('default')).toMatchObject({ name: 'default' });
    } finally {
      await c.close();
    }
  });

  it('is turned away with a client certificate the daemon does not trust', async () => {
    const err = await LibvirtConnection.connect(tlsURI.replace(/pkipath=[^&]+/, `pkipath=${other}`)).then(async (c) => {
      await c.close();
      return undefined;
    }, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/the daemon refused this client .*pkipath/);
  });

  it('refuses a server whose name the certificate does not carry', async (ctx) => {
    // The server certificate names localhost and 127.0.0.1; this machine's own name, when it
    // points at 127.0.0.1 too, reaches the same daemon under a name the certificate lacks.
    const name = hostname();
    const addr = await lookup(name, { family: 4 }).then((a) => a.address, () => '');
    if (addr !== '127.0.0.1' || name === 'localhost') return ctx.skip();
    const err = await LibvirtConnection.connect(tlsURI.replace('//localhost:', `//${name}:`)).then(async (c) => {
      await c.close();
      return undefined;
    }, (e: unknown) => e as Error);
    expect(String(err?.message)).toMatch(/Hostname\/IP does not match certificate's altnames/);
  });

  it('says what to do when the client files are missing', async () => {
    const err = await LibvirtConnection.connect(tlsURI.replace(/pkipath=[^&]+/, 'pkipath=/nonexistent')).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/cannot read \/nonexistent\/cacert\.pem; .*\?pkipath=DIR/);
  });

  it('a provider observes the host over TLS', async () => {
    const p = new LibvirtProvider({ hosts: [{ name: 'node2', uri: tlsURI }], logger: pino({ level: 'silent' }) });
    try {
      const obs = await p.observe();
      expect(obs.nodes.map((n) => [n.name, n.state])).toEqual([['node2', 'online']]);
    } finally {
      await p.close();
    }
  });
});

const sshURI = process.env.VK_LIBVIRT_URI_SSH ?? '';

describe.skipIf(!sshURI)('libvirt over SSH', () => {
  it('tunnels RPC through ssh to the socket of the host, with the key and known_hosts from the URI', async () => {
    const c = await LibvirtConnection.connect(sshURI);
    try {
      expect(await c.hostname()).toBeTruthy();
      expect(await c.lookupPool('default')).toMatchObject({ name: 'default' });
    } finally {
      await c.close();
    }
  });

  it('fails with what ssh said when the host key is not known', async () => {
    const err = await LibvirtConnection.connect(sshURI.replace(/&known_hosts=[^&]+/, '&known_hosts=/dev/null')).then(async (c) => {
      await c.close();
      return undefined;
    }, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/Host key verification failed/);
  });
});
