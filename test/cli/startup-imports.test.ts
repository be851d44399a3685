// What a command loads at start: the CLI module graph without exceljs (the spreadsheet reader)
// or fastify (the inventory server). They are loaded when a sheet is read or --ui is given, so
// a controller in Kubernetes mode does not hold them (some 20 MB of its resident memory).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

// Every module resolved while the CLI is imported (module.registerHooks sees ESM and require alike).
const probe = `
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
await import(${JSON.stringify(join(root, 'controller/cli/main.ts'))});
process.stdout.write(JSON.stringify([...seen]));
`;

describe('the CLI at start', () => {
  it('does not load exceljs or fastify', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe], { cwd: root });
    const urls = JSON.parse(stdout) as string[];
    expect(urls.some((u) => u.includes('/controller/cli/commands/run.ts'))).toBe(true);
    expect(urls.filter((u) => /\/node_modules\/(exceljs|fastify|@fastify)\//.test(u))).toEqual([]);
  }, 60_000);
});
