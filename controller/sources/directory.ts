// Watches a folder with chokidar and turns bursts of file events (a `git pull` touching
// 500 files) into one reload after a quiet period. A reload re-reads the whole folder:
// level-based, so a missed event is healed by the next one or the periodic resync.
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import type { AnyResource } from '../api/types.ts';
import { safeError } from '../core/errors.ts';
import type { DesiredStore } from './store.ts';
import type { StatusStore } from '../status/writer.ts';
import { formatProblem, loadFolder } from './load-folder.ts';

export interface DirectorySourceOptions {
  folder: string;
  store: DesiredStore;
  statuses: StatusStore;
  logger: Logger;
  /** Called with the keys that changed after each reload. */
  onChange: (keys: Set<string>) => void;
  debounceMs?: number;
}

export class DirectorySource {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private again = false;
  private lastProblems = new Set<string>();
  reloads = 0;
  private readonly o: DirectorySourceOptions;

  constructor(options: DirectorySourceOptions) {
    this.o = options;
  }

  async start(): Promise<void> {
    await this.reload();
    this.watcher = watch(this.o.folder, { ignoreInitial: true, ignored: (p) => /(^|\/)\.(git|svn)(\/|$)/.test(p), awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 } });
    this.watcher.on('all', (_event, path) => {
      if (!/\.ya?ml$/i.test(path) && !_event.endsWith('Dir')) return;
      this.schedule();
    });
    await new Promise<void>((resolve) => this.watcher?.once('ready', () => resolve()));
  }

  private schedule(ms = this.o.debounceMs ?? 300): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), ms);
  }

  /** Reloads now; concurrent calls collapse into one more pass. */
  async reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        this.reloads++;
        try {
          await this.pass();
        } catch (e) {
          // loadFolder never rejects; this is the state directory or a callback. Keep watching, try again.
          this.o.logger.error({ folder: this.o.folder, err: safeError(e).message }, 'reload failed; retrying');
          this.schedule(5000);
        }
      } while (this.again);
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async pass(): Promise<void> {
    const records = await this.o.statuses.list();
    const lastApplied = new Map(records.flatMap((r) => (r.lastApplied ? [[r.key, r.lastApplied.spec as AnyResource['spec']] as const] : [])));
    const load = await loadFolder(this.o.folder, { lastApplied });
    const lines = new Set(load.problems.map(formatProblem));
    // Log each problem once per change, not on every reload.
    for (const l of lines) if (!this.lastProblems.has(l)) this.o.logger.error({ folder: this.o.folder }, `invalid manifest: ${l}`);
    this.lastProblems = lines;
    const changed = this.o.store.update(load, formatProblem);
    // Removed VMs: records whose resource vanished (and whose file is readable).
    for (const r of records) if (!this.o.store.get(r.key) && !(r.source && this.o.store.isBroken(r.source.file))) changed.add(r.key);
    if (changed.size > 0) this.o.onChange(changed);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.watcher?.close();
  }
}
