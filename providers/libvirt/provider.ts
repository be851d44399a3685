// The libvirt provider: a Hypervisor lists hosts, each a placement node, and is served by one
// client per kind: VMs (observe.ts, actions.ts, create.ts), VirtualDisks (virtual-disks.ts),
// VLAN networks (networks.ts), templates (templates.ts), the guest agent (guest-agent.ts),
// snapshots (snapshots.ts) and consoles (consoles.ts).
// Lifecycle events wake the reconciler at once (hosts.ts).
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { HypervisorSpec } from '../../controller/api/types.ts';
import type { Capabilities } from '../../controller/core/model.ts';
import type { ProviderClient, TemplateClient } from '../../controller/core/provider.ts';
import { LibvirtVMs } from './actions.ts';
import { templateHost, type LibvirtContext } from './context.ts';
import { LibvirtConsoles } from './consoles.ts';
import { LibvirtGuest } from './guest-agent.ts';
import { Hosts, type HostEntry } from './hosts.ts';
import { LibvirtNetworks } from './networks.ts';
import { DomainObserver } from './observe.ts';
import type { LibvirtConnection } from './rpc/connection.ts';
import type { TransportPolicy } from './rpc/uri.ts';
import { importTemplate, inspectTemplate, templateFromVM } from './templates.ts';
import { LibvirtSnapshots } from './snapshots.ts';
import { LibvirtDisks } from './virtual-disks.ts';

export { guestAddresses } from './guest-agent.ts';

export interface LibvirtProviderOptions {
  hosts: HostEntry[];
  logger: Logger;
  defaults?: { storagePool?: string; network?: string };
  migration?: HypervisorSpec['migration'];
  /** spec.tls: a CA bundle for TLS hosts, and whether checks may be skipped (never by a URI alone). */
  tls?: TransportPolicy;
  /** `kvm` or `qemu` (TCG); by default kvm when /dev/kvm exists here or VK_LIBVIRT_DOMAIN_TYPE says. */
  domainType?: 'kvm' | 'qemu';
  /** The clock usage rates are measured with (ms). */
  now?: () => number;
}

export class LibvirtProvider implements ProviderClient {
  readonly capabilities: Capabilities = {
    liveCpu: true,
    liveCpuDecrease: false,
    liveCpuSocketsOnly: false,
    cpuTopology: false,
    liveMemory: true,
    liveMigration: true,
    diskGrow: true,
    liveDiskAttach: true,
    guestAgent: true,
    linkedClone: true,
    listsTemplates: false,
  };
  readonly vms: LibvirtVMs;
  readonly disks: LibvirtDisks;
  readonly networks: LibvirtNetworks;
  readonly templates: TemplateClient;
  readonly guest: LibvirtGuest;
  readonly snapshots: LibvirtSnapshots;
  readonly consoles: LibvirtConsoles;
  private readonly hosts: Hosts;

  constructor(o: LibvirtProviderOptions) {
    const env = process.env.VK_LIBVIRT_DOMAIN_TYPE;
    const forget = (id: string) => observer.forget(id);
    this.hosts = new Hosts({ hosts: o.hosts, logger: o.logger, ...(o.tls ? { tls: o.tls } : {}), onEvent: forget });
    const pool = o.defaults?.storagePool ?? 'default';
    const observer: DomainObserver = new DomainObserver({ hosts: this.hosts, logger: o.logger, pool: () => pool, now: o.now ?? Date.now });
    const ctx: LibvirtContext = {
      hosts: this.hosts,
      logger: o.logger,
      pool,
      bridge: o.defaults?.network ?? 'br0',
      domainType: o.domainType ?? (env === 'qemu' || env === 'kvm' ? env : existsSync('/dev/kvm') ? 'kvm' : 'qemu'),
      ...(o.migration ? { migration: o.migration } : {}),
      ...(o.tls ? { policy: o.tls } : {}),
      forget,
      known: (d) => observer.known(d),
    };
    this.vms = new LibvirtVMs(ctx, observer, o.now ? { now: o.now } : {});
    this.disks = new LibvirtDisks(ctx);
    this.networks = new LibvirtNetworks(this.hosts);
    const th = templateHost(ctx);
    this.templates = {
      inspect: (name) => inspectTemplate(th, name),
      import: (name, image, options = {}) => importTemplate(th, name, image, options),
      fromVM: (target, name, options = {}) => templateFromVM(th, target, name, options),
    };
    this.guest = new LibvirtGuest(this.hosts);
    this.snapshots = new LibvirtSnapshots(this.hosts);
    this.consoles = new LibvirtConsoles(this.hosts, o.now ?? Date.now);
  }

  /** The connection to one host (benchmarks count its calls). */
  conn(host: string): Promise<LibvirtConnection> {
    return this.hosts.conn(host);
  }

  watch(onChange: (ids: string[]) => void): () => void {
    return this.hosts.watch(onChange);
  }

  close(): Promise<void> {
    return this.hosts.close();
  }
}
