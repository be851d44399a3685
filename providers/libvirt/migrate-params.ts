// What a live migration asks of the source daemon: flags and typed parameters. Between TLS
// hosts the migration goes over TLS too (VIR_MIGRATE_TLS: QEMU's stream and the NBD disk
// copy), never plain TCP beside a TLS control connection.
import type { HypervisorSpec } from '../../controller/api/types.ts';
import { MigrateFlags, TypedParamType, type TypedParam } from './rpc/protocol.ts';
import { parseLibvirtURI } from './rpc/uri.ts';

export function migrationRequest(o: { sourceURI: string; destURI: string; migration?: HypervisorSpec['migration'] }): { flags: number; params: TypedParam[]; tls: boolean } {
  const source = parseLibvirtURI(o.sourceURI);
  const dest = parseLibvirtURI(o.destURI);
  const tls = source.transport === 'tls' || dest.transport === 'tls';
  const shared = o.migration?.sharedStorage ?? false;
  const flags =
    MigrateFlags.LIVE |
    MigrateFlags.PEER2PEER |
    MigrateFlags.PERSIST_DEST |
    MigrateFlags.UNDEFINE_SOURCE |
    (shared ? MigrateFlags.UNSAFE : MigrateFlags.NON_SHARED_DISK) |
    (tls ? MigrateFlags.TLS : 0);
  const to = o.migration?.network ?? dest.host;
  const params: TypedParam[] = [
    ...(to ? [{ field: 'migrate_uri', type: TypedParamType.STRING, value: `tcp://${to}` }] : []),
    // The name the destination's certificate carries, when the stream goes to another address.
    ...(tls && dest.host && to !== dest.host ? [{ field: 'tls.destination', type: TypedParamType.STRING, value: dest.host }] : []),
    ...(o.migration?.bandwidth ? [{ field: 'bandwidth', type: TypedParamType.ULLONG, value: BigInt(o.migration.bandwidth) }] : []),
  ];
  return { flags, params, tls };
}
