// The console endpoint's listen flags: plain HTTP only on loopback, TLS flags in pairs, a
// wildcard address only with the URL clients reach. Checked before the controller starts,
// so `run` exits with the message and never reaches the API server.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { consoleListenFrom } from '../../controller/cli/commands/console-flags.ts';
import { checkEndpoint } from '../../controller/cli/commands/console-kube.ts';
import { parseListen } from '../../controller/runtime/modes/console-endpoint.ts';

const root = join(import.meta.dirname, '..', '..');

describe('console endpoint listen flags', () => {
  it.each([
    ['127.0.0.1:8443', false, { host: '127.0.0.1', port: 8443 }],
    ['localhost:0', false, { host: 'localhost', port: 0 }],
    ['[::1]:9000', false, { host: '::1', port: 9000 }],
    ['0.0.0.0:8443', true, { host: '0.0.0.0', port: 8443 }],
    ['[::]:8443', true, { host: '::', port: 8443 }],
  ])('%s (tls %s) listens on %j', (listen, tls, want) => {
    expect(parseListen(listen, tls)).toEqual(want);
  });

  it.each([
    ['0.0.0.0:8443', false, /without TLS: bearer tokens and console tickets would cross the network in clear; give --console-tls-cert and --console-tls-key, or listen on 127.0.0.1/],
    ['10.1.2.3:8443', false, /without TLS/],
    ['[::]:8443', false, /without TLS/],
    ['8443', true, /is not host:port/],
    ['127.0.0.1:99999', true, /is not host:port/],
    ['[10.0.0.1]:80', true, /is not host:port/],
  ])('%s (tls %s) is refused', (listen, tls, message) => {
    expect(() => parseListen(listen, tls)).toThrow(message);
  });

  it('needs both TLS files, --console-listen for the others, and --console-url on a wildcard address', async () => {
    await expect(consoleListenFrom({ consoleListen: '0.0.0.0:8443', consoleTlsCert: '/nonexistent.crt' })).rejects.toThrow(/give both --console-tls-cert and --console-tls-key/);
    await expect(consoleListenFrom({ consoleTlsCert: 'a', consoleTlsKey: 'b' })).rejects.toThrow(/need --console-listen HOST:PORT/);
    await expect(consoleListenFrom({ consoleListen: '0.0.0.0:8443', consoleTlsCert: '/nonexistent.crt', consoleTlsKey: '/nonexistent.key' })).rejects.toThrow(
      /cannot read the console endpoint's TLS certificate \/nonexistent.crt: ENOENT/,
    );
    await expect(consoleListenFrom({ consoleListen: '127.0.0.1:8443', consoleUrl: 'ftp://x' })).rejects.toThrow(/is not a URL/);
    await expect(consoleListenFrom({})).resolves.toBeUndefined();
    const dir = await mkdtemp(join(tmpdir(), 'vk-console-flags-'));
    try {
      const tls = { consoleTlsCert: join(dir, 'tls.crt'), consoleTlsKey: join(dir, 'tls.key') };
      await writeFile(tls.consoleTlsCert, 'CERT');
      await writeFile(tls.consoleTlsKey, 'KEY');
      await expect(consoleListenFrom({ consoleListen: '0.0.0.0:8443', ...tls })).rejects.toThrow(/listens on every address: give --console-url/);
      await expect(consoleListenFrom({ consoleListen: '0.0.0.0:8443', consoleUrl: 'https://vk.svc:8443', ...tls })).resolves.toEqual({
        listen: '0.0.0.0:8443',
        tls: { cert: 'CERT', key: 'KEY' },
        url: 'https://vk.svc:8443',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await expect(consoleListenFrom({ consoleListen: '127.0.0.1:0', consoleUrl: 'https://vk.example:8443/' })).resolves.toEqual({ listen: '127.0.0.1:0', url: 'https://vk.example:8443' });
  });

  it.each([
    ['https://vk.svc:8443', true],
    ['http://127.0.0.1:8443', true],
    ['http://[::1]:8443', true],
    ['http://localhost:8443', true],
    ['http://10.0.0.1:8443', false],
    ['http://vk.svc:8443', false],
    ['ftp://127.0.0.1', false],
  ])('the endpoint %s may get the token: %s', (url, ok) => {
    if (ok) expect(() => checkEndpoint(url)).not.toThrow();
    else expect(() => checkEndpoint(url)).toThrow(/is not https: your bearer token would cross the network in clear/);
  });

  it('console --kubeconfig sends the token to https or loopback only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vk-console-flags-'));
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: not-a-real-token}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    try {
      const r = await new Promise<{ code: number; err: string }>((resolve) => {
        const p = execFile(process.execPath, ['bin/virtkeeper.js', 'console', 'web-1', '--kubeconfig', kubeconfig, '--controller', 'http://10.0.0.1:8443', '--print'], { cwd: root }, (e, _out, err) =>
          resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, err }),
        );
        p.stdin?.end();
      });
      expect(r.code).toBe(1);
      expect(r.err).toContain('the console endpoint http://10.0.0.1:8443 is not https: your bearer token would cross the network in clear, so it is not sent');
      expect(r.err).toContain('[VK_CONSOLE_INSECURE]');
      expect(r.err).not.toContain('not-a-real-token');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('run --console-listen on every address without TLS exits with the reason before it starts', async () => {
    const r = await new Promise<{ code: number; err: string }>((resolve) => {
      const p = execFile(process.execPath, ['bin/virtkeeper.js', 'run', '--kubeconfig', '/nonexistent/kubeconfig', '--console-listen', '0.0.0.0:8443'], { cwd: root }, (e, _out, err) =>
        resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, err }),
      );
      p.stdin?.end();
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain('--console-listen 0.0.0.0:8443 without TLS');
    expect(r.err).toContain('VK_CONSOLE_LISTEN');
    // Refused before the kubeconfig is read.
    expect(r.err).not.toContain('/nonexistent/kubeconfig');
  });
});
