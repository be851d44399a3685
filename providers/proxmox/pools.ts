// Proxmox pools for stands. virtkeeper opens a pool to a user (an ACL) only on a pool it made
// itself, for the same namespace: the pool's comment carries the marker. An existing pool it did
// not make may hold VMs it never made, so it is used as it is and never granted on; a pool made
// for another namespace is not used at all (its users would see this VM).
import { TerminalError, VkError } from '../../controller/core/errors.ts';
import { formatOwner, parseOwner } from '../../controller/core/provider.ts';
import type { ProxmoxClient } from './client.ts';
import { readGuestConfig } from './guest-config.ts';

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
type PoolMember = { id: string; type: string; vmid?: number; node?: string; name?: string };

/** The pool's guests whose marker does not name this namespace (not made by virtkeeper, or for another one). */
async function foreignMembers(api: ProxmoxClient, pool: string, namespace: string): Promise<string[]> {
  const { members = [] } = await api.get<{ members?: PoolMember[] }>(`/pools/${encodeURIComponent(pool)}`);
  const out: string[] = [];
  for (const m of members.filter((x) => x.type === 'qemu' || x.type === 'lxc')) {
    // A member row names its node; an older server's may not, and the list says where it runs.
    const node = m.node ?? (await api.get<{ vmid?: number; node: string }[]>('/cluster/resources', { type: 'vm' })).find((r) => r.vmid === m.vmid)?.node;
    const owner = node && m.type === 'qemu' ? parseOwner((await readGuestConfig(api, node, m.vmid)).description) : undefined;
    if (!owner || (owner.namespace ?? 'default') !== namespace) out.push(`VM ${m.name ?? m.vmid}${owner ? ` (${owner.kind} ${owner.namespace ?? 'default'}/${owner.name})` : " (not virtkeeper's)"}`);
  }
  return out;
}

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
    // Made by an earlier virtkeeper: the first namespace to use it again records itself, but only
    // when every guest in it is that namespace's (its users get the pool's guests).
    const strangers = await foreignMembers(api, pool, namespace);
    if (strangers.length > 0)
      throw new ForeignPoolError(
        `pool ${pool} was made by an earlier virtkeeper for no recorded namespace and holds ${strangers.slice(0, 3).join(', ')}${strangers.length > 3 ? ` and ${strangers.length - 3} more` : ''}, not namespace ${namespace}'s; it is not taken for ${namespace}. Choose another pool (spec.pool), or move those VMs out of it`,
      );
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
