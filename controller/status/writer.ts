// Where status goes: the status subresource in Kubernetes, a state directory otherwise.
// The reconciler only knows this interface.
import type { AnyResource } from '../api/types.ts';

export interface StatusRecord {
  key: string;
  kind: AnyResource['kind'];
  namespace?: string;
  name: string;
  hypervisor?: string;
  /** The resource as last applied (spec included), to refuse shrinks and to delete what it made. */
  lastApplied?: AnyResource;
  status: Record<string, unknown>;
  /** Where the resource came from and what was wrong with it, for `get`. */
  source?: { file: string; line: number };
  problems?: string[];
  updatedAt: string;
}

export interface StatusStore {
  read(key: string): Promise<StatusRecord | undefined>;
  list(): Promise<StatusRecord[]>;
  write(record: StatusRecord): Promise<void>;
  remove(key: string): Promise<void>;
}
