// `virtkeeper console` against the oVirt simulator over HTTP, as a user runs it: a VM applied
// from a folder, then `--print` gives the engine's remote-viewer file whose ticket the VM's
// display accepts; the ticket is in no log line and nowhere in the state directory.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { virtkeeperCli } from '../support/cli.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { parseViewerFile, presentPassword } from '../support/viewer-file.ts';

describe('virtkeeper console (oVirt simulator)', () => {
  let sim: RunningOvirtSimulator;
  let dir: string;
  let stateDir: string;
  let env: NodeJS.ProcessEnv;
  const cli = virtkeeperCli(() => ({ stateDir, env }));

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
    expect(await presentPassword(Number(f.port), f.password ?? '')).toBe('OK ovc-desk');
    expect(r.err).not.toContain(f.password ?? '');
    const state: string[] = [];
    for (const e of await readdir(stateDir, { withFileTypes: true, recursive: true })) if (e.isFile()) state.push(await readFile(join(e.parentPath, e.name), 'utf8'));
    expect(state.join('\n')).not.toContain(f.password ?? '');
    // VNC when asked.
    const v = await cli(['console', 'ovc-desk', '-f', dir, '--print', '--protocol', 'vnc']);
    expect(v.code, v.err).toBe(0);
    const vf = parseViewerFile(v.out);
    expect(vf.type).toBe('vnc');
    expect(await presentPassword(Number(vf.port), vf.password ?? '')).toBe('OK ovc-desk');
    // The newer ticket replaced the older one.
    expect(await presentPassword(Number(f.port), f.password ?? '')).toBe('DENIED');
  });
});
