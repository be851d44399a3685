// Chooses a node for a new VM from the observed nodes. Pure: the same inputs give the
// same node, so a plan is reproducible.
import type { DesiredVM, ObservedNode } from './model.ts';

export interface PlacementInput {
  vm: DesiredVM;
  nodes: readonly ObservedNode[];
  /** VMs already planned onto nodes in this pass (name → count), so a burst spreads out. */
  planned?: ReadonlyMap<string, number>;
}

/** Whether a node takes new VMs: online, and not cordoned by a maintenance entry. */
export function isSchedulable(n: ObservedNode): boolean {
  return n.state === 'online' && n.cordoned === undefined;
}

export function eligibleNodes(vm: DesiredVM, nodes: readonly ObservedNode[]): ObservedNode[] {
  return nodes.filter((n) => isSchedulable(n) && (!vm.placement.allowedNodes || vm.placement.allowedNodes.includes(n.name)));
}

/** Why a VM pinned to a node cannot go there now (that node is in maintenance), or undefined. */
export function pinnedToCordoned(vm: DesiredVM, nodes: readonly ObservedNode[]): string | undefined {
  const pin = vm.placement.node;
  const n = pin ? nodes.find((x) => x.name === pin) : undefined;
  if (!n || n.cordoned === undefined) return undefined;
  return `node ${n.name} is in maintenance${n.cordoned ? ` (${n.cordoned})` : ''}; ${vm.name} is pinned there and waits until the Hypervisor's maintenance entry is removed`;
}

/** Lower is better: the order chooseNode ranks candidates in. */
export function placementScore(vm: DesiredVM, planned?: ReadonlyMap<string, number>): (n: ObservedNode) => number {
  const extra = (n: ObservedNode) => planned?.get(n.name) ?? 0;
  return vm.placement.strategy === 'Spread'
    ? (n) => (n.vms ?? 0) + extra(n)
    : (n) => {
        const free = (n.memoryBytes ?? 0) - (n.memoryUsedBytes ?? 0) - extra(n) * vm.memoryBytes;
        return -free;
      };
}

/** The node a new VM goes to, or undefined when no node is eligible (or the pinned one is in maintenance). */
export function chooseNode({ vm, nodes, planned }: PlacementInput): string | undefined {
  if (vm.placement.node) return pinnedToCordoned(vm, nodes) ? undefined : vm.placement.node;
  const candidates = eligibleNodes(vm, nodes);
  if (candidates.length === 0) return undefined;
  const score = placementScore(vm, planned);
  return [...candidates].sort((a, b) => score(a) - score(b) || a.name.localeCompare(b.name))[0]?.name;
}
