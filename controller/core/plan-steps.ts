// The pieces every part of the plan builds steps from: a step with its symbol, a target from
// an observed VM, the text of a CPU and a NIC, and what an adopted VM has beyond its spec.
import { formatBytes } from '../api/quantity.ts';
import type { PlannedStep, Target, VMAction } from './actions.ts';
import type { CpuTopology, DesiredNic, DesiredVM, ObservedDisk, ObservedNic, ObservedVM } from './model.ts';
import type { PlanCondition } from './plan-types.ts';

export function targetOf(vm: ObservedVM): Target {
  return { providerID: vm.providerID, name: vm.name, ...(vm.node ? { node: vm.node } : {}), ...(vm.owner ? { owner: vm.owner } : {}) };
}

export const vcpus = (c: CpuTopology) => c.sockets * c.cores * c.threads;
export const cpuText = (c: CpuTopology) => `${c.sockets}x${c.cores}x${c.threads}`;

export function step(resource: string, hypervisor: string, action: VMAction, extra: Partial<PlannedStep> & Pick<PlannedStep, 'summary'>): PlannedStep {
  const symbol = action.type === 'create' ? '+' : action.type === 'delete' ? '-' : ['start', 'stop', 'restart', 'migrate'].includes(action.type) ? '>' : '~';
  return {
    resource,
    hypervisor,
    action,
    symbol,
    changes: [],
    disruptive: ['stop', 'restart', 'delete'].includes(action.type),
    live: false,
    ...extra,
  };
}

/** The disks and NICs of a VM beyond those its spec lists: what pruning would detach. */
export function unlisted(d: DesiredVM, vm: ObservedVM): { disks: ObservedDisk[]; nics: ObservedNic[] } {
  return {
    disks: d.disks.length > 0 ? vm.disks.filter((x) => !x.standalone).slice(d.disks.length) : [],
    nics: d.nics.length > 0 ? vm.nics.slice(d.nics.length) : [],
  };
}

function unlistedText(u: ReturnType<typeof unlisted>, verb: string): string {
  return [...u.disks.map((x) => `disk ${x.name} (${formatBytes(x.sizeBytes)})`), ...u.nics.map((n) => `nic ${n.name} (${nicText(n)})`)].map((t) => `${t} is not in the spec; ${verb}`).join('; ');
}

/** On an adopted VM: which devices the spec leaves out, kept unless pruning is asked. */
export function unlistedCondition(d: DesiredVM, vm: ObservedVM): PlanCondition {
  const u = unlisted(d, vm);
  const prune = d.adopt !== false && d.adopt.prune;
  if (u.disks.length + u.nics.length === 0) return { type: 'UnlistedDevices', status: 'False', reason: 'AllListed', message: `every disk and NIC of ${d.name} is in the spec` };
  return prune
    ? { type: 'UnlistedDevices', status: 'True', reason: 'Pruning', message: unlistedText(u, 'detached (adopt.prune: true)') }
    : { type: 'UnlistedDevices', status: 'True', reason: 'Kept', message: `${unlistedText(u, 'kept')}; list them in the spec, or set spec.adopt: {prune: true} to detach them` };
}

export function nicText(n: { network?: string; vlan?: number; model?: string }): string {
  return `${n.model ?? 'virtio'} on ${n.network ?? 'default'}${n.vlan ? ` vlan ${n.vlan}` : ''}`;
}

export function nicDiffers(want: DesiredNic, have: ObservedNic): boolean {
  return (
    (want.network !== undefined && want.network !== have.network) ||
    (want.vlan ?? undefined) !== (have.vlan ?? undefined) ||
    (want.mac !== undefined && want.mac !== have.mac?.toLowerCase()) ||
    (have.model !== undefined && want.model !== have.model)
  );
}
