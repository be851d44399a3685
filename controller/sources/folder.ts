// A folder of manifests, loaded into a desired-state store: what `apply`, `plan` and `run`
// read. One read takes the records' lastApplied specs (validation compares against them: a
// disk that would shrink) and replaces the store's content; what a broken file held stays.
import type { AnyResource } from '../api/types.ts';
import type { StatusRecord, StatusStore } from '../status/writer.ts';
import { FileCache } from './file-cache.ts';
import { formatProblem, loadFolder } from './load-folder.ts';
import { DesiredStore } from './store.ts';

export interface FolderRead {
  /** The records the read was made against (the state directory as it was). */
  records: StatusRecord[];
  /** Keys whose entry changed, appeared or vanished. */
  changed: Set<string>;
  problems: string[];
}

export class DesiredFolder {
  readonly path: string;
  readonly store: DesiredStore;
  private readonly statuses: StatusStore;
  /** The problems of the last read, one line each. */
  problems: string[] = [];
  /** The records the last read was made against. */
  records: StatusRecord[] = [];
  /** Reads of the folder so far. */
  reads = 0;
  /** Unchanged files are not parsed again on the next read. */
  readonly cache = new FileCache();

  constructor(o: { path: string; statuses: StatusStore; store?: DesiredStore }) {
    this.path = o.path;
    this.statuses = o.statuses;
    this.store = o.store ?? new DesiredStore();
  }

  /** Reads the folder again into the store. */
  async read(): Promise<FolderRead> {
    this.reads++;
    const records = await this.statuses.list();
    const lastApplied = new Map(records.flatMap((r) => (r.lastApplied ? [[r.key, r.lastApplied.spec as AnyResource['spec']] as const] : [])));
    const load = await loadFolder(this.path, { lastApplied, cache: this.cache });
    const changed = this.store.update(load, formatProblem);
    this.problems = load.problems.map(formatProblem);
    this.records = records;
    return { records, changed, problems: this.problems };
  }
}

/** A folder read once: what `converge` is given. */
export async function openFolder(path: string, statuses: StatusStore): Promise<DesiredFolder> {
  const f = new DesiredFolder({ path, statuses });
  await f.read();
  return f;
}
