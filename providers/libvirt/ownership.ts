// Which volumes of a host belong to whom. A volume is a VM's only when the domain's record
// (its <metadata>) lists it; a VirtualDisk's when its owner sidecar names it (disk-owner.ts);
// a template is a volume no domain claims and no VirtualDisk owns. Never by a name prefix.
import { orAbsent } from './rpc/protocol.ts';
import { RefusedError } from '../../controller/core/errors.ts';
import { parseDomain, type OwnedVolume, type ParsedDomain } from './domain-xml.ts';
import type { LibvirtConnection } from './rpc/connection.ts';
import type { Domain } from './rpc/protocol.ts';

/** Volumes of VirtualDisks carry this prefix (and an owner sidecar, see disk-owner.ts). */
export const STANDALONE = 'vkdisk-';

const key = (pool: string, name: string) => `${pool}/${name}`;

/** Every domain of a host that references (attached) or records (owns) a volume, by `pool/name`. */
export type Claims = Map<string, string[]>;

/**
 * The claims on a host's volumes. `known` gives a domain's parsed XML when it is fresh enough
 * (the observation's cache); without it every domain's XML is read, as deletes do.
 */
export async function hostClaims(c: LibvirtConnection, defaultPool: string, known?: (d: Domain) => ParsedDomain | undefined): Promise<Claims> {
  const claims: Claims = new Map();
  const add = (pool: string, name: string, by: string) => {
    const list = claims.get(key(pool, name)) ?? [];
    if (!list.includes(by)) list.push(by);
    claims.set(key(pool, name), list);
  };
  for (const d of await c.listAllDomains()) {
    const parsed = known?.(d) ?? (await orAbsent(c.xmlDesc(d)).then((x) => (x === undefined ? undefined : parseDomain(x))));
    if (!parsed) continue;
    for (const x of parsed.disks) if (x.volume) add(x.pool ?? defaultPool, x.volume, parsed.name);
    for (const v of parsed.cdroms) add(defaultPool, v, parsed.name);
    for (const v of parsed.owned ?? []) add(v.pool, v.name, parsed.name);
  }
  return claims;
}

/** Whether anyone other than `self` claims the volume. */
export function claimedByOthers(claims: Claims, pool: string, name: string, self: string): string[] {
  return (claims.get(key(pool, name)) ?? []).filter((n) => n !== self);
}

/**
 * The volumes a domain owns. Its record says so; a domain made before records existed owns
 * the volumes attached to it under the old `<name>-…` names that no other domain claims and
 * that are no VirtualDisk's: the old rule, with the claims of the others as a fence.
 */
export function volumesOwnedBy(parsed: ParsedDomain, claims: Claims, defaultPool: string): OwnedVolume[] {
  if (parsed.owned) return parsed.owned.filter((v) => claimedByOthers(claims, v.pool, v.name, parsed.name).length === 0);
  const attached = [...parsed.disks.flatMap((x) => (x.volume ? [{ pool: x.pool ?? defaultPool, name: x.volume }] : [])), ...parsed.cdroms.map((v) => ({ pool: defaultPool, name: v }))];
  return attached.filter((v) => v.name.startsWith(`${parsed.name}-`) && !v.name.startsWith(STANDALONE) && claimedByOthers(claims, v.pool, v.name, parsed.name).length === 0);
}

/**
 * A backing file for a clone must be a template: a volume no domain claims (a VM's disk or
 * seed) and no VirtualDisk's (its prefix or its owner sidecar). Anything else is refused
 * before a clone is layered on someone's data.
 */
export function assertTemplateVolume(claims: Claims, pool: string, name: string, hasDiskOwner: boolean): void {
  const by = claims.get(key(pool, name)) ?? [];
  if (by.length > 0)
    throw new RefusedError(`volume ${name} in pool ${pool} is a disk of VM ${by.join(', ')}, not a template; a VM is only cloned from a template volume (a VMTemplate or a volume no VM uses)`);
  if (name.startsWith(STANDALONE) || hasDiskOwner) throw new RefusedError(`volume ${name} in pool ${pool} is a VirtualDisk, not a template; a VM is only cloned from a template volume`);
}
