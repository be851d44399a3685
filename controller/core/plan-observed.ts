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
  const ix = indexOf(obs.vms);
  const marked = (ix.byOwner.get(ownerBucket(owner)) ?? []).filter((v) => sameOwnerRef(v.owner, owner));
  if (marked.length > 1) return { duplicates: marked };
  const mine = marked[0];
  if (mine) return { mine };
  const clash = ix.byName.get(name);
  return clash ? { clash } : {};
}

interface ObservationIndex {
  size: number;
  /** VMs (not templates) by their marker's resource, every instance together. */
  byOwner: Map<string, ObservedVM[]>;
  /** The first VM (not a template) of each name, in the order observed. */
  byName: Map<string, ObservedVM>;
}

const ownerBucket = (o: OwnerRef) => `${o.kind}/${o.namespace ?? ''}/${o.name}`;

/**
 * Built once per observed list (planning N VMs against one observation was N × N), and again
 * if the list changed length; an observation is otherwise never changed once made.
 */
const indexes = new WeakMap<readonly ObservedVM[], ObservationIndex>();
function indexOf(vms: readonly ObservedVM[]): ObservationIndex {
  const hit = indexes.get(vms);
  if (hit && hit.size === vms.length) return hit;
  const ix: ObservationIndex = { size: vms.length, byOwner: new Map(), byName: new Map() };
  for (const v of vms) {
    if (v.isTemplate) continue;
    if (!ix.byName.has(v.name)) ix.byName.set(v.name, v);
    if (v.owner) {
      const k = ownerBucket(v.owner);
      ix.byOwner.set(k, [...(ix.byOwner.get(k) ?? []), v]);
    }
  }
  indexes.set(vms, ix);
  return ix;
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
