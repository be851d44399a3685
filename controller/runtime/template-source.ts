// Where a VMTemplate comes from: adopted as it exists, imported from an image, or made
// from an owned, stopped VirtualMachine. Returns what the hypervisor says of the template,
// or why it is not there yet; the caller turns that into conditions.
import type { VirtualMachine, VMTemplate } from '../api/types.ts';
import { templateName } from '../core/desired.ts';
import { findObserved } from '../core/plan.ts';
import { displayImage, type Progress, type TemplateFacts } from '../core/provider.ts';
import type { Connected } from './hypervisors.ts';
import type { DesiredStore } from '../sources/store.ts';

export interface TemplateSourceResult {
  facts: TemplateFacts;
  /** Why the template is not there (and will not be made in this pass). */
  problem?: string;
  /** The condition reason for `problem`: Unsupported, Waiting or NotDeclared. */
  reason?: string;
  /** Set on a plan: what an apply would do. */
  intent?: string;
}

export interface TemplateSourceOptions {
  conn: Connected;
  store: DesiredStore;
  dryRun: boolean;
  onProgress: (p: Progress) => void;
  /** The controller instance: the source VM must be this instance's (or marked before instances). */
  instance?: string;
}

/** `ns/name` or `name` (namespace default) of the VirtualMachine a template is made from. */
export function vmRefKey(ref: string): { namespace: string; name: string } {
  const [a, b] = ref.split('/');
  return b ? { namespace: a ?? 'default', name: b } : { namespace: 'default', name: a ?? ref };
}

export async function resolveTemplateSource(t: VMTemplate, o: TemplateSourceOptions): Promise<TemplateSourceResult> {
  const templates = o.conn.client.templates;
  const type = o.conn.hypervisor.spec.type;
  const name = templateName(t);
  const inspect = async (): Promise<TemplateFacts> => (templates ? templates.inspect(name) : { found: false });
  const storage = t.spec.storage ? { storage: t.spec.storage } : {};
  const { image, fromVirtualMachine: ref } = t.spec.source;
  if (image) {
    if (!templates?.import) return { facts: { found: false }, problem: `the ${type} provider cannot import images yet`, reason: 'Unsupported' };
    if (o.dryRun) {
      const facts = await inspect();
      return facts.found ? { facts } : { facts, intent: `import ${displayImage(image)} as template ${name}` };
    }
    return {
      facts: await templates.import(name, image, { ...storage, ...(t.spec.node ? { node: t.spec.node } : {}), owner: { kind: 'VMTemplate', name: t.metadata.name }, onProgress: o.onProgress }),
    };
  }
  if (ref) {
    // Made once: a template of that name that exists is the result of an earlier pass.
    const existing = await inspect();
    if (existing.found) return { facts: existing };
    if (!templates?.fromVM) return { facts: existing, problem: `the ${type} provider cannot make templates from VMs yet`, reason: 'Unsupported' };
    const id = vmRefKey(ref);
    const vm = o.store.get(`VirtualMachine/${id.namespace}/${id.name}`)?.resource as VirtualMachine | undefined;
    if (!vm) return { facts: existing, problem: `VirtualMachine ${id.namespace}/${id.name} is not declared`, reason: 'NotDeclared' };
    if (vm.spec.hypervisor !== t.spec.hypervisor)
      return { facts: existing, problem: `VirtualMachine ${id.namespace}/${id.name} is on Hypervisor ${vm.spec.hypervisor}, not ${t.spec.hypervisor}`, reason: 'NotDeclared' };
    const obs = await o.conn.observer.get();
    const owner = { kind: 'VirtualMachine', namespace: id.namespace, name: id.name, ...(o.instance ? { instance: o.instance } : {}) };
    const observed = findObserved(obs, owner, vm.spec.name ?? id.name).mine;
    if (!observed) return { facts: existing, problem: `waiting for VM ${id.namespace}/${id.name} to be created`, reason: 'Waiting' };
    if (observed.busy) return { facts: existing, problem: `waiting for VM ${observed.name} (${observed.busy})`, reason: 'Waiting' };
    if (observed.power !== 'stopped') return { facts: existing, problem: `waiting for VM ${observed.name} to stop (it is ${observed.power}; set runStrategy: Halted)`, reason: 'Waiting' };
    if (o.dryRun) return { facts: existing, intent: `make template ${name} from VM ${observed.name}` };
    const facts = await templates.fromVM({ providerID: observed.providerID, name: observed.name, ...(observed.node ? { node: observed.node } : {}), owner }, name, {
      ...storage,
      onProgress: o.onProgress,
    });
    o.conn.observer.invalidate();
    return { facts };
  }
  if (!templates) return { facts: { found: false }, problem: `the ${type} provider cannot inspect templates yet`, reason: 'Unsupported' };
  return { facts: await inspect() };
}
