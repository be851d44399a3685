// Kubernetes mode sets V8's heap sizing to prefer memory (run-kube.ts, preferMemory): under a
// steady churn of short-lived objects beside a live set, as resyncs make, the heap stays a
// fraction of what V8's defaults let it grow to. Measured in a child process each way, so the
// flag (set at run time, which V8 ignores silently if it no longer knows it) is what differs.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

const churn = `
const { preferMemory } = await import(${JSON.stringify(join(root, 'controller/cli/commands/run-kube.ts'))});
const applied = preferMemory();
const live = [];
for (let i = 0; i < 300000; i++) live.push({ a: 'x' + i, b: [i, i + 1] });
const held = [];
let peak = 0;
const end = Date.now() + 4000;
while (Date.now() < end) {
  const pass = [];
  for (let i = 0; i < 50000; i++) pass.push({ id: 'vm' + i, s: JSON.stringify({ i, n: 'n' + i }) });
  held.push(pass);
  if (held.length > 3) held.shift();
  peak = Math.max(peak, process.memoryUsage().heapTotal);
  await new Promise((r) => setImmediate(r));
}
process.stdout.write(JSON.stringify({ applied, peak, live: live.length }));
`;

async function peakHeap(env: Record<string, string>): Promise<{ applied: boolean; peak: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', churn], { cwd: root, env: { ...process.env, ...env } });
  return JSON.parse(stdout) as { applied: boolean; peak: number };
}

describe('preferMemory', () => {
  it('keeps the heap a fraction of the default under churn; VK_V8_SPEED=1 leaves the default', async () => {
    const speed = await peakHeap({ VK_V8_SPEED: '1' });
    const memory = await peakHeap({ VK_V8_SPEED: '' });
    expect([speed.applied, memory.applied]).toEqual([false, true]);
    expect(memory.peak).toBeLessThan(speed.peak * 0.6);
  }, 60_000);
});
