// The one ownership check the day-2 clients (snapshots, consoles) share: the VM is read
// fresh and its marker must name the target's owner before anything is asked of it.
import type { Target } from '../../controller/core/actions.ts';
import { ProviderNotFoundError, RefusedError } from '../../controller/core/errors.ts';
import { parseOwner, sameOwner } from '../../controller/core/provider.ts';
import type { Json, OvirtClient } from './client.ts';

export async function ownedVM(api: OvirtClient, target: Target): Promise<Json> {
  let vm: Json;
  try {
    vm = await api.get(`/vms/${encodeURIComponent(target.providerID)}`);
  } catch (e) {
    if (e instanceof ProviderNotFoundError) throw new ProviderNotFoundError(`VM ${target.name} (${target.providerID}) no longer exists on the engine`);
    throw e;
  }
  const have = parseOwner(String(vm.comment ?? ''));
  if (!target.owner || !sameOwner(have, target.owner))
    throw new RefusedError(`VM ${target.name} (${target.providerID}) is not owned by this resource; virtkeeper never touches a VM it did not create`);
  return vm;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
