// oVirt VM snapshots (`vms/{id}/snapshots`): the engine has no snapshot names, so the name and
// the owner marker travel in the description. Every call re-reads the VM's marker first; a
// snapshot is waited on until its `snapshot_status` leaves `locked`.
import type { Target } from '../../controller/core/actions.ts';
import { ProviderLockedError, ProviderNotFoundError, RefusedError } from '../../controller/core/errors.ts';
import { formatOwner, parseOwner, sameOwner, type ActionContext, type DesiredSnapshot, type ObservedSnapshot, type SnapshotClient } from '../../controller/core/provider.ts';
import { arr, bool, num, type Json, type OvirtClient } from './client.ts';
import { ownedVM, sleep } from './owned.ts';

export interface OvirtSnapshotOptions {
  api: OvirtClient;
  /** Between reads while a snapshot is locked (default 500 ms). */
  pollMs?: number;
  /** How long a create, restore or delete may keep the snapshot locked (default 30 min: memory is written to storage). */
  timeoutMs?: number;
}

const NAME = /virtkeeper\.io\/snapshot=([A-Za-z0-9_.-]+)/;

/** The description a snapshot of virtkeeper's carries: the text, its name and the owner marker. */
export function snapshotDescription(s: DesiredSnapshot): string {
  return `${s.description?.trim() || s.name} virtkeeper.io/snapshot=${s.name} ${formatOwner(s.owner)}`;
}

/** Snapshots a person can restore: not the VM's own `active` one, nor a stateless or preview leftover. */
const isUserSnapshot = (s: Json) => (String(s.snapshot_type ?? 'regular') || 'regular') === 'regular';

export function toObservedSnapshot(s: Json): ObservedSnapshot {
  const description = String(s.description ?? '');
  const owner = parseOwner(description);
  const status = String(s.snapshot_status ?? 'ok');
  const date = s.date === undefined ? undefined : num(s.date);
  return {
    id: String(s.id),
    name: NAME.exec(description)?.[1] ?? description,
    ...(description
      ? {
          description: description
            .replace(NAME, '')
            .replace(/virtkeeper\.io\/owner=\S+/, '')
            .trim(),
        }
      : {}),
    ...(date ? { createdAt: new Date(date).toISOString() } : {}),
    memory: bool(s.persist_memorystate),
    state: status === 'locked' ? 'inProgress' : 'ready',
    ...(owner ? { owner } : {}),
  };
}

export class OvirtSnapshots implements SnapshotClient {
  readonly revertNeedsStop = true;
  readonly memory = true;
  private readonly o: OvirtSnapshotOptions;

  constructor(options: OvirtSnapshotOptions) {
    this.o = options;
  }

  private path(target: Target, sid?: string): string {
    return `/vms/${encodeURIComponent(target.providerID)}/snapshots${sid ? `/${encodeURIComponent(sid)}` : ''}`;
  }

  private async all(target: Target): Promise<Json[]> {
    return arr((await this.o.api.get(this.path(target))).snapshot).filter(isUserSnapshot);
  }

  async list(target: Target): Promise<ObservedSnapshot[]> {
    await ownedVM(this.o.api, target);
    return (await this.all(target)).map(toObservedSnapshot);
  }

  async create(target: Target, snapshot: DesiredSnapshot, ctx: ActionContext = {}): Promise<ObservedSnapshot> {
    await ownedVM(this.o.api, target);
    // Idempotent: the one this owner already made under this name is the answer (waited on if still locked).
    const mine = (await this.all(target)).map(toObservedSnapshot).find((s) => s.name === snapshot.name && sameOwner(s.owner, snapshot.owner));
    if (mine) return mine.state === 'ready' ? mine : this.settle(target, mine.id, 'be made', ctx);
    ctx.onProgress?.({ percent: 0, message: `snapshot ${snapshot.name} of ${target.name}${snapshot.memory ? ' with memory' : ''}` });
    const made = (await this.o.api.call<Json>('POST', this.path(target), { body: { description: snapshotDescription(snapshot), persist_memorystate: snapshot.memory } })).data;
    return this.settle(target, String(made.id), 'be made', ctx);
  }

  async revert(target: Target, snapshotID: string, ctx: ActionContext = {}): Promise<void> {
    await ownedVM(this.o.api, target);
    const snap = await this.mine(target, snapshotID, 'restore');
    ctx.onProgress?.({ percent: 0, message: `restoring ${target.name} to snapshot ${snap.name}` });
    // The engine's restore is preview and commit in one; memory comes back only when it was saved.
    await this.o.api.call('POST', `${this.path(target, snapshotID)}/restore`, { body: { restore_memory: snap.memory } });
    await this.settle(target, snapshotID, 'be restored', ctx);
  }

  async delete(target: Target, snapshotID: string, ctx: ActionContext = {}): Promise<void> {
    await ownedVM(this.o.api, target);
    let snap: ObservedSnapshot;
    try {
      snap = await this.mine(target, snapshotID, 'delete');
    } catch (e) {
      if (e instanceof ProviderNotFoundError) return;
      throw e;
    }
    if (!snap.owner) throw new RefusedError(`snapshot ${snap.name} (${snapshotID}) of VM ${target.name} was not made by virtkeeper; it is left as it is`);
    ctx.onProgress?.({ percent: 0, message: `removing snapshot ${snap.name} of ${target.name}` });
    try {
      await this.o.api.call('DELETE', this.path(target, snapshotID));
    } catch (e) {
      if (e instanceof ProviderNotFoundError) return;
      throw e;
    }
    await this.until(target, snapshotID, 'be removed', (s) => s === undefined, ctx);
  }

  /** The snapshot, read under this VM (so one of another VM is not found here). */
  private async mine(target: Target, snapshotID: string, what: string): Promise<ObservedSnapshot> {
    const s = (await this.all(target)).find((x) => String(x.id) === snapshotID);
    if (!s) throw new ProviderNotFoundError(`VM ${target.name} has no snapshot ${snapshotID} to ${what}; a snapshot of another VM is never used`);
    return toObservedSnapshot(s);
  }

  private async settle(target: Target, snapshotID: string, what: string, ctx: ActionContext): Promise<ObservedSnapshot> {
    const s = await this.until(target, snapshotID, what, (x) => x === undefined || String(x.snapshot_status) !== 'locked', ctx);
    if (!s) throw new ProviderNotFoundError(`snapshot ${snapshotID} of VM ${target.name} is gone: the engine dropped it (see the engine's events for why)`);
    return toObservedSnapshot(s);
  }

  private async until(target: Target, snapshotID: string, what: string, done: (s: Json | undefined) => boolean, ctx: ActionContext): Promise<Json | undefined> {
    const since = Date.now();
    for (;;) {
      ctx.signal?.throwIfAborted();
      const s = (await this.all(target)).find((x) => String(x.id) === snapshotID);
      if (done(s)) return s;
      if (Date.now() - since > (this.o.timeoutMs ?? 30 * 60_000))
        throw new ProviderLockedError(`snapshot ${snapshotID} of VM ${target.name} is still locked after ${Math.round((Date.now() - since) / 1000)}s waiting to ${what}; the next pass looks again`);
      ctx.onProgress?.({ message: `snapshot ${snapshotID}: ${String(s?.snapshot_status ?? 'gone')}` });
      await sleep(this.o.pollMs ?? 500);
    }
  }
}
