// What an observation says of one VM for planning: which VM carries its marker, and whether
// hosts that may hold it did not answer (then nothing is created, moved or deleted).
import { sameOwnerRef, type DesiredVM, type Observation, type ObservedVM, type OwnerRef } from './model.ts';
import type { Refusal } from './plan-types.ts';

/**
 * The VM carrying this owner's marker: this instance's, or one from before instances (another
 * instance's never matches). Two carrying it are `duplicates` and neither is `mine`: which one
 * is the VM is a person's call, never the order hosts answered in.
 */
export function findObserved(obs: Observation, owner: OwnerRef, name: string): { mine?: ObservedVM; clash?: ObservedVM; duplicates?: ObservedVM[] } {
  const candidates = obs.vms.filter((v) => !v.isTemplate);
  const marked = candidates.filter((v) => sameOwnerRef(v.owner, owner));
  if (marked.length > 1) return { duplicates: marked };
  const mine = marked[0];
  if (mine) return { mine };
  const clash = candidates.find((v) => v.name === name);
  return clash ? { clash } : {};
}

export function duplicateRefusal(name: string, vms: ObservedVM[]): Refusal {
  const where = vms.map((v) => `${v.providerID}${v.node ? ` on ${v.node}` : ''}`).join(', ');
  return { code: 'VK_REFUSED_DUPLICATE', message: `${vms.length} VMs carry the marker of ${name} (${where}); virtkeeper changes neither until one is removed or renamed by hand` };
}

/** Why nothing may be created or deleted: nodes that could hold the VM did not answer. */
export function unreadable(obs: Observation, name: string): string | undefined {
  const nodes = obs.unreachable ?? [];
  return nodes.length
    ? `node${nodes.length > 1 ? 's' : ''} ${nodes.join(', ')} cannot be read and may hold VM ${name}; nothing is created, moved or deleted for it until ${nodes.length > 1 ? 'they answer' : 'it answers'}`
    : undefined;
}

/** Whether where a VM starts matters beyond the hypervisor's own choice: a pin, allowed nodes, or a node in maintenance. */
export function constrained(d: DesiredVM, nodes: Observation['nodes']): boolean {
  return !!d.placement.node || !!d.placement.allowedNodes || nodes.some((n) => n.cordoned !== undefined);
}
