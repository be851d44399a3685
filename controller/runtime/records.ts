// The status record of one resource, as the reconcilers write it: what it is, where it came
// from, what is wrong with it, and the spec last accepted (to refuse shrinks, to remove later).
import { parseKey } from '../api/keys.ts';
import type { AnyResource } from '../api/types.ts';
import { isoTime } from '../core/status.ts';
import type { StatusRecord, StatusStore } from '../status/writer.ts';

export interface RecordWrite {
  key: string;
  resource: AnyResource;
  status: object;
  source: StatusRecord['source'];
  problems?: string[] | undefined;
  /** The resource as accepted; absent keeps no lastApplied (a refusal keeps the one before). */
  lastApplied?: AnyResource | undefined;
}

/** The record a write stores (status stripped from lastApplied: it is what the spec was). */
export function recordOf(w: RecordWrite, now: number): StatusRecord {
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

export function writeRecord(statuses: StatusStore, now: number, w: RecordWrite): Promise<void> {
  return statuses.write(recordOf(w, now));
}
