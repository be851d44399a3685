// `virtkeeper console --print` on a real libvirtd, the CLI as a user runs it: the file's host,
// port and password let a VNC client in (RFB 3.8, VNC authentication); the password is in no
// log line and in nothing of the state directory.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { virtkeeperCli } from '../support/cli.ts';
import { parseViewerFile } from '../support/viewer-file.ts';
import { vncLogin } from './vnc-client.ts';

const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
const s = Math.random().toString(36).slice(2, 6);
const VM = `vk-concli-${s}`;

describe.skipIf(!uri)('virtkeeper console on libvirt', () => {
  let dir: string;
  let stateDir: string;
  const cli = virtkeeperCli(() => ({ stateDir }));
  const hv = `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: kvm}\nspec: {type: libvirt, hosts: [{name: host1, uri: "${uri}"}]}\n`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vk-lv-console-'));
    stateDir = `${dir}-state`;
    await writeFile(
      join(dir, 'all.yaml'),
      `${hv}---\napiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${VM}}\nspec: {hypervisor: kvm, memory: 64Mi, disks: [{name: root, size: 16Mi}], guestAgent: false}\n`,
    );
    const r = await cli(['apply', '-f', dir, '--wait']);
    expect(r.code, r.err).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await writeFile(join(dir, 'all.yaml'), hv);
    await cli(['apply', '-f', dir, '--wait', '--max-delete-share', '1']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  }, 120_000);

  it('--print gives a file a VNC client logs in with; the password is logged nowhere', async () => {
    const r = await cli(['--log-level', 'debug', 'console', VM, '-f', dir, '--print']);
    expect(r.code, r.err).toBe(0);
    const f = parseViewerFile(r.out);
    expect(f).toMatchObject({ type: 'vnc', host: '127.0.0.1', 'delete-this-file': '1' });
    expect(await vncLogin(f.host ?? '', Number(f.port), f.password ?? '')).toEqual({ version: 'RFB 003.008\n', result: 0 });
    expect(r.err).not.toContain(f.password);
    const files = await readdir(stateDir, { recursive: true, withFileTypes: true });
    for (const e of files) if (e.isFile()) expect(await readFile(join(e.parentPath, e.name), 'utf8')).not.toContain(f.password);
  }, 60_000);
});
