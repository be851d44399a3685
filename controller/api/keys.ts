import type { KindName } from './kinds.ts';
import { KINDS } from './kinds.ts';

export interface ResourceId {
  kind: KindName;
  namespace?: string;
  name: string;
}

export const DEFAULT_NAMESPACE = 'default';

/** The stable key of a resource: `Kind/namespace/name`, or `Kind/name` when cluster-scoped. */
export function keyOf(id: ResourceId): string {
  return KINDS[id.kind].scope === 'Cluster' ? `${id.kind}/${id.name}` : `${id.kind}/${id.namespace ?? DEFAULT_NAMESPACE}/${id.name}`;
}

export function parseKey(key: string): ResourceId {
  const parts = key.split('/');
  const kind = parts[0] as KindName;
  if (parts.length === 2) return { kind, name: parts[1] ?? '' };
  return { kind, namespace: parts[1] ?? DEFAULT_NAMESPACE, name: parts[2] ?? '' };
}

/** Short human form used in messages: `VirtualMachine default/web-1`. */
export function describeId(id: ResourceId): string {
  return KINDS[id.kind]?.scope === 'Cluster' ? `${id.kind} ${id.name}` : `${id.kind} ${id.namespace ?? DEFAULT_NAMESPACE}/${id.name}`;
}
