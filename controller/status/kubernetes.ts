// Status through the status subresource (merge patches of status only; spec is never
// written), and finalizers: added before the first action, released when the VM is gone
// or orphaned. Reads come from the informers' caches.
import { slim } from '../sources/kube-slim.ts';
import { parseKey } from '../api/keys.ts';
import { KINDS } from '../api/kinds.ts';
import { KubeConflictError, KubeNotFoundError } from '../sources/kube-errors.ts';
import { FINALIZER, pathOf, type KubeObject, type KubernetesSource } from '../sources/kubernetes.ts';
import type { KubeRest } from '../sources/kube-rest.ts';
import type { StatusRecord, StatusStore } from './writer.ts';

/** A merge patch from `old` to `next` at the top level: fields that went away become null. */
export function statusPatch(old: Record<string, unknown> | undefined, next: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  for (const k of Object.keys(old ?? {})) if (!(k in next) || next[k] === undefined) patch[k] = null;
  return patch;
}

/** Whether two values serialise to the same JSON (undefined members are absent), without serialising them: a pass compares every VM's status. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    // JSON writes an undefined element as null.
    return a.every((x, i) => sameJson(x ?? null, b[i] ?? null));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let na = 0;
  for (const k in ra) {
    if (ra[k] === undefined) continue;
    na++;
    if (!sameJson(ra[k], rb[k])) return false;
  }
  let nb = 0;
  for (const k in rb) if (rb[k] !== undefined) nb++;
  return na === nb;
}

export class KubernetesStatusStore implements StatusStore {
  private readonly source: KubernetesSource;
  private readonly rest: KubeRest;
  private readonly now: () => number;
  constructor(options: { source: KubernetesSource; rest: KubeRest; now?: () => number }) {
    this.source = options.source;
    this.rest = options.rest;
    this.now = options.now ?? Date.now;
  }

  async read(key: string): Promise<StatusRecord | undefined> {
    const obj = this.source.object(key);
    if (!obj) return undefined;
    const id = parseKey(key);
    const terminating = !!obj.metadata?.deletionTimestamp && (obj.metadata?.finalizers ?? []).includes(FINALIZER);
    return {
      key,
      kind: id.kind,
      name: id.name,
      ...(id.namespace ? { namespace: id.namespace } : {}),
      status: (obj.status ?? {}) as Record<string, unknown>,
      // Only an object being deleted (and still held by our finalizer) asks for a removal.
      ...(terminating ? { lastApplied: obj as unknown as NonNullable<StatusRecord['lastApplied']> } : {}),
      updatedAt: new Date(this.now()).toISOString(),
    };
  }

  async list(): Promise<StatusRecord[]> {
    const out: StatusRecord[] = [];
    for (const key of this.source.objects.keys()) {
      const r = await this.read(key);
      if (r) out.push(r);
    }
    return out;
  }

  async write(record: StatusRecord): Promise<void> {
    const obj = this.source.object(record.key);
    if (!obj) return;
    if (sameJson(obj.status ?? {}, record.status)) return;
    const next = JSON.parse(JSON.stringify(record.status)) as Record<string, unknown>;
    const info = KINDS[parseKey(record.key).kind];
    try {
      const updated = await this.rest.call<KubeObject>('PATCH', pathOf(info, obj, '/status'), { status: statusPatch(obj.status, next) }, 'application/merge-patch+json');
      // Keep the cache ahead of the watch, so the next pass compares with what was written.
      this.source.objects.set(record.key, slim(updated));
    } catch (e) {
      if (!(e instanceof KubeNotFoundError)) throw e;
    }
  }

  /** Releases the finalizer: the VM is gone or orphaned. */
  async remove(key: string): Promise<void> {
    await this.updateFinalizers(key, (list) => list.filter((f) => f !== FINALIZER));
  }

  /** Adds the finalizer before the controller first acts on an object. */
  async ensureFinalizer(key: string): Promise<void> {
    const obj = this.source.object(key);
    if (!obj || obj.metadata?.deletionTimestamp || (obj.metadata?.finalizers ?? []).includes(FINALIZER)) return;
    await this.updateFinalizers(key, (list) => [...list, FINALIZER]);
  }

  private async updateFinalizers(key: string, change: (list: string[]) => string[]): Promise<void> {
    const info = KINDS[parseKey(key).kind];
    for (let attempt = 0; attempt < 5; attempt++) {
      const obj = this.source.object(key);
      if (!obj) return;
      const current = obj.metadata?.finalizers ?? [];
      const next = change(current);
      if (JSON.stringify(next) === JSON.stringify(current)) return;
      try {
        // The resourceVersion makes this a compare-and-swap: a concurrent change is a 409, retried.
        const updated = await this.rest.call<KubeObject>(
          'PATCH',
          pathOf(info, obj),
          { metadata: { finalizers: next, resourceVersion: obj.metadata?.resourceVersion } },
          'application/merge-patch+json',
        );
        this.source.objects.set(key, slim(updated));
        return;
      } catch (e) {
        if (e instanceof KubeNotFoundError) return;
        if (!(e instanceof KubeConflictError)) throw e;
        // Read again and retry; gone is done, any other failure is thrown (never taken for gone).
        const fresh = await this.rest.call<KubeObject>('GET', pathOf(info, obj)).catch((g: unknown) => {
          if (g instanceof KubeNotFoundError) return undefined;
          throw g;
        });
        if (!fresh) return;
        this.source.objects.set(key, slim(fresh));
      }
    }
    throw new KubeConflictError(409, `${key}: finalizers still changing under us after 5 attempts; tried again later`);
  }
}
