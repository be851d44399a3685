// What a VM waits for before it is made or given a NIC: the VirtualNetworks and VMTemplate it
// names, resolvable and Ready. And the one case a missing VM is not made again: a VMTemplate
// was made from it in place (the VM became the template).
import type { VirtualMachine } from '../../api/types.ts';
import { templateName } from '../../core/desired.ts';
import type { Observation } from '../../core/model.ts';
import { vmRefKey } from '../template-source.ts';
import type { ReconcileKit } from './types.ts';
import { readStatus } from '../records.ts';

/**
 * References that cannot be resolved now: a VirtualNetwork or VMTemplate held from a broken
 * file, declared only in a file that does not validate, or declared before and gone. Such a
 * name is never taken for a raw bridge or template of the same name: the VM waits, naming why.
 */
async function unresolvedReferences(k: ReconcileKit, vm: VirtualMachine): Promise<string[]> {
  const { store, statuses } = k.o;
  const refs: { kind: 'VirtualNetwork' | 'VMTemplate'; name: string }[] = [
    ...[...new Set((vm.spec.networks ?? []).flatMap((n) => (n.network ? [n.network] : [])))].map((name) => ({ kind: 'VirtualNetwork' as const, name })),
    ...(vm.spec.template ? [{ kind: 'VMTemplate' as const, name: vm.spec.template }] : []),
  ];
  const out: string[] = [];
  for (const r of refs) {
    const key = `${r.kind}/${r.name}`;
    const entry = store.get(key);
    if (entry && !entry.heldBecause) continue;
    const record = entry ? undefined : await statuses.read(key);
    // Held: in this process (run) the store keeps it; across processes (apply) its record names the broken file.
    const held = entry?.heldBecause ?? (record?.source ? store.broken.get(record.source.file) : undefined);
    if (held) out.push(`${r.kind} ${r.name} is held as it was: ${held.join('; ')}`);
    else if (store.brokenResources.has(`${r.kind} ${r.name}`)) out.push(`${r.kind} ${r.name} does not validate: ${store.brokenResources.get(`${r.kind} ${r.name}`)?.join('; ')}`);
    else if (record?.lastApplied) out.push(`${r.kind} ${r.name} is no longer declared; declare it again or change spec.${r.kind === 'VMTemplate' ? 'template' : 'networks'}`);
  }
  return out;
}

/** A VM whose VirtualNetworks or VMTemplate are not Ready waits, with their reason: it never half-creates. */
export async function dependenciesNotReady(k: ReconcileKit, vm: VirtualMachine): Promise<string | undefined> {
  const { store, statuses } = k.o;
  const names = [...new Set((vm.spec.networks ?? []).map((n) => n.network).filter((n): n is string => !!n && store.networks().has(n)))];
  const waiting: string[] = await unresolvedReferences(k, vm);
  // A plan does not wait for what the same apply makes first; it waits only for what cannot be resolved.
  if (k.o.dryRun) return waiting.length ? waiting.join('; ') : undefined;
  for (const n of names) {
    const st = await readStatus(statuses, 'VirtualNetwork', n);
    const ready = st?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status !== 'True') waiting.push(`VirtualNetwork ${n} is not Ready${ready?.message ? ` (${ready.message})` : ''}`);
  }
  if (vm.spec.template && store.templates().has(vm.spec.template)) {
    const st = await readStatus(statuses, 'VMTemplate', vm.spec.template);
    const ready = st?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status !== 'True') waiting.push(`VMTemplate ${vm.spec.template} is not Ready${ready?.message ? ` (${ready.message})` : ''}`);
  }
  return waiting.length ? waiting.join('; ') : undefined;
}

/**
 * The template this VM was turned into in place: a VMTemplate made from it exists, with the
 * VM's own id when that is known. Only where making a template consumes the VM (the
 * connector's `templates.fromVMConsumesVM`); where the VM is copied, a missing VM is a VM to
 * make again.
 */
export function convertedInto(k: ReconcileKit, vm: VirtualMachine, obs: Observation, knownID: string | undefined, consumes: boolean): string | undefined {
  if (!consumes) return undefined;
  const ns = vm.metadata.namespace ?? 'default';
  for (const t of k.o.store.templates().values()) {
    const ref = t.spec.source.fromVirtualMachine;
    if (!ref || t.spec.hypervisor !== vm.spec.hypervisor) continue;
    const id = vmRefKey(ref);
    const made = obs.templates.find((x) => x.name === templateName(t));
    if (id.namespace === ns && id.name === vm.metadata.name && made && (!knownID || made.providerID === knownID)) return templateName(t);
  }
  return undefined;
}
