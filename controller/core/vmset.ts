// Expands a VirtualMachineSet into its member VirtualMachines: one per replica, or one
// stand per user (each user's VMs in that user's pool).
import { API_VERSION } from '../api/common.ts';
import type { VirtualMachine, VirtualMachineSet } from '../api/types.ts';

export function poolForUser(user: string): string {
  return `stand-${user.replace(/@.*$/, '').replace(/[^A-Za-z0-9_-]/g, '-')}`;
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
    ? s.users.map((u) => ({ user: u, name: memberName(s.namePattern ?? '{user}-{name}', { user: u.replace(/@.*$/, ''), name: base }) }))
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
