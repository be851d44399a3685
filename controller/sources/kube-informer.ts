// One collection kept in sync: list (paged), then watch from the list's resourceVersion with
// bookmarks; a watch the server ends is resumed from the last version seen, a 410 (too old) or
// a broken stream relists, and the relist reports what vanished meanwhile as deleted.
import type { Logger } from 'pino';
import type { KubeRest, WatchEvent } from './kube-rest.ts';

export interface Listed {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface InformerHandlers<T> {
  put(obj: T): void;
  /** With what a deleted object is known by (its name and namespace; the whole object when the watch gave it). */
  delete(obj: Listed): void;
}

export interface InformerOptions<T> {
  rest: KubeRest;
  /** The collection's path, e.g. `/apis/virtkeeper.io/v1alpha1/virtualmachines`. */
  path: string;
  labelSelector?: string;
  handlers: InformerHandlers<T>;
  logger: Logger;
  /** Waits between a failed list or watch and the next try. */
  sleep?: (ms: number) => Promise<void>;
  pageSize?: number;
}

const idOf = (o: Listed) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
/** Only the identity is kept here (the handlers keep the objects): enough to report a deletion a relist finds. */
const identity = (o: Listed): Listed => ({ metadata: { ...(o.metadata?.name ? { name: o.metadata.name } : {}), ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}) } });

export class Informer<T extends Listed> {
  private readonly o: InformerOptions<T>;
  private readonly known = new Map<string, Listed>();
  private readonly abort = new AbortController();
  private version = '';
  private loop: Promise<void> | undefined;

  constructor(options: InformerOptions<T>) {
    this.o = options;
  }

  /** Resolves after the first full list; watching goes on until stop(). */
  async start(): Promise<void> {
    await this.relist();
    this.loop = this.watchLoop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop?.catch(() => undefined);
  }

  private query(extra: Record<string, string>): string {
    const q = new URLSearchParams({ ...(this.o.labelSelector ? { labelSelector: this.o.labelSelector } : {}), ...extra });
    return `${this.o.path}?${q}`;
  }

  private async relist(): Promise<void> {
    const seen = new Set<string>();
    let next = '';
    do {
      const page = await this.o.rest.call<{ items: T[]; metadata: { resourceVersion?: string; continue?: string } }>(
        'GET',
        this.query({ limit: String(this.o.pageSize ?? 500), ...(next ? { continue: next } : {}) }),
      );
      for (const item of page.items) {
        seen.add(idOf(item));
        this.known.set(idOf(item), identity(item));
        this.o.handlers.put(item);
      }
      this.version = page.metadata.resourceVersion ?? this.version;
      next = page.metadata.continue ?? '';
    } while (next);
    for (const [id, obj] of this.known) {
      if (seen.has(id)) continue;
      this.known.delete(id);
      this.o.handlers.delete(obj);
    }
  }

  private onEvent(e: WatchEvent<T>): 'relist' | undefined {
    const v = e.object.metadata?.resourceVersion;
    if (e.type === 'ERROR') return 'relist'; // 410 Gone and the like: the version is too old
    if (v) this.version = v;
    if (e.type === 'BOOKMARK') return undefined;
    const id = idOf(e.object);
    if (e.type === 'DELETED') {
      this.known.delete(id);
      this.o.handlers.delete(e.object);
    } else {
      this.known.set(id, identity(e.object));
      this.o.handlers.put(e.object);
    }
    return undefined;
  }

  private async watchLoop(): Promise<void> {
    const sleep = this.o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        let relist = false;
        await this.o.rest.watch<T>(
          this.query({ watch: '1', allowWatchBookmarks: 'true', timeoutSeconds: '300', resourceVersion: this.version }),
          (e) => {
            if (!relist && this.onEvent(e) === 'relist') relist = true;
          },
          this.abort.signal,
        );
        if (relist) await this.relist();
        failures = 0;
      } catch (e) {
        if (this.abort.signal.aborted) return;
        failures++;
        this.o.logger.warn({ collection: this.o.path, err: (e as Error).message }, 'watch ended; relisting');
        await sleep(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)));
        await this.relist().catch((err: unknown) => this.o.logger.warn({ collection: this.o.path, err: (err as Error).message }, 'relist failed; trying again'));
      }
    }
  }
}
