// reconcile(key): read the desired state and the record → hand the resource to its kind's
// reconciler (reconcilers/registry.ts), or, when its source no longer declares it, take it
// down the one removal path. Level-based: it never trusts the event that woke it.
import { describeId, parseKey } from '../api/keys.ts';
import type { AnyResource } from '../api/types.ts';
import { isVkError, TerminalError } from '../core/errors.ts';
import { isoTime as iso, setCondition } from '../core/status.ts';
import { rightsOf, type NamespaceRights } from '../core/tenancy.ts';
import type { StatusRecord } from '../status/writer.ts';
import type { EventSink } from './events.ts';
import type { Connected } from './hypervisors.ts';
import { statusOf, writeRecord } from './records.ts';
import { reconcilerFor } from './reconcilers/registry.ts';
import { HypervisorUnavailableError, type AppliedRecord, type ReconcileKit, type ReconcilerOptions, type ReconcileResult } from './reconcilers/types.ts';
import { destroys, hypervisorsOf } from './removals.ts';

export type { Intent, ReconcileKit, ReconcilerOptions, ReconcileResult, RemovalControl } from './reconcilers/types.ts';
export { HypervisorUnavailableError } from './reconcilers/types.ts';

export class Reconciler {
  private readonly o: ReconcilerOptions;
  private readonly kit: ReconcileKit;
  constructor(options: ReconcilerOptions) {
    this.o = options;
    this.kit = {
      o: options,
      connect: (name) => this.connect(name),
      emit: (e) => this.emit(e),
      writeRecord: (w) => writeRecord(this.o.statuses, this.o.now(), w),
      rights: (h, n) => this.rights(h, n),
    };
  }

  private emit: EventSink = (e) => this.o.emit?.(e);

  private rights(hypervisor: string, namespace: string): NamespaceRights {
    const hv = this.o.store.hypervisor(hypervisor);
    return hv ? rightsOf(hv, namespace, this.o.tenancy ?? 'directory') : { use: true, adopt: false, grantPools: false };
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const id = parseKey(key);
    const entry = this.o.store.get(key);
    const previous = await this.o.statuses.read(key);
    if (entry?.heldBecause) {
      await this.kit.writeRecord({ key, resource: entry.resource, status: previous?.status ?? {}, source: entry.source, problems: entry.heldBecause, lastApplied: previous?.lastApplied });
      return {};
    }
    if (!entry) return previous?.lastApplied?.kind === id.kind ? this.remove(key, previous as AppliedRecord) : this.forget(key, previous);
    const kind = reconcilerFor(id.kind);
    if (kind) return kind.reconcile(this.kit, key, entry, previous);
    await this.kit.writeRecord({
      key,
      resource: entry.resource,
      status: { ...(previous?.status ?? {}), observedGeneration: entry.resource.metadata.generation ?? 1 },
      source: entry.source,
      lastApplied: entry.resource,
    });
    return {};
  }

  /**
   * The one removal path of every kind: a resource its source no longer declares. What only
   * forgets (a kind without `remove`, deletionPolicy Orphan) goes at once; what destroys asks
   * the gate first (grace, guard), and is counted by it after.
   */
  private async remove(key: string, previous: AppliedRecord): Promise<ReconcileResult> {
    const kind = reconcilerFor(previous.lastApplied.kind);
    if (!kind?.remove) return this.forget(key, previous);
    const last = previous.lastApplied;
    const orphanWhy = await this.o.removals.orphanReason?.(key);
    const resource = orphanWhy ? ({ ...last, spec: { ...last.spec, deletionPolicy: 'Orphan' } } as AnyResource) : last;
    if (orphanWhy) this.o.logger.warn({ resource: key }, `orphaning instead of deleting: ${orphanWhy}`);
    // The Hypervisor went too: nothing can be observed, so nothing is deleted, and the record
    // stays (for every kind: a disk or network is not forgotten as if it were gone).
    const gone = destroys(resource) ? hypervisorsOf(resource).filter((h) => !this.o.store.hypervisor(h)) : [];
    if (gone.length > 0) {
      const message = `Hypervisor ${gone.join(', ')} is no longer defined; what ${describeId(parseKey(key))} owns there is left as it is until it is declared again`;
      this.emit({ type: 'refused', key, code: 'VK_HYPERVISOR_GONE', message });
      return { ready: false, held: { code: 'VK_HYPERVISOR_GONE', message, final: true } };
    }
    if (destroys(resource)) {
      const a = await this.o.removals.admit(key);
      if (!a.allowed) {
        this.emit({ type: 'refused', key, code: a.code, message: `removal of ${describeId(parseKey(key))} held: ${a.message}` });
        if (!this.o.dryRun) {
          const conditions = setCondition(
            statusOf(last.kind, previous)?.conditions,
            { type: 'Ready', status: 'False', reason: a.code === 'VK_DELETE_GUARD' ? 'DeletionRefused' : 'DeletionPending', message: a.message },
            last.metadata.generation ?? 1,
            iso(this.o.now()),
          );
          await this.o.statuses.write({ ...previous, status: { ...previous.status, conditions }, problems: [`removal held: ${a.message}`], updatedAt: iso(this.o.now()) });
        }
        return {
          ready: false,
          held: { code: a.code, message: a.message, ...(a.code === 'VK_DELETE_GUARD' ? { final: true } : {}) },
          ...(a.retryAfterMs !== undefined ? { requeueAfter: Math.max(a.retryAfterMs, 1000) } : {}),
        };
      }
    }
    const r = await kind.remove(this.kit, key, { ...previous, lastApplied: resource });
    if (!this.o.dryRun && destroys(resource) && r.ready) await this.o.removals.done(key, hypervisorsOf(resource));
    return r;
  }

  private async forget(key: string, previous: StatusRecord | undefined): Promise<ReconcileResult> {
    if (previous) await this.o.statuses.remove(key);
    return {};
  }

  private async connect(name: string): Promise<Connected> {
    const hv = this.o.store.hypervisor(name);
    if (!hv) throw new TerminalError(`Hypervisor ${name} is not defined`);
    try {
      return await this.o.hypervisors.get(hv);
    } catch (e) {
      if (isVkError(e)) throw e;
      throw new HypervisorUnavailableError(`cannot connect to Hypervisor ${name}: ${(e as Error).message}`, { cause: e });
    }
  }
}

export { safeError } from '../core/errors.ts';
