// The state directory of directory mode: one JSON file per resource, outside the checkout,
// written atomically (temp file + fsync + rename) so a crash never leaves a torn status.
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { StatusRecord, StatusStore } from './writer.ts';

/** The default state dir for a folder: under the user's state home, keyed by the folder's path. */
export function defaultStateDir(folder: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  const abs = resolve(folder);
  const id = createHash('sha256').update(abs).digest('hex').slice(0, 12);
  const label = abs.split('/').filter(Boolean).pop() ?? 'root';
  return join(base, 'virtkeeper', `${label}-${id}`);
}

const fileOf = (key: string) => `${encodeURIComponent(key).replace(/%2F/g, '~')}.json`;

export class StateDir implements StatusStore {
  readonly dir: string;
  private seq = 0;
  constructor(dir: string) {
    this.dir = dir;
  }

  async read(key: string): Promise<StatusRecord | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, fileOf(key)), 'utf8')) as StatusRecord;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async list(): Promise<StatusRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: StatusRecord[] = [];
    for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
      try {
        out.push(JSON.parse(await readFile(join(this.dir, n), 'utf8')) as StatusRecord);
      } catch {
        // A file that cannot be read is skipped, never treated as "the resource is gone".
      }
    }
    return out;
  }

  async write(record: StatusRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const final = join(this.dir, fileOf(record.key));
    const tmp = `${final}.${process.pid}.${this.seq++}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(record, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
  }

  async remove(key: string): Promise<void> {
    await rm(join(this.dir, fileOf(key)), { force: true });
  }
}
