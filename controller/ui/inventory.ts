// The fleet inventory: every VM on every Hypervisor (managed or not), joined with the status
// records of the resources that own them. Pure: built from the controller's own last
// observations, never from a hypervisor call of its own.
import type { Condition } from '../api/types.ts';
import { keyOf } from '../api/keys.ts';
import type { Observation, ObservedNode, ObservedVM, OwnerRef, VMUsage } from '../core/model.ts';
import type { StatusRecord } from '../status/writer.ts';
import type { Throughput } from './usage-history.ts';

export type PlanState = 'in sync' | 'changes pending' | 'restart required' | 'refused' | 'unmanaged' | 'not reconciled';

export interface InventoryVM {
  hypervisor: string;
  type: string;
  datacenter?: string;
  cluster?: string;
  node?: string;
  name: string;
  providerID: string;
  state: string;
  vcpus: number;
  memoryBytes: number;
  disks: { name: string; sizeBytes: number; storage?: string }[];
  diskBytes: number;
  ips: string[];
  managed: boolean;
  /** `VirtualMachine default/web-1`, from the marker. */
  owner?: { kind: string; namespace?: string; name: string; key: string; instance?: string };
  plan: PlanState;
  ready?: string;
  usage?: VMUsage;
  /** Disk and network bytes per second, from the last two observations with usage (set by the feed). */
  throughput?: Throughput;
}

export interface InventoryNode extends ObservedNode {
  vmCount: number;
}

export interface InventoryHypervisor {
  name: string;
  type: string;
  datacenter?: string;
  cluster?: string;
  /** When its last observation was seen (ms), absent when none yet. */
  observedAt?: number;
  nodes: InventoryNode[];
  vmCount: number;
  unreachable: string[];
}

export interface Inventory {
  hypervisors: InventoryHypervisor[];
  vms: InventoryVM[];
}

export interface HypervisorObservation {
  name: string;
  type: string;
  defaults?: { datacenter?: string; cluster?: string };
  observation?: Observation;
  observedAt?: number;
}

const ownerKey = (o: OwnerRef): string => keyOf({ kind: o.kind as 'VirtualMachine', ...(o.namespace ? { namespace: o.namespace } : {}), name: o.name });

/** The plan state a status record tells: refused beats restart required beats pending. */
export function planStateOf(record: StatusRecord | undefined): { plan: PlanState; ready?: string } {
  if (!record) return { plan: 'not reconciled' };
  const s = record.status as { phase?: string; conditions?: Condition[]; plannedActions?: unknown[] };
  const cond = (t: string) => s.conditions?.find((c) => c.type === t);
  const ready = cond('Ready');
  const readyText = ready ? `${ready.status}${ready.reason ? ` (${ready.reason})` : ''}` : undefined;
  const out = (plan: PlanState) => ({ plan, ...(readyText ? { ready: readyText } : {}) });
  if (ready?.reason === 'Refused' || s.phase === 'Failed') return out('refused');
  if (cond('RestartRequired')?.status === 'True') return out('restart required');
  if ((s.plannedActions?.length ?? 0) > 0 || ready?.status === 'False') return out('changes pending');
  return out(ready?.status === 'True' ? 'in sync' : 'not reconciled');
}

function toVM(hv: HypervisorObservation, vm: ObservedVM, records: ReadonlyMap<string, StatusRecord>): InventoryVM {
  const owner = vm.owner
    ? {
        kind: vm.owner.kind,
        ...(vm.owner.namespace ? { namespace: vm.owner.namespace } : {}),
        name: vm.owner.name,
        key: ownerKey(vm.owner),
        ...(vm.owner.instance ? { instance: vm.owner.instance } : {}),
      }
    : undefined;
  const diskBytes = vm.disks.reduce((a, d) => a + d.sizeBytes, 0);
  const plan = owner ? planStateOf(records.get(owner.key)) : { plan: 'unmanaged' as const };
  return {
    hypervisor: hv.name,
    type: hv.type,
    ...(hv.defaults?.datacenter ? { datacenter: hv.defaults.datacenter } : {}),
    ...(hv.defaults?.cluster ? { cluster: hv.defaults.cluster } : {}),
    ...(vm.node ? { node: vm.node } : {}),
    name: vm.name,
    providerID: vm.providerID,
    state: vm.power,
    vcpus: vm.cpu.sockets * vm.cpu.cores * vm.cpu.threads,
    memoryBytes: vm.memoryBytes,
    disks: vm.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes, ...(d.storage ? { storage: d.storage } : {}) })),
    diskBytes,
    ips: [...vm.ipAddresses],
    managed: !!owner,
    ...(owner ? { owner } : {}),
    ...plan,
    ...(vm.usage ? { usage: { ...vm.usage } } : {}),
  };
}

export function buildInventory(input: { hypervisors: readonly HypervisorObservation[]; records: readonly StatusRecord[] }): Inventory {
  const records = new Map(input.records.map((r) => [r.key, r]));
  const hypervisors: InventoryHypervisor[] = [];
  const vms: InventoryVM[] = [];
  for (const hv of [...input.hypervisors].sort((a, b) => a.name.localeCompare(b.name))) {
    const obs = hv.observation;
    const mine = (obs?.vms ?? []).filter((v) => !v.isTemplate).map((v) => toVM(hv, v, records));
    vms.push(...mine);
    const perNode = new Map<string, number>();
    for (const v of mine) if (v.node) perNode.set(v.node, (perNode.get(v.node) ?? 0) + 1);
    hypervisors.push({
      name: hv.name,
      type: hv.type,
      ...(hv.defaults?.datacenter ? { datacenter: hv.defaults.datacenter } : {}),
      ...(hv.defaults?.cluster ? { cluster: hv.defaults.cluster } : {}),
      ...(hv.observedAt !== undefined && obs ? { observedAt: hv.observedAt } : {}),
      nodes: (obs?.nodes ?? []).map((n) => ({ ...n, vmCount: perNode.get(n.name) ?? 0 })),
      vmCount: mine.length,
      unreachable: [...(obs?.unreachable ?? [])],
    });
  }
  return { hypervisors, vms };
}

// ---- filters and sorting (the page and the API share them) ----

export interface VMFilter {
  hypervisor?: string;
  type?: string;
  node?: string;
  state?: string;
  managed?: 'true' | 'false';
  namespace?: string;
  q?: string;
}

export const FILTER_KEYS = ['hypervisor', 'type', 'node', 'state', 'managed', 'namespace', 'q'] as const;

/** The filter a query string names (unknown keys and empty values ignored). */
export function parseFilter(query: Readonly<Record<string, unknown>>): VMFilter {
  const f: VMFilter = {};
  for (const k of FILTER_KEYS) {
    const v = query[k];
    if (typeof v !== 'string' || v === '') continue;
    if (k === 'managed') {
      if (v === 'true' || v === 'false') f.managed = v;
    } else f[k] = v;
  }
  return f;
}

export function matches(vm: InventoryVM, f: VMFilter): boolean {
  if (f.hypervisor && vm.hypervisor !== f.hypervisor) return false;
  if (f.type && vm.type !== f.type) return false;
  if (f.node && vm.node !== f.node) return false;
  if (f.state && vm.state !== f.state) return false;
  if (f.managed && String(vm.managed) !== f.managed) return false;
  if (f.namespace && (vm.owner?.namespace ?? (vm.owner ? 'default' : undefined)) !== f.namespace) return false;
  if (f.q) {
    const q = f.q.toLowerCase();
    const hay = [vm.name, ...vm.ips, vm.owner ? `${vm.owner.namespace ?? 'default'}/${vm.owner.name}` : ''].join(' ').toLowerCase();
    if (!hay.includes(q)) return false;
  }
  return true;
}

export const SORT_KEYS = ['hypervisor', 'node', 'name', 'state', 'vcpus', 'memory', 'disk', 'owner', 'plan', 'cpu'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

const sortValue = (vm: InventoryVM, k: SortKey): string | number => {
  switch (k) {
    case 'vcpus':
      return vm.vcpus;
    case 'memory':
      return vm.memoryBytes;
    case 'disk':
      return vm.diskBytes;
    case 'cpu':
      return vm.usage?.cpuRatio ?? -1;
    case 'owner':
      return vm.owner ? `${vm.owner.namespace ?? ''}/${vm.owner.name}` : '';
    case 'node':
      return vm.node ?? '';
    default:
      return vm[k];
  }
};

export function sortVMs(vms: readonly InventoryVM[], key: SortKey, desc: boolean): InventoryVM[] {
  const dir = desc ? -1 : 1;
  return [...vms].sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return c !== 0 ? c * dir : a.hypervisor.localeCompare(b.hypervisor) || a.name.localeCompare(b.name);
  });
}

/** VMs per hypervisor among those the filter keeps. */
export function countPerHypervisor(vms: readonly InventoryVM[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of vms) m.set(v.hypervisor, (m.get(v.hypervisor) ?? 0) + 1);
  return m;
}

export function findVM(inv: Inventory, hypervisor: string, name: string): InventoryVM | undefined {
  return inv.vms.find((v) => v.hypervisor === hypervisor && v.name === name);
}
