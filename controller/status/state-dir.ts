// The state directory of directory mode: one JSON file per resource, outside the checkout,
// written atomically (temp file + fsync + rename) so a crash never leaves a torn status, and
// only when it changes: a record that says what the file says already (but its updatedAt) is
// not written again, so a steady pass over 10,000 VMs writes nothing.
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
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

/** What a record says, but when it was written: a digest, so remembering it costs 20 bytes. */
function digest(r: StatusRecord): string {
  const { updatedAt: _at, ...rest } = r;
  return createHash('sha1').update(JSON.stringify(rest)).digest('base64');
}

export class StateDir implements StatusStore {
  readonly dir: string;
  private seq = 0;
  /** Key → digest of the record as this process last read or wrote it. */
  private readonly known = new Map<string, string>();
  /** Records written (not skipped as unchanged), for tests and benchmarks. */
  writes = 0;
  /** Record files read by list(), for tests and benchmarks. */
  listReads = 0;
  /**
   * A long-running reader (`run -f`) lists the directory on every folder read: it keeps each
   * file's text with its inode, size and mtime, and reads again only files that changed (a write
   * renames a new file into place, so a new inode). Off for one-pass commands, which list once.
   */
  private listing: Map<string, { ino: number; size: number; mtimeMs: number; text: string }> | undefined;
  constructor(dir: string, options: { rememberListing?: boolean } = {}) {
    this.dir = dir;
    if (options.rememberListing) this.listing = new Map();
  }

  /** Turns on remembering the listing (see `listing`). */
  rememberListing(): void {
    this.listing ??= new Map();
  }

  async read(key: string): Promise<StatusRecord | undefined> {
    try {
      const r = JSON.parse(await readFile(join(this.dir, fileOf(key)), 'utf8')) as StatusRecord;
      this.known.set(key, digest(r));
      return r;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.known.delete(key);
        return undefined;
      }
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
    const listed = names.filter((x) => x.endsWith('.json')).sort();
    // A few at a time: thousands of files opened at once would run out of descriptors.
    const texts: (string | undefined)[] = [];
    for (let i = 0; i < listed.length; i += 32) texts.push(...(await Promise.all(listed.slice(i, i + 32).map((n) => this.textOf(n)))));
    if (this.listing) {
      const present = new Set(listed);
      for (const n of this.listing.keys()) if (!present.has(n)) this.listing.delete(n);
    }
    for (const text of texts) {
      if (text === undefined) continue;
      try {
        const r = JSON.parse(text) as StatusRecord;
        this.known.set(r.key, digest(r));
        out.push(r);
      } catch {
        // A file that cannot be read is skipped, never treated as "the resource is gone".
      }
    }
    return out;
  }

  /** A record file's text: from the remembered listing when the file is the one read before. */
  private async textOf(name: string): Promise<string | undefined> {
    const path = join(this.dir, name);
    try {
      if (!this.listing) {
        this.listReads++;
        return await readFile(path, 'utf8');
      }
      const st = await stat(path);
      const had = this.listing.get(name);
      if (had && had.ino === st.ino && had.size === st.size && had.mtimeMs === st.mtimeMs) return had.text;
      this.listReads++;
      const text = await readFile(path, 'utf8');
      this.listing.set(name, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, text });
      return text;
    } catch {
      return undefined;
    }
  }

  async write(record: StatusRecord): Promise<void> {
    const d = digest(record);
    if (this.known.get(record.key) === d) return;
    this.writes++;
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
    this.known.set(record.key, d);
  }

  async remove(key: string): Promise<void> {
    this.known.delete(key);
    await rm(join(this.dir, fileOf(key)), { force: true });
  }
}
