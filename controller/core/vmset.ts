// Expands a VirtualMachineSet into its member VirtualMachines: one per replica, or one
// stand per user (each user's VMs in that user's pool).
import { createHash } from 'node:crypto';
import { API_VERSION } from '../api/common.ts';
import { DEFAULT_NAMESPACE, describeId, keyOf } from '../api/keys.ts';
import type { ManifestProblem } from '../api/manifest.ts';
import type { VirtualMachine, VirtualMachineSet } from '../api/types.ts';
import type { ValidResource } from '../api/validate.ts';

const SIMPLE = /^[a-z0-9]+$/;

/**
 * A user as a name part, one to one (alice@pve and alice@pam never meet) and valid in VM and pool
 * names: `alice` for alice@pve (the names stands had before), `alice-pam` for other realms, and
 * for anything else (capitals, dots, dashes) a readable part, `--` and a hash of the exact user.
 * The three forms cannot meet: no dash, exactly one, and `--`, which the first two never hold.
 */
export function userPart(user: string): string {
  const at = user.lastIndexOf('@');
  const local = at < 0 ? user : user.slice(0, at);
  const realm = at < 0 ? '' : user.slice(at + 1);
  if (SIMPLE.test(local) && realm === 'pve') return local;
  if (SIMPLE.test(local) && SIMPLE.test(realm)) return `${local}-${realm}`;
  const readable =
    user
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 30) || 'user';
  return `${readable}--${createHash('sha256').update(user).digest('hex').slice(0, 8)}`;
}

export function poolForUser(user: string): string {
  return `stand-${userPart(user)}`;
}

function memberName(pattern: string, vars: Record<string, string>): string {
  return pattern
    .replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^-+|-+$/g, '');
}

export function expandSet(set: VirtualMachineSet): (VirtualMachine & { user?: string })[] {
  const s = set.spec;
  const ns = set.metadata.namespace ?? 'default';
  const base = set.metadata.name;
  const members: { name: string; user?: string }[] = s.users
    ? s.users.map((u) => ({ user: u, name: memberName(s.namePattern ?? '{user}-{name}', { user: userPart(u), name: base }) }))
    : Array.from({ length: s.replicas ?? 0 }, (_, i) => ({ name: memberName(s.namePattern ?? '{name}-{index}', { name: base, index: String(i) }) }));
  return members.map((m) => ({
    apiVersion: API_VERSION,
    kind: 'VirtualMachine' as const,
    metadata: {
      name: m.name,
      namespace: ns,
      labels: { ...(set.metadata.labels ?? {}), 'virtkeeper.io/set': base, ...(m.user ? { 'virtkeeper.io/user': m.user.replace(/@/g, '_') } : {}) },
      generation: set.metadata.generation ?? 1,
    },
    spec: {
      ...s.template,
      ...(s.placement?.strategy ? { placement: { ...(s.template.placement ?? {}), strategy: s.placement.strategy } } : {}),
      ...(m.user ? { pool: poolForUser(m.user), owner: s.template.owner ?? m.user } : {}),
    },
    ...(m.user ? { user: m.user } : {}),
  }));
}

type Party = { r: ValidResource; what: string };

/** Where a party is defined; asked only for a problem (a line lookup walks the file's YAML). */
const whereOf = (p: Party) => `${p.r.source.file}:${p.r.source.lineOf('/metadata/name')}`;

/**
 * Duplicates that only show once sets are expanded: a member with the key of a VirtualMachine,
 * of a member of another set, or of another member of its own set. Every party is refused, so
 * none replaces another (their earlier state is held where the source holds it).
 */
export function checkMembers(resources: ValidResource[]): { accepted: ValidResource[]; problems: ManifestProblem[] } {
  const byKey = new Map<string, Party[]>();
  const add = (key: string, p: Party) => byKey.set(key, [...(byKey.get(key) ?? []), p]);
  for (const r of resources) {
    if (r.resource.kind === 'VirtualMachine') add(r.key, { r, what: describeId(r.id) });
    if (r.resource.kind !== 'VirtualMachineSet') continue;
    for (const m of expandSet(r.resource)) {
      const id = { kind: 'VirtualMachine' as const, namespace: m.metadata.namespace ?? DEFAULT_NAMESPACE, name: m.metadata.name };
      add(keyOf(id), { r, what: `${describeId(id)} (a member of ${describeId(r.id)}${m.user ? ` for user ${m.user}` : ''})` });
    }
  }
  const refused = new Set<ValidResource>();
  const problems: ManifestProblem[] = [];
  for (const group of byKey.values()) {
    if (group.length < 2) continue;
    for (const p of group) {
      refused.add(p.r);
      const others = group.filter((o) => o !== p).map((o) => `${o.what} at ${whereOf(o)}`);
      const fix = p.r.resource.kind === 'VirtualMachineSet' ? 'change spec.namePattern or the other name' : 'rename one of them';
      problems.push({
        file: p.r.source.file,
        line: p.r.source.lineOf('/metadata/name'),
        resource: describeId(p.r.id),
        path: 'metadata.name',
        message: `duplicate name: ${p.what} is also ${others.join(', ')}; neither is applied: ${fix}`,
      });
    }
  }
  // One problem per resource and group is enough: a set colliding with itself says so once per pair.
  const unique = problems.filter((p, i) => problems.findIndex((q) => q.file === p.file && q.message === p.message) === i);
  return { accepted: resources.filter((r) => !refused.has(r)), problems: unique };
}
