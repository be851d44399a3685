// Refuses to delete more than a share of the fleet in one pass: a bad merge or an emptied
// folder must not wipe the hypervisors. Deleting a single VM is always allowed.
export interface GuardInput {
  /** Keys whose resources vanished from the source, for which a deletion is planned. */
  candidates: readonly string[];
  /** How many VMs the controller manages in all (before this pass). */
  managed: number;
  /** Largest share allowed, 0..1 (default 0.3). */
  maxShare: number;
}

export interface GuardResult {
  allowed: boolean;
  message?: string;
}

export function deletionGuard({ candidates, managed, maxShare }: GuardInput): GuardResult {
  if (candidates.length <= 1) return { allowed: true };
  const share = managed === 0 ? 1 : candidates.length / managed;
  if (share <= maxShare) return { allowed: true };
  return {
    allowed: false,
    message: `refusing to delete ${candidates.length} of ${managed} VMs (${Math.round(share * 100)}%) in one pass: the limit is ${Math.round(maxShare * 100)}%; if this is intended, run again with --max-delete-share ${Math.min(1, Math.ceil(share * 100) / 100)}`,
  };
}
