// The deletion guard, pure: may these removals go now? One rule for every kind that destroys
// something on a hypervisor (VMs, VirtualDisks, VirtualNetworks) and for both modes. A bad merge,
// an emptied folder or a deleted namespace must not wipe a hypervisor, neither in one pass nor
// by repetition (deletions done earlier in the window count), nor a small hypervisor hidden in
// a big fleet (every hypervisor is a scope of its own, and the fleet is one more).

/** Something whose removal destroys, and the hypervisors it lives on. */
export interface Removable {
  key: string;
  hypervisors: readonly string[];
}

export interface GuardPolicy {
  /** Largest share of a scope (a hypervisor, the fleet) removed within the window, 0..1. 1 turns the guard off. */
  maxShare: number;
  /** Removals always allowed per scope within the window, whatever the share (never the last one, unless maxShare is 1). */
  allowance: number;
  /** How far back earlier removals count. */
  windowMs: number;
  /**
   * Never remove everything of a scope unless maxShare is 1: an emptied folder looks like that.
   * Kubernetes turns it off (a delete there names its object; bulk deletes orphan).
   */
  keepLast: boolean;
}

export const DEFAULT_GUARD: GuardPolicy = { maxShare: 0.3, allowance: 1, windowMs: 60 * 60_000, keepLast: true };

export interface GuardInput {
  /** Removals asked for now. */
  candidates: readonly Removable[];
  /** Every managed resource that a removal would destroy, as it stands now (candidates included). */
  managed: readonly Removable[];
  /** Removals done within the window (they are gone from `managed`). */
  recent: readonly Removable[];
  policy: GuardPolicy;
}

export interface GuardVerdict {
  allowed: boolean;
  /** Why not, naming the scope, the counts and the flag to change. */
  message?: string;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

function window(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

export function guardRemovals({ candidates, managed, recent, policy }: GuardInput): GuardVerdict {
  if (candidates.length === 0 || policy.maxShare >= 1) return { allowed: true };
  const scopes = new Set<string>(['']);
  for (const c of candidates) for (const h of c.hypervisors) scopes.add(h);
  const inScope = (list: readonly Removable[], scope: string) => {
    const keys = new Set(list.filter((r) => scope === '' || r.hypervisors.includes(scope)).map((r) => r.key));
    return keys;
  };
  for (const scope of [...scopes].sort()) {
    const asked = inScope(candidates, scope);
    if (asked.size === 0) continue;
    const done = inScope(recent, scope);
    const now = inScope(managed, scope);
    for (const k of asked) now.add(k);
    // The scope as it was before this window's removals began.
    const base = now.size + [...done].filter((k) => !now.has(k)).length;
    const used = asked.size + [...done].filter((k) => !asked.has(k)).length;
    const where = scope === '' ? 'the fleet' : `hypervisor ${scope}`;
    const names = [...asked].sort().slice(0, 5).join(', ') + (asked.size > 5 ? ', …' : '');
    const counted = `${plural(used, 'removal')} of ${base} managed on ${where} within ${window(policy.windowMs)} (${names}${done.size ? `, and ${done.size} done earlier` : ''})`;
    if (policy.keepLast && used >= base) {
      return { allowed: false, message: `refusing ${counted}: that removes everything virtkeeper manages there; if this is intended, run again with --max-delete-share 1` };
    }
    const budget = Math.max(policy.allowance, Math.floor(policy.maxShare * base));
    if (used > budget) {
      const share = Math.min(1, Math.ceil((used / base) * 100) / 100);
      return {
        allowed: false,
        message: `refusing ${counted}: the limit is ${Math.round(policy.maxShare * 100)}% or ${policy.allowance} (--max-delete-share, --delete-allowance); if this is intended, run again with --max-delete-share ${share}`,
      };
    }
  }
  return { allowed: true };
}
