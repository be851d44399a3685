// The controller loop: sources enqueue keys, workers reconcile them, each hypervisor's VMs
// are re-enqueued at its resync interval (drift), and results requeue themselves.
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import { WorkQueue } from './queue.ts';
import { startWorkers } from './workers.ts';
import type { Reconciler } from './reconciler.ts';
import type { DesiredStore } from '../sources/store.ts';

export interface ManagerOptions {
  reconciler: Pick<Reconciler, 'reconcile'>;
  store: DesiredStore;
  logger: Logger;
  clock: Clock;
  workers?: number;
}

export class Manager {
  readonly queue: WorkQueue;
  private stopWorkers: (() => Promise<void>) | undefined;
  private readonly o: ManagerOptions;

  constructor(options: ManagerOptions) {
    this.o = options;
    this.queue = new WorkQueue({ clock: options.clock });
  }

  enqueue(keys: Iterable<string>): void {
    for (const k of keys) this.queue.add(k);
  }

  start(): void {
    const w = startWorkers({
      queue: this.queue,
      concurrency: this.o.workers ?? 8,
      clock: this.o.clock,
      logger: this.o.logger,
      handler: async (key) => {
        const r = await this.o.reconciler.reconcile(key);
        // A held removal comes back too: the window moves on, the guard may let it go.
        return r.requeueAfter !== undefined && (this.o.store.get(key) || r.held) ? { requeueAfter: r.requeueAfter } : undefined;
      },
    });
    this.stopWorkers = () => w.stop();
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.stopWorkers?.();
  }
}
