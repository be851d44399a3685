// What a manifest's credentialsRef may read in directory mode: VIRTKEEPER_* variables (or names
// the operator admits), files inside the credentials directory; and, run as a user runs it,
// a manifest naming any other secret of the controller sends nothing to its endpoint.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../controller/api/types.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';

const root = join(import.meta.dirname, '..', '..');
const hv = (credentialsRef: NonNullable<Hypervisor['spec']['credentialsRef']>): Hypervisor => ({
  apiVersion: 'virtkeeper.io/v1alpha1',
  kind: 'Hypervisor',
  metadata: { name: 'pve' },
  spec: { type: 'proxmox', endpoint: 'https://pve.example:8006', credentialsRef },
});

describe('credentialsRef.env', () => {
  it.each([
    ['PVE', { VIRTKEEPER_PVE_TOKEN: 't1' }, [], { token: 't1' }],
    ['PVE', { VIRTKEEPER_PVE_USERNAME: 'u', VIRTKEEPER_PVE_PASSWORD: 'p' }, [], { username: 'u', password: 'p' }],
    ['VIRTKEEPER_PVE', { VIRTKEEPER_PVE_TOKEN: 't2' }, [], { token: 't2' }],
    ['PVE', { PVE_TOKEN: 't3' }, ['PVE'], { token: 't3' }],
  ] as const)('env %s reads the prefixed names (or an admitted one)', async (name, env, allowEnv, expected) => {
    await expect(directoryCredentials(env, { allowEnv })(hv({ env: name }))).resolves.toEqual(expected);
  });

  it('an old manifest gets an error that says what to rename, and the old variable is not read', async () => {
    const read = directoryCredentials({ PVE_TOKEN: 'old-secret-value' })(hv({ env: 'PVE' }));
    await expect(read).rejects.toThrow(
      /credentialsRef env PVE reads VIRTKEEPER_PVE_TOKEN .*PVE_TOKEN is set but no longer read\. Rename it to VIRTKEEPER_PVE_TOKEN, or start virtkeeper with --allow-credential-env PVE/,
    );
    await expect(read).rejects.not.toThrow(/old-secret-value/);
  });

  it('a variable of the controller outside the prefix is never read for a manifest', async () => {
    // e.g. a cloud token the controller's process happens to have
    await expect(directoryCredentials({ AWS_SESSION_TOKEN: 'cloud' })(hv({ env: 'AWS_SESSION' }))).rejects.toThrow(/reads VIRTKEEPER_AWS_SESSION_TOKEN/);
  });
});

describe('credentialsRef.file', () => {
  let base: string;
  let dir: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'vk-creds-'));
    dir = join(base, 'credentials');
    await mkdir(dir);
    await writeFile(join(dir, 'pve.json'), JSON.stringify({ token: 'inside' }), { mode: 0o600 });
    await writeFile(join(base, 'elsewhere.json'), JSON.stringify({ token: 'outside' }));
    await symlink(join(base, 'elsewhere.json'), join(dir, 'link.json'));
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('reads a file inside the credentials directory, by relative or absolute name', async () => {
    await expect(directoryCredentials({}, { credentialsDir: dir })(hv({ file: 'pve.json' }))).resolves.toEqual({ token: 'inside' });
    await expect(directoryCredentials({}, { credentialsDir: dir })(hv({ file: join(dir, 'pve.json') }))).resolves.toEqual({ token: 'inside' });
  });

  it.each([
    ['an absolute path elsewhere', () => join(base, 'elsewhere.json'), /is outside the credentials directory; keep credentials files in .*--credentials-dir/],
    ['a path climbing out', () => '../elsewhere.json', /is outside the credentials directory/],
    ['a link inside that leads outside', () => 'link.json', /leads \(through a link\) outside the credentials directory/],
    ['a file of the system', () => '/etc/passwd', /is outside the credentials directory/],
  ])('refuses %s', async (_what, file, message) => {
    await expect(directoryCredentials({}, { credentialsDir: dir })(hv({ file: file() }))).rejects.toThrow(message);
  });

  it('without the directory, says to create it or name another', async () => {
    await expect(directoryCredentials({}, { credentialsDir: join(base, 'none') })(hv({ file: 'pve.json' }))).rejects.toThrow(
      /credentials directory .* does not exist; create it, or start virtkeeper with --credentials-dir/,
    );
  });
});

describe('virtkeeper apply with a manifest naming a credential that is not its to name', () => {
  it('sends nothing to the endpoint, says what to do, shows no value', async () => {
    const heard: string[] = [];
    const trap = createServer((req, res) => {
      heard.push(`${req.method} ${req.url}`);
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', () => r()));
    const dir = await mkdtemp(join(tmpdir(), 'vk-creds-cli-'));
    await mkdir(join(dir, 'creds'));
    try {
      const url = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
      await writeFile(
        join(dir, 'hv.yaml'),
        `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: trap}\nspec: {type: proxmox, endpoint: "${url}", credentialsRef: {env: DEPLOY}}\n---\napiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: trap2}\nspec: {type: proxmox, endpoint: "${url}", credentialsRef: {file: /etc/shadow}}\n`,
      );
      const r = await new Promise<{ code: number; out: string }>((resolve) => {
        execFile(
          process.execPath,
          ['bin/virtkeeper.js', '--state-dir', `${dir}-state`, '--credentials-dir', join(dir, 'creds'), 'apply', '-f', dir, '--wait', '--timeout', '5s'],
          { cwd: root, env: { ...process.env, DEPLOY_TOKEN: 'ci-deploy-token-value' } },
          (e, stdout, stderr) => resolve({ code: e ? 1 : 0, out: `${stdout}${stderr}` }),
        );
      });
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toMatch(/DEPLOY_TOKEN is set but no longer read\. Rename it to VIRTKEEPER_DEPLOY_TOKEN/);
      expect(r.out).toMatch(/credentials file \/etc\/shadow is outside the credentials directory/);
      expect(r.out).not.toContain('ci-deploy-token-value');
      expect(heard).toEqual([]);
    } finally {
      trap.close();
      await rm(dir, { recursive: true, force: true });
      await rm(`${dir}-state`, { recursive: true, force: true });
    }
  }, 30_000);
});
