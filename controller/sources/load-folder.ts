// Loads a folder of manifests: every *.yaml / *.yml below it, several documents per file.
// Each file is parsed and validated on its own, so one broken file never hides the others;
// the files that failed are reported, so their resources can be held as they were. Nothing
// a single file does (vanish mid-read, grow past the cap, point outside) fails the whole load.
import { constants, type Dirent } from 'node:fs';
import { type FileHandle, open, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { checkConsistency, type ConsistencyOptions } from '../api/consistency.ts';
import type { ManifestProblem } from '../api/manifest.ts';
import type { ValidResource } from '../api/validate.ts';
import { checkMembers } from '../core/vmset.ts';
import { type FileCache, loadFileText } from './file-cache.ts';

/** The largest manifest file read (one file, not the folder): bigger ones are reported, not read. */
export const MAX_MANIFEST_BYTES = 4 * 2 ** 20;

export interface FolderLoad {
  resources: ValidResource[];
  problems: ManifestProblem[];
  /** Files (relative) that had at least one problem: their resources are not to be trusted. */
  brokenFiles: Set<string>;
  files: string[];
}

export interface FolderOptions extends ConsistencyOptions {
  maxFileBytes?: number;
  /** What a long-running reader keeps of unchanged files between reads (`run -f`). */
  cache?: FileCache;
}

/** What the walk found: files to read (relative name → real path) and per-entry problems. */
interface Walk {
  root: string;
  files: Map<string, string>;
  problems: ManifestProblem[];
  /** Real paths already taken, so a link to a file (or folder) in the folder does not load it twice. */
  seen: Set<string>;
  /** Links found, followed after every real entry so the real file owns its resources. */
  links: string[];
}

const NOT_REGULAR = 'not a regular file (a pipe or device?): not read, and what came from it is held as it was';
const isYaml = (name: string) => /\.ya?ml$/i.test(name);
const errCode = (e: unknown) => (e as NodeJS.ErrnoException).code ?? 'error';

function inside(root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Directory problems are named with a trailing slash (`team-a/`, `./` for the folder itself):
 * the store holds every resource whose file lies below one (see DesiredStore.update).
 */
async function walk(dir: string, realDir: string, w: Walk): Promise<void> {
  const rel = relative(w.root, dir);
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    w.problems.push({ file: rel === '' ? './' : `${rel}/`, line: 1, message: `cannot read this folder (${errCode(e)}); what came from it is held as it was until it can be read again` });
    return;
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    const real = join(realDir, e.name);
    if (e.isSymbolicLink()) w.links.push(p);
    else if (w.seen.has(real)) continue;
    else if (e.isDirectory()) {
      w.seen.add(real);
      await walk(p, real, w);
    } else if (e.isFile() && isYaml(e.name)) {
      w.seen.add(real);
      w.files.set(relative(w.root, p), real);
    } else if (isYaml(e.name)) {
      w.problems.push({ file: relative(w.root, p), line: 1, message: NOT_REGULAR });
    }
  }
}

/** Follows a link that stays inside the folder; one that leaves it, or leads nowhere, is a problem of its own. */
async function follow(link: string, w: Walk): Promise<void> {
  const name = relative(w.root, link);
  const s = await stat(link).catch(() => undefined);
  if (s && !s.isDirectory() && !isYaml(link)) return; // not a manifest, as a plain file would not be
  // A link to a folder, or one leading nowhere that may have been a folder, holds everything below its name.
  const key = s?.isDirectory() || (!s && !isYaml(link)) ? `${name}/` : name;
  let real: string;
  try {
    real = await realpath(link);
  } catch (e) {
    w.problems.push({ file: key, line: 1, message: `symbolic link to nothing (${errCode(e)}); what came from it is held as it was. Restore its target or remove the link` });
    return;
  }
  if (!inside(w.root, real)) {
    w.problems.push({
      file: key,
      line: 1,
      message: 'symbolic link to a path outside the folder: not followed, and what came from it is held as it was. Copy the file into the folder, or point the link inside it',
    });
    return;
  }
  if (w.seen.has(real)) return;
  w.seen.add(real);
  const t = await stat(real).catch(() => undefined);
  if (t?.isDirectory()) await walk(link, real, w);
  else if (t?.isFile()) w.files.set(name, real);
  else w.problems.push({ file: name, line: 1, message: NOT_REGULAR });
}

/** Reads one file with the size cap; a failure is that file's problem only. */
async function readManifest(name: string, path: string, maxBytes: number): Promise<{ text: string } | { problem: ManifestProblem }> {
  const fail = (message: string) => ({ problem: { file: name, line: 1, message } });
  let fh: FileHandle;
  try {
    // Non-blocking: a FIFO put where a manifest was must not hang the load.
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if (errCode(e) === 'ENOENT') return fail('the file vanished while the folder was read (a checkout in progress?); what came from it is held as it was until the next reload');
    return fail(`cannot read this file (${errCode(e)}); what came from it is held as it was`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return fail(NOT_REGULAR);
    const size = st.size;
    const limit = `the limit is ${Math.round((maxBytes / 2 ** 20) * 10) / 10} MiB per file`;
    if (size > maxBytes) return fail(`file is ${Math.round((size / 2 ** 20) * 10) / 10} MiB, over the size limit (${limit}); split it into several files`);
    // Read at most one byte past the cap: a file growing while it is read is caught too.
    const buf = Buffer.alloc(Math.min(size, maxBytes) + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n > maxBytes) return fail(`file grew past the size limit while it was read (${limit}); split it into several files`);
    return { text: buf.subarray(0, n).toString('utf8') };
  } catch (e) {
    return fail(`cannot read this file (${errCode(e)}); what came from it is held as it was`);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Parses and validates the given texts (relative file name → content). Pure apart from the optional cache: testable without a disk. */
export function loadTexts(texts: ReadonlyMap<string, string>, options: ConsistencyOptions & { cache?: FileCache } = {}, readProblems: ManifestProblem[] = []): FolderLoad {
  const resources: ValidResource[] = [];
  const problems: ManifestProblem[] = [...readProblems];
  for (const [file, text] of texts) {
    const one = options.cache ? options.cache.load(file, text) : loadFileText(file, text);
    resources.push(...one.resources);
    problems.push(...one.problems);
  }
  options.cache?.sweep();
  const consistent = checkConsistency(resources, options);
  problems.push(...consistent.problems);
  const members = checkMembers(consistent.accepted);
  problems.push(...members.problems);
  problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { resources: members.accepted, problems, brokenFiles: new Set(problems.map((p) => p.file)), files: [...texts.keys()] };
}

/** Never rejects: every failure is a problem of the file (or folder) it belongs to. */
export async function loadFolder(dir: string, options: FolderOptions = {}): Promise<FolderLoad> {
  const root = await realpath(dir).catch(() => undefined);
  const w: Walk = { root: root ?? dir, files: new Map(), problems: [], seen: new Set(), links: [] };
  if (root === undefined) w.problems.push({ file: './', line: 1, message: `cannot read the folder ${dir}; every resource is held as it was until it can be read again` });
  else {
    w.seen.add(root);
    await walk(root, root, w);
  }
  // Links last, in name order; a linked folder may hold further links.
  for (let link = w.links.sort().shift(); link !== undefined; link = w.links.sort().shift()) await follow(link, w);
  const texts = new Map<string, string>();
  for (const [name, path] of [...w.files].sort(([a], [b]) => a.localeCompare(b))) {
    const r = await readManifest(name, path, options.maxFileBytes ?? MAX_MANIFEST_BYTES);
    if ('text' in r) texts.set(name, r.text);
    else w.problems.push(r.problem);
  }
  return loadTexts(texts, options, w.problems);
}

export function formatProblem(p: ManifestProblem): string {
  const where = `${p.file}:${p.line}`;
  const what = [p.resource, p.path].filter(Boolean).join(' ');
  return `${where}: ${what ? `${what}: ` : ''}${p.message}`;
}
