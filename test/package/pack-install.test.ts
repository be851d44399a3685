// The package as a user gets it: `npm pack`, then `npm install <tarball>` into an empty project
// (production dependencies only), then the installed bin and a library entry point, run on Node.js
// with type stripping off. Node.js never strips types under node_modules, so this proves the
// package runs from the JavaScript compiled on `prepack` and needs no TypeScript source.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
// The project's Node.js 26, so the run does not depend on the system's; the flag makes sure
// nothing relies on type stripping.
const node = join(root, 'node_modules', '.bin', 'node');
const noStrip = '--no-experimental-strip-types';

interface Run {
  code: number;
  out: string;
  err: string;
}

function run(cmd: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeout ?? 60_000, maxBuffer: 16 << 20 }, (e, stdout, stderr) => {
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

async function tsSources(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) found.push(join(e.parentPath, e.name));
  }
  return found;
}

describe('npm pack, then npm install into an empty project', () => {
  let work = '';
  let project = '';
  let installed = '';
  const bin = () => join(project, 'node_modules', 'virtkeeper', 'bin', 'virtkeeper.js');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'virtkeeper-pack-'));
    const packed = await run('npm', ['pack', '--pack-destination', work, '--no-audit', '--no-fund'], { cwd: root, timeout: 180_000 });
    expect(packed.code, packed.err).toBe(0);
    const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
    expect(tarball, packed.out).toBeDefined();
    project = join(work, 'project');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'virtkeeper-user', private: true, type: 'module' }));
    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, tarball ?? '')], { cwd: project, timeout: 240_000 });
    expect(install.code, install.err).toBe(0);
    installed = join(project, 'node_modules', 'virtkeeper');
  }, 420_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('installs compiled JavaScript and declarations, no TypeScript source, and no devDependency', async () => {
    expect(existsSync(join(installed, 'dist', 'controller', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(installed, 'dist', 'controller', 'api', 'types.d.ts'))).toBe(true);
    expect(await tsSources(installed)).toEqual([]);
    // The project's own Node.js and compiler are devDependencies: a user's install has neither.
    expect(existsSync(join(project, 'node_modules', 'node'))).toBe(false);
    expect(existsSync(join(project, 'node_modules', 'typescript'))).toBe(false);
  });

  it('virtkeeper --help prints the usage with an example', async () => {
    const r = await run(node, [noStrip, join(project, 'node_modules', '.bin', 'virtkeeper'), '--help'], { cwd: project });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^Usage: virtkeeper /);
    expect(r.out).toMatch(/quickstart/);
    expect(r.out).toMatch(/Example:\n {2}virtkeeper /);
  });

  it('virtkeeper crds prints the CustomResourceDefinitions', async () => {
    const r = await run(node, [noStrip, bin(), 'crds'], { cwd: project });
    expect(r.code, r.err).toBe(0);
    // One per kind, as the checkout's crds/ folder has them.
    const kinds = (await readdir(join(import.meta.dirname, '..', '..', 'crds'))).filter((f) => f.endsWith('.yaml')).length;
    expect(kinds).toBeGreaterThanOrEqual(9);
    expect(r.out.match(/^kind: CustomResourceDefinition$/gm)?.length).toBe(kinds);
    expect(r.out).toMatch(/name: virtualmachinesnapshots\.virtkeeper\.io/);
    expect(r.out).toMatch(/name: virtualmachines\.virtkeeper\.io/);
  });

  it('virtkeeper sim proxmox prints its JSON line and answers on it', async () => {
    const child = spawn(node, [noStrip, bin(), 'sim', 'proxmox'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
        });
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
        });
        child.once('exit', (code) => reject(new Error(`sim exited with ${code}: ${err}`)));
        setTimeout(() => reject(new Error(`no JSON line within 20s: ${out}${err}`)), 20_000).unref();
      });
      const sim = JSON.parse(line) as { url: string; username: string };
      expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(sim.username).toBe('root@pam');
      const res = await fetch(`${sim.url}/api2/json/version`);
      expect(res.status).toBe(401);
    } finally {
      child.kill();
    }
  });

  it('virtkeeper quickstart converges and exits 0 (examples/quickstart found from dist/)', async () => {
    const r = await run(node, [noStrip, bin(), 'quickstart'], { cwd: project, env: { ...process.env, VIRTKEEPER_QUICKSTART_LIBVIRT: 'off' }, timeout: 90_000 });
    expect(r.code, `${r.out}${r.err}`).toBe(0);
    expect(r.out).toMatch(/vm\/default\/web-1 {2}phase Running \(Ready\)/);
    expect(r.out).toMatch(/converged in [\d.]+s: (\d+)\/\1 Ready/);
  }, 120_000);

  it('a library entry point imports from the project, and its declarations typecheck', async () => {
    const script = [
      "const { startProxmoxSimulator } = await import('virtkeeper/simulators/proxmox');",
      "const { API_VERSION } = await import('virtkeeper/api/common');",
      'const sim = await startProxmoxSimulator({ nodes: 1 });',
      'console.log(JSON.stringify({ API_VERSION, url: sim.url }));',
      'await sim.close();',
    ].join('\n');
    const r = await run(node, [noStrip, '--input-type=module', '-e', script], { cwd: project });
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ API_VERSION: 'virtkeeper.io/v1alpha1', url: expect.stringMatching(/^http:/) });

    // The `types` conditions lead to declarations a strict consumer compiles against (lib checks on).
    await writeFile(
      join(project, 'consumer.ts'),
      [
        "import type { VirtualMachine } from 'virtkeeper/api/types';",
        "import { API_VERSION } from 'virtkeeper/api/common';",
        "import { startOvirtSimulator } from 'virtkeeper/simulators/ovirt';",
        "import { startProxmoxSimulator, type RunningProxmoxSimulator } from 'virtkeeper/simulators/proxmox';",
        "import { main } from 'virtkeeper/cli';",
        "const kind: VirtualMachine['kind'] = 'VirtualMachine';",
        'const sim: RunningProxmoxSimulator = await startProxmoxSimulator({ nodes: 1 });',
        'export { kind, sim, API_VERSION, startOvirtSimulator, main };',
      ].join('\n'),
    );
    const tsconfig = {
      compilerOptions: { target: 'es2024', module: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(root, 'node_modules', '@types')] },
      files: ['consumer.ts'],
    };
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = await run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', project], { cwd: project });
    expect(tsc.out, tsc.err).toBe('');
    expect(tsc.code).toBe(0);
  });
});
