// Chooses a node for a new VM from the observed nodes. Pure: the same inputs give the
// same node, so a plan is reproducible.
import type { DesiredVM, ObservedNode } from './model.ts';

export interface PlacementInput {
  vm: DesiredVM;
  nodes: readonly ObservedNode[];
  /** VMs already planned onto nodes in this pass (name → count), so a burst spreads out. */
  planned?: ReadonlyMap<string, number>;
}

export function eligibleNodes(vm: DesiredVM, nodes: readonly ObservedNode[]): ObservedNode[] {
  return nodes.filter((n) => n.state === 'online' && (!vm.placement.allowedNodes || vm.placement.allowedNodes.includes(n.name)));
}

/** The node a new VM goes to, or undefined when no node is eligible. */
export function chooseNode({ vm, nodes, planned }: PlacementInput): string | undefined {
  if (vm.placement.node) return vm.placement.node;
  const candidates = eligibleNodes(vm, nodes);
  if (candidates.length === 0) return undefined;
  const extra = (n: ObservedNode) => planned?.get(n.name) ?? 0;
  const score =
    vm.placement.strategy === 'Spread'
      ? (n: ObservedNode) => (n.vms ?? 0) + extra(n)
      : (n: ObservedNode) => {
          const free = (n.memoryBytes ?? 0) - (n.memoryUsedBytes ?? 0) - extra(n) * vm.memoryBytes;
          return -free;
        };
  return [...candidates].sort((a, b) => score(a) - score(b) || a.name.localeCompare(b.name))[0]?.name;
}
