// The status record of one resource, as the reconcilers write it: what it is, where it came
// from, what is wrong with it, and the spec last accepted (to refuse shrinks, to remove later).
import { parseKey } from '../api/keys.ts';
import type { AnyResource } from '../api/types.ts';
import { isoTime } from '../core/status.ts';
import type { StatusRecord, StatusStore } from '../status/writer.ts';

/** The resource type of a kind, and its status. */
export type ResourceOf<K extends AnyResource['kind']> = Extract<AnyResource, { kind: K }>;
export type StatusOf<K extends AnyResource['kind']> = NonNullable<ResourceOf<K>['status']>;

/**
 * A record's status as its kind's. Records are written by their kind's reconciler (the
 * status typed by RecordWrite), so the kind says the shape; one of another kind is none.
 */
export function statusOf<K extends AnyResource['kind']>(kind: K, record: StatusRecord | undefined): StatusOf<K> | undefined {
  return record?.kind === kind ? (record.status as StatusOf<K>) : undefined;
}

/** The status of `kind` `name` (`ns/name` for namespaced kinds), as last written. */
export async function readStatus<K extends AnyResource['kind']>(statuses: StatusStore, kind: K, name: string): Promise<StatusOf<K> | undefined> {
  return statusOf(kind, await statuses.read(`${kind}/${name}`));
}

/** The resource as last applied, when it is of this kind. */
export function appliedOf<K extends AnyResource['kind']>(kind: K, record: StatusRecord | undefined): ResourceOf<K> | undefined {
  const last = record?.lastApplied;
  return last?.kind === kind ? (last as ResourceOf<K>) : undefined;
}

export interface RecordWrite<R extends AnyResource = AnyResource> {
  key: string;
  resource: R;
  status: StatusOf<R['kind']>;
  source: StatusRecord['source'];
  problems?: string[] | undefined;
  /** The resource as accepted; absent keeps no lastApplied (a refusal keeps the one before). */
  lastApplied?: AnyResource | undefined;
}

/** The record a write stores (status stripped from lastApplied: it is what the spec was). */
export function recordOf<R extends AnyResource>(w: RecordWrite<R>, now: number): StatusRecord {
  const id = parseKey(w.key);
  const spec = w.resource.spec as { hypervisor?: unknown };
  return {
    key: w.key,
    kind: id.kind,
    name: id.name,
    status: w.status as Record<string, unknown>,
    updatedAt: isoTime(now),
    ...(id.namespace ? { namespace: id.namespace } : {}),
    ...(typeof spec.hypervisor === 'string' ? { hypervisor: spec.hypervisor } : {}),
    ...(w.source ? { source: w.source } : {}),
    ...(w.problems ? { problems: w.problems } : {}),
    ...(w.lastApplied ? { lastApplied: { ...w.lastApplied, status: undefined } as AnyResource } : {}),
  };
}

export function writeRecord<R extends AnyResource>(statuses: StatusStore, now: number, w: RecordWrite<R>): Promise<void> {
  return statuses.write(recordOf(w, now));
}
