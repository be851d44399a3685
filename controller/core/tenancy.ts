// What a namespace may do on a Hypervisor, as the Hypervisor says (spec.allowedNamespaces,
// allowAdoption, allowPoolGrants). Pure. Directory mode trusts every namespace of the folder
// unless the Hypervisor lists some; Kubernetes, where namespaces are tenants, lets none adopt
// or grant pool access unless listed.
import type { Hypervisor } from '../api/types.ts';
import type { Refusal } from './refusal.ts';

export type Tenancy = 'directory' | 'kubernetes';

export interface NamespaceRights {
  /** May declare VMs, disks and sets on this Hypervisor at all. */
  use: boolean;
  /** May adopt an unmarked VM. */
  adopt: boolean;
  /** May give a user access to a (virtkeeper-made) Proxmox pool. */
  grantPools: boolean;
}

export function rightsOf(hv: Hypervisor, namespace: string, tenancy: Tenancy): NamespaceRights {
  const s = hv.spec;
  const use = !s.allowedNamespaces || s.allowedNamespaces.includes(namespace);
  const listed = (l: { namespaces: string[] } | undefined) => use && (l ? l.namespaces.includes(namespace) : tenancy === 'directory');
  return { use, adopt: listed(s.allowAdoption), grantPools: listed(s.allowPoolGrants) };
}

/** `resource` as people read it: `VirtualMachine team-b/web`. */
export function namespaceRefusal(resource: string, hypervisor: string, namespace: string): Refusal {
  return {
    code: 'VK_REFUSED_NAMESPACE',
    field: 'spec.hypervisor',
    message: `${resource} may not use Hypervisor ${hypervisor}: namespace ${namespace} is not in its spec.allowedNamespaces; add it there (or use another Hypervisor). Nothing was changed`,
  };
}

export function adoptionRefusal(resource: string, vm: string, hypervisor: string, namespace: string): Refusal {
  return {
    code: 'VK_REFUSED_ADOPTION',
    field: 'spec.adopt',
    message: `${resource} asks to adopt the existing VM ${vm}, but Hypervisor ${hypervisor} does not let namespace ${namespace} adopt; add it to spec.allowAdoption.namespaces of Hypervisor ${hypervisor}, or remove spec.adopt. Nothing was changed`,
  };
}

export function poolGrantRefusal(resource: string, user: string, pool: string, hypervisor: string, namespace: string): Refusal {
  return {
    code: 'VK_REFUSED_POOL_GRANT',
    field: 'spec.pool',
    message: `${resource} would give ${user} access to pool ${pool}, but Hypervisor ${hypervisor} does not let namespace ${namespace} grant pool access; add it to spec.allowPoolGrants.namespaces of Hypervisor ${hypervisor}, or drop spec.owner/spec.pool. Nothing was changed`,
  };
}

/** The Proxmox user a VM's pool would be opened to: spec.owner when it is `user@realm`. */
export function poolGrantee(vm: { pool?: string; metadata: Record<string, string> }): string | undefined {
  const user = vm.metadata.owner;
  return vm.pool && user && /^[^@\s]+@[^@\s]+$/.test(user) ? user : undefined;
}
