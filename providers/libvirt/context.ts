// What the parts of the libvirt provider share: the hosts, the defaults of the Hypervisor,
// and the observation's cache (dropped for a domain an action changes).
import type { Logger } from 'pino';
import type { HypervisorSpec } from '../../controller/api/types.ts';
import type { ParsedDomain } from './domain-xml.ts';
import type { Hosts } from './hosts.ts';
import type { Domain } from './rpc/protocol.ts';
import type { TransportPolicy } from './rpc/uri.ts';
import type { TemplateHost } from './templates.ts';

export interface LibvirtContext {
  hosts: Hosts;
  logger: Logger;
  /** The storage pool volumes go to unless a disk names one. */
  pool: string;
  /** The bridge a NIC without a network joins. */
  bridge: string;
  domainType: 'kvm' | 'qemu';
  migration?: HypervisorSpec['migration'];
  policy?: TransportPolicy;
  /** Drops a domain's cached observation (by UUID text) after it changed. */
  forget(id: string): void;
  /** A domain's parsed XML as last observed, when fresh. */
  known(d: Domain): ParsedDomain | undefined;
}

export function templateHost(ctx: LibvirtContext): TemplateHost {
  return {
    hosts: ctx.hosts.list,
    logger: ctx.logger,
    ...(ctx.policy ? { policy: ctx.policy } : {}),
    pool: () => ctx.pool,
    conn: (h) => ctx.hosts.conn(h),
    locate: (t) => ctx.hosts.locate(t),
  };
}
