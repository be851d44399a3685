// Provider memory in the state directory: one file per Hypervisor and key, written atomically
// (temp file + rename), so a crash leaves the last whole text. `readOnly` (plan) never writes.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProviderMemory } from '../core/provider.ts';

export function fileMemory(dir: string, options: { readOnly?: boolean } = {}): (hypervisor: string) => ProviderMemory {
  let seq = 0;
  return (hypervisor) => {
    const file = (key: string) => join(dir, `${encodeURIComponent(hypervisor)}.${encodeURIComponent(key)}.json`);
    return {
      read: async (key) => {
        try {
          return await readFile(file(key), 'utf8');
        } catch {
          return undefined;
        }
      },
      write: async (key, text) => {
        if (options.readOnly) return;
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const tmp = `${file(key)}.${process.pid}.${seq++}.tmp`;
        await writeFile(tmp, text, { mode: 0o600 });
        await rename(tmp, file(key));
      },
    };
  };
}
