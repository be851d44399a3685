// The whole tree typechecks under strict settings: CI proves it, not only an editor.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('tsc --noEmit passes on the whole project', async () => {
  const root = join(import.meta.dirname, '..');
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  const r = await promisify(execFile)(tsc, ['--noEmit', '-p', root], { cwd: root }).then(
    () => ({ out: '' }),
    (e: { stdout?: string }) => ({ out: e.stdout ?? 'tsc failed' }),
  );
  expect(r.out).toBe('');
}, 120_000);
