// What the CLI loads to start: the web server, the spreadsheet reader and the directory-mode
// watcher are imported by the commands that use them, so `plan`/`apply` (and --help) do not
// pay for them (exceljs alone is ~150 modules).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** The packages a fresh process loads for `virtkeeper --help`. */
function packagesLoaded(): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({ resolve(s, c, next) { const r = next(s, c); const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(r.url); if (m) seen.add(m[1]); return r; } });
    const { main } = await import(${JSON.stringify(join(root, 'controller/cli/main.ts'))});
    process.stdout.write = () => true;
    await main(['node', 'virtkeeper', '--help']);
    process.stderr.write(JSON.stringify([...seen]));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  return JSON.parse(r.stderr) as string[];
}

describe('CLI start-up', () => {
  it('does not load what only ui, convert and run use', () => {
    const loaded = packagesLoaded();
    expect(loaded).toContain('commander');
    expect(loaded.filter((p) => ['exceljs', 'fastify', 'chokidar', '@kubernetes/client-node'].includes(p))).toEqual([]);
  });
});
