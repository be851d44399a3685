// Watches a folder with chokidar. The first change to a quiet folder starts a reload at once
// (leading edge: a new manifest is acted on without waiting out a debounce); what follows
// within the quiet period (the rest of a `git pull` touching 500 files) is coalesced into one
// reload after it. A reload re-reads the whole folder: level-based, so a missed event is
// healed by the next one or the periodic resync.
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { safeError } from '../core/errors.ts';
import type { DesiredStore } from './store.ts';
import type { StatusStore } from '../status/writer.ts';
import { DesiredFolder, type FolderRead } from './folder.ts';

export interface DirectorySourceOptions {
  folder: string;
  store: DesiredStore;
  statuses: StatusStore;
  logger: Logger;
  /** Called with the keys that changed after each reload, and the read (its records: the state directory as it was). */
  onChange: (keys: Set<string>, read: FolderRead) => void;
  debounceMs?: number;
  /** The clock the quiet period is measured with (default Date.now). */
  now?: () => number;
}

export class DirectorySource {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private again = false;
  private lastEventAt = Number.NEGATIVE_INFINITY;
  private lastProblems = new Set<string>();
  reloads = 0;
  private readonly o: DirectorySourceOptions;
  private readonly folder: DesiredFolder;

  constructor(options: DirectorySourceOptions) {
    this.o = options;
    this.folder = new DesiredFolder({ path: options.folder, statuses: options.statuses, store: options.store });
  }

  async start(): Promise<void> {
    await this.reload();
    this.watcher = watch(this.o.folder, { ignoreInitial: true, ignored: (p) => /(^|\/)\.(git|svn)(\/|$)/.test(p), awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 } });
    this.watcher.on('all', (_event, path) => {
      if (!/\.ya?ml$/i.test(path) && !_event.endsWith('Dir')) return;
      this.changed();
    });
    await new Promise<void>((resolve) => this.watcher?.once('ready', () => resolve()));
  }

  /** A file event: a quiet folder reloads now, a busy one once the burst is over. */
  private changed(): void {
    const now = (this.o.now ?? Date.now)();
    const quiet = !this.reloading && !this.timer && now - this.lastEventAt > (this.o.debounceMs ?? 300);
    this.lastEventAt = now;
    if (quiet) void this.reload();
    else this.schedule();
  }

  private schedule(ms = this.o.debounceMs ?? 300): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reload();
    }, ms);
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
    const started = performance.now();
    const read = await this.folder.read();
    const { records, changed, problems } = read;
    // One line a pass: a `git pull` of many files shows as one read.
    this.o.logger.info({ folder: this.o.folder, changed: changed.size, ms: Math.round(performance.now() - started) }, 'folder read');
    const lines = new Set(problems);
    // Log each problem once per change, not on every reload.
    for (const l of lines) if (!this.lastProblems.has(l)) this.o.logger.error({ folder: this.o.folder }, `invalid manifest: ${l}`);
    this.lastProblems = lines;
    // Removed VMs: records whose resource vanished (and whose file is readable).
    for (const r of records) if (!this.o.store.get(r.key) && !(r.source && this.o.store.isBroken(r.source.file))) changed.add(r.key);
    if (changed.size > 0) this.o.onChange(changed, read);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.watcher?.close();
  }
}
