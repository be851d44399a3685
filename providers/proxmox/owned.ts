// Finds a guest by its provider id (`qemu/104`) wherever it runs now, and refuses it unless its
// marker names the target's owner: day-2 calls (snapshots, consoles) touch only our own VMs.
import type { Target } from '../../controller/core/actions.ts';
import { ProviderNotFoundError, RefusedError } from '../../controller/core/errors.ts';
import { describeOwner } from '../../controller/core/model.ts';
import { parseOwner, sameOwner } from '../../controller/core/provider.ts';
import type { ProxmoxClient } from './client.ts';
import { readGuestConfig } from './guest-config.ts';
import type { ResourceRow } from './mapping.ts';

export interface OwnedGuest {
  vmid: number;
  node: string;
  status: string;
  config: Record<string, string>;
  /** `/nodes/{node}/qemu/{vmid}` */
  path: string;
}

export async function ownedGuest(api: ProxmoxClient, target: Target, doing: string): Promise<OwnedGuest> {
  const vmid = Number(target.providerID.split('/')[1]);
  const rows = await api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' });
  const row = rows.find((r) => r.vmid === vmid && r.template !== 1);
  if (!row) throw new ProviderNotFoundError(`VM ${target.name} (${target.providerID}) does not exist`);
  const config = await readGuestConfig(api, row.node, vmid);
  const have = parseOwner(config.description);
  if (!target.owner || !sameOwner(have, target.owner)) {
    throw new RefusedError(
      `VM ${target.name} (${target.providerID}) is not owned by ${target.owner ? describeOwner(target.owner) : 'this resource'}${have ? ` but by ${describeOwner(have)}` : ''}; virtkeeper does not ${doing} a VM it did not create`,
    );
  }
  return { vmid, node: row.node, status: row.status ?? 'unknown', config, path: `/nodes/${row.node}/qemu/${vmid}` };
}
