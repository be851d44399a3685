// Proxmox pools for stands. virtkeeper opens a pool to a user (an ACL) only on a pool it made
// itself, for the same namespace: the pool's comment carries the marker. An existing pool it did
// not make may hold VMs it never made, so it is used as it is and never granted on; a pool made
// for another namespace is not used at all (its users would see this VM).
import { TerminalError, VkError } from '../../controller/core/errors.ts';
import { formatOwner, parseOwner } from '../../controller/core/provider.ts';
import type { ProxmoxClient } from './client.ts';

export class ForeignPoolError extends TerminalError {
  override readonly code = 'VK_REFUSED_FOREIGN_POOL';
}

/** The role a stand's user gets on its pool. */
export const POOL_ROLE = 'PVEVMUser';

/** What virtkeeper before pool markers wrote: made by it, for a namespace it did not record. */
const LEGACY_COMMENT = 'created by virtkeeper';

export function poolComment(pool: string, namespace: string): string {
  return `${formatOwner({ kind: 'Pool', namespace, name: pool })} (${LEGACY_COMMENT})`;
}

/** The namespace a pool was made for; `legacy` when virtkeeper made it before markers. */
export function poolOwner(pool: string, comment: string | undefined): { namespace: string } | 'legacy' | undefined {
  const o = parseOwner(comment);
  if (o?.kind === 'Pool' && o.name === pool && o.namespace) return { namespace: o.namespace };
  return comment?.trim() === LEGACY_COMMENT ? 'legacy' : undefined;
}

type PoolRow = { poolid: string; comment?: string };

export async function ensurePool(api: ProxmoxClient, want: { pool: string; namespace: string; grantee?: string }): Promise<void> {
  const { pool, namespace, grantee } = want;
  const find = async () => (await api.get<PoolRow[]>('/pools')).find((p) => p.poolid === pool);
  let row = await find();
  if (!row) {
    const comment = poolComment(pool, namespace);
    try {
      await api.post('/pools', { poolid: pool, comment });
      row = { poolid: pool, comment };
    } catch (e) {
      if (!(e instanceof VkError && /already exists/.test(e.message))) throw e;
      row = await find(); // made meanwhile, by someone else or an earlier attempt: judged below
    }
  }
  let owner = poolOwner(pool, row?.comment);
  if (owner === 'legacy') {
    // Made by an earlier virtkeeper: the first namespace to use it again records itself.
    await api.put(`/pools/${encodeURIComponent(pool)}`, { comment: poolComment(pool, namespace) });
    owner = { namespace };
  }
  if (owner && owner.namespace !== namespace) {
    throw new ForeignPoolError(
      `pool ${pool} was made by virtkeeper for namespace ${owner.namespace}; a VM of namespace ${namespace} is not put there, its users would see it. Choose another pool (spec.pool)`,
    );
  }
  if (!grantee) return;
  if (!owner) {
    throw new ForeignPoolError(
      `pool ${pool} exists and was not made by virtkeeper, so virtkeeper does not give ${grantee} access to it (it may hold VMs virtkeeper never made). Choose a pool name that does not exist yet (spec.pool), or grant the access on Proxmox yourself`,
    );
  }
  const acl = await api.get<{ path: string; ugid: string; roleid: string }[]>('/access/acl');
  if (acl.some((a) => a.path === `/pool/${pool}` && a.ugid === grantee)) return;
  await api.put('/access/acl', { path: `/pool/${pool}`, users: grantee, roles: POOL_ROLE });
}
