// libvirt's TLS transport against a real libvirtd listening with TLS (host 2): a client
// certificate from the URI's pkipath, the server's name checked; an untrusted client is
// turned away; a provider observes the host over TLS. And the SSH transport through a real
// sshd to host 1's socket.
import { lookup } from 'node:dns/promises';
import { hostname, tmpdir } from 'node:os';
import { pino } from 'pino';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    const err = await LibvirtConnection.connect(tlsURI.replace(/pkipath=[^&]+/, `pkipath=${other}`)).then(
      async (c) => {
        await c.close();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/the daemon refused this client .*pkipath/);
  });

  it('refuses a server whose name the certificate does not carry', async (ctx) => {
    // The server certificate names localhost and 127.0.0.1; this machine's own name, when it
    // points at 127.0.0.1 too, reaches the same daemon under a name the certificate lacks.
    const name = hostname();
    const addr = await lookup(name, { family: 4 }).then(
      (a) => a.address,
      () => '',
    );
    if (addr !== '127.0.0.1' || name === 'localhost') return ctx.skip();
    const err = await LibvirtConnection.connect(tlsURI.replace('//localhost:', `//${name}:`)).then(
      async (c) => {
        await c.close();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(String(err?.message)).toMatch(/Hostname\/IP does not match certificate's altnames/);
  });

  it('says what to do when the client files are missing', async () => {
    const err = await LibvirtConnection.connect(tlsURI.replace(/pkipath=[^&]+/, 'pkipath=/nonexistent')).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/cannot read \/nonexistent\/cacert\.pem; .*\?pkipath=DIR/);
  });

  it('a provider observes the host over TLS', async () => {
    const p = new LibvirtProvider({ hosts: [{ name: 'node2', uri: tlsURI }], logger: pino({ level: 'silent' }) });
    try {
      const obs = await p.vms.observe();
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

  it('never lets a URI run a command on the host or pass an option to ssh', async () => {
    // Each payload would create the mark if it reached a shell: `${IFS}` is the word separator
    // where a space cannot go, and the user part (no `/` allowed there) names a file relative
    // to the directory ssh runs its ProxyCommand in (this process's).
    const name = `vk-ssh-injected-${Math.random().toString(36).slice(2, 8)}`;
    const mark = join(tmpdir(), name);
    const local = join(process.cwd(), name);
    for (const uri of [
      `${sshURI}&socket=${encodeURIComponent(`/x;touch ${mark}`)}`,
      sshURI.replace('/system?', `/system;touch\${IFS}${mark}?`),
      sshURI.replace('root@127.0.0.1', `-oProxyCommand=touch\${IFS}${name}@127.0.0.1`),
    ]) {
      const err = await LibvirtConnection.connect(uri).then(
        async (c) => {
          await c.close();
          return undefined;
        },
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(/must be an absolute path|is not a user name|is not a host name|not a libvirt URI/);
    }
    for (const f of [mark, local])
      expect(
        await readFile(f).then(
          () => 'ran',
          () => 'not run',
        ),
      ).toBe('not run');
  });

  it('fails with what ssh said when the host key is not known', async () => {
    const err = await LibvirtConnection.connect(sshURI.replace(/&known_hosts=[^&]+/, '&known_hosts=/dev/null')).then(
      async (c) => {
        await c.close();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/Host key verification failed/);
  });
});

// spec.tls for libvirt hosts, against the real TLS daemon: the Hypervisor's CA bundle is the
// one checked, insecureSkipVerify is the only way to skip checks, and a URI's no_verify=1 on
// its own is refused before anything connects.
describe.skipIf(!tlsURI)('libvirt TLS under the Hypervisor spec.tls', () => {
  const pki = /pkipath=([^&]+)/.exec(tlsURI)?.[1] ?? '';
  let wrongCA = '';
  const withPki = (dir: string) => tlsURI.replace(/pkipath=[^&]+/, `pkipath=${dir}`);
  const attempt = (uri: string, policy: { caBundle?: string; insecureSkipVerify?: boolean } = {}) =>
    LibvirtConnection.connect(uri, { policy }).then(
      async (c) => {
        const name = await c.hostname();
        await c.close();
        return name;
      },
      (e: unknown) => e as Error,
    );

  beforeAll(async () => {
    // The client's own certificate and key, with a CA beside them that did not sign the server.
    wrongCA = await mkdtemp(join(tmpdir(), 'vk-tls-wrongca-'));
    for (const f of ['clientcert.pem', 'clientkey.pem']) await copyFile(join(pki, f), join(wrongCA, f));
    await copyFile(join(other, 'clientcert.pem'), join(wrongCA, 'cacert.pem'));
  });
  afterAll(async () => {
    await rm(wrongCA, { recursive: true, force: true });
  });

  it('checks the server against spec.tls.caBundle, in place of the pkipath CA', async () => {
    expect(String(await attempt(withPki(wrongCA)))).toMatch(/self[- ]signed|unable to verify|certificate/i);
    expect(await attempt(withPki(wrongCA), { caBundle: await readFile(join(pki, 'cacert.pem'), 'utf8') })).toBe('node2');
  });

  it('skips the certificate check only when spec.tls.insecureSkipVerify says so', async () => {
    expect(await attempt(withPki(wrongCA), { insecureSkipVerify: true })).toBe('node2');
  });

  it('refuses no_verify=1 in the URI unless spec.tls.insecureSkipVerify; a provider shows it as an error, not a host away', async () => {
    const err = await attempt(`${withPki(wrongCA)}&no_verify=1`);
    expect(String(err)).toMatch(/no_verify=1, which turns off host-key and certificate checks; remove it, or set spec.tls.insecureSkipVerify: true/);
    expect(await attempt(`${withPki(wrongCA)}&no_verify=1`, { insecureSkipVerify: true })).toBe('node2');
    const p = new LibvirtProvider({ hosts: [{ name: 'node2', uri: `${tlsURI}&no_verify=1` }], logger: pino({ level: 'silent' }) });
    try {
      await expect(p.vms.observe()).rejects.toThrow(/no_verify=1/);
    } finally {
      await p.close();
    }
  });
});
