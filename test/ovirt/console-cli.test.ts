// `virtkeeper console` against the oVirt simulator over HTTP, as a user runs it: a VM applied
// from a folder, then `--print` gives the engine's remote-viewer file whose ticket the VM's
// display accepts; the ticket is in no log line and nowhere in the state directory.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as tcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { parseViewerFile } from '../support/viewer-file.ts';

const root = join(import.meta.dirname, '..', '..');

function present(port: number, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tcp({ host: '127.0.0.1', port }, () => s.write(`${password}\n`));
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
    });
    s.on('end', () => resolve(got.trim()));
    s.on('error', reject);
  });
}

describe('virtkeeper console (oVirt simulator)', () => {
  let sim: RunningOvirtSimulator;
  let dir: string;
  let stateDir: string;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      const p = execFile(process.execPath, ['bin/virtkeeper.js', '--state-dir', stateDir, ...args], { cwd: root, env }, (e, out, err) =>
        resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
      );
      p.stdin?.end();
    });

  beforeAll(async () => {
    sim = await startOvirtSimulator({ name: 'ov-cons', templates: ['centos-9'], imageCopyMs: 30, bootStepMs: 10, diskResizeMs: 10 });
    dir = await mkdtemp(join(tmpdir(), 'vk-ov-console-'));
    stateDir = `${dir}-state`;
    env = { ...process.env, VIRTKEEPER_OVC_USERNAME: sim.credentials.username, VIRTKEEPER_OVC_PASSWORD: sim.credentials.password };
    await writeFile(
      join(dir, 'all.yaml'),
      `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ovc}\nspec: {type: ovirt, endpoint: "${sim.url}", credentialsRef: {env: OVC}, defaults: {cluster: Default, storageDomain: data1}}\n---\napiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ovc-desk}\nspec: {hypervisor: ovc, template: centos-9, memory: 1Gi}\n`,
    );
    const applied = await cli(['apply', '-f', dir, '--wait', '-o', 'json']);
    expect(applied.code, applied.err).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  it('--print gives the engine’s file; its ticket opens the display; it is logged nowhere', async () => {
    const r = await cli(['--log-level', 'debug', 'console', 'ovc-desk', '-f', dir, '--print']);
    expect(r.code, r.err).toBe(0);
    const f = parseViewerFile(r.out);
    expect(f).toMatchObject({ type: 'spice', host: '127.0.0.1', 'delete-this-file': '1' });
    expect(f.password).toBeTruthy();
    expect(await present(Number(f.port), f.password ?? '')).toBe('OK ovc-desk');
    expect(r.err).not.toContain(f.password ?? '');
    const state: string[] = [];
    for (const e of await readdir(stateDir, { withFileTypes: true, recursive: true })) if (e.isFile()) state.push(await readFile(join(e.parentPath, e.name), 'utf8'));
    expect(state.join('\n')).not.toContain(f.password ?? '');
    // VNC when asked.
    const v = await cli(['console', 'ovc-desk', '-f', dir, '--print', '--protocol', 'vnc']);
    expect(v.code, v.err).toBe(0);
    const vf = parseViewerFile(v.out);
    expect(vf.type).toBe('vnc');
    expect(await present(Number(vf.port), vf.password ?? '')).toBe('OK ovc-desk');
    // The newer ticket replaced the older one.
    expect(await present(Number(f.port), f.password ?? '')).toBe('DENIED');
  });
});
