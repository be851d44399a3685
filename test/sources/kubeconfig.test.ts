// The kubeconfig reader: inline data and files beside the kubeconfig, tokens read again from
// their file, the current context chosen, and errors that say what is missing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeAccess } from '../../controller/sources/kubeconfig.ts';

let dir: string;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const config = (
  users: string,
  clusters = `- name: c1\n  cluster: {server: 'https://one.example:6443/', certificate-authority: ca.pem}\n- name: c2\n  cluster: {server: 'https://two.example', certificate-authority-data: ${b64('CA2')}, insecure-skip-tls-verify: true}`,
) =>
  `apiVersion: v1\nkind: Config\ncurrent-context: second\ncontexts:\n- name: first\n  context: {cluster: c1, user: u1}\n- name: second\n  context: {cluster: c2, user: u2}\nclusters:\n${clusters}\nusers:\n${users}\n`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vk-kubeconfig-'));
  await writeFile(join(dir, 'ca.pem'), 'CA1');
  await writeFile(join(dir, 'token'), 'tok-1\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('loadKubeAccess', () => {
  it('takes the current context, inline certificate data, and the cluster without its trailing slash', async () => {
    const path = join(dir, 'inline.yaml');
    await writeFile(path, config(`- name: u1\n  user: {token: nope}\n- name: u2\n  user: {client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')}}`));
    const a = await loadKubeAccess(path);
    expect(a).toMatchObject({ server: 'https://two.example', ca: 'CA2', cert: 'CERT', key: 'KEY', insecureSkipVerify: true });
    expect(a.token).toBeUndefined();
  });

  it('reads files relative to the kubeconfig, and a token file again on every use (projected tokens rotate)', async () => {
    const path = join(dir, 'files.yaml');
    await writeFile(
      path,
      config(`- name: u2\n  user: {tokenFile: token}`).replace('current-context: second', 'current-context: second').replace('certificate-authority-data: Q0Ey', 'certificate-authority: ca.pem'),
    );
    const a = await loadKubeAccess(path);
    expect(a.ca).toBe('CA1');
    expect(a.token?.()).toBe('tok-1');
    await writeFile(join(dir, 'token'), 'tok-2\n');
    expect(a.token?.()).toBe('tok-2');
  });

  it('names what is missing: no cluster with a server, an unreadable file, no cluster to run in', async () => {
    const path = join(dir, 'empty.yaml');
    await writeFile(path, 'apiVersion: v1\nkind: Config\n');
    await expect(loadKubeAccess(path)).rejects.toThrow(/has no current cluster with a server/);
    await expect(loadKubeAccess(join(dir, 'absent.yaml'))).rejects.toThrow(/cannot read the kubeconfig .*absent\.yaml: ENOENT/);
    const host = process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_HOST;
    await expect(loadKubeAccess()).rejects.toThrow(/not running in a cluster.*pass --kubeconfig/);
    if (host !== undefined) process.env.KUBERNETES_SERVICE_HOST = host;
  });
});
