// Normalises a VirtualMachine spec into the provider-neutral DesiredVM: quantities to
// bytes, defaults applied, VirtualNetwork and VMTemplate references resolved.
import { parseQuantity } from '../api/quantity.ts';
import { DEFAULT_NAMESPACE, keyOf } from '../api/keys.ts';
import type { Hypervisor, VirtualMachine, VirtualNetwork, VMTemplate } from '../api/types.ts';
import type { DesiredVM, DiskInterface } from './model.ts';
import type { ProviderConventions } from './provider.ts';

export interface DesiredContext {
  hypervisor: Hypervisor;
  networks: ReadonlyMap<string, VirtualNetwork>;
  templates: ReadonlyMap<string, VMTemplate>;
  /** The controller instance the VM's marker names (see OwnerRef.instance). */
  instance?: string;
  /** What the Hypervisor's connector says where hypervisors differ (defaults: see ProviderConventions). */
  conventions?: ProviderConventions;
}

/** Tag charset shared by the providers (Proxmox is the strictest). */
export function sanitizeTag(t: string): string {
  return t
    .toLowerCase()
    .replace(/[^a-z0-9_+.-]/g, '-')
    .slice(0, 64);
}

export function templateName(t: VMTemplate): string {
  return t.spec.name ?? t.spec.source.existing ?? t.metadata.name;
}

export function normaliseVM(vm: VirtualMachine, ctx: DesiredContext): DesiredVM {
  const s = vm.spec;
  const hvDefaults = ctx.hypervisor.spec.defaults ?? {};
  const namespace = vm.metadata.namespace ?? DEFAULT_NAMESPACE;
  const owner = { kind: 'VirtualMachine', namespace, name: vm.metadata.name, ...(ctx.instance ? { instance: ctx.instance } : {}) };
  const tpl = s.template ? ctx.templates.get(s.template) : undefined;
  const defaultBus: DiskInterface = ctx.conventions?.diskInterface ?? 'virtio';
  const vnets = ctx.conventions?.virtualNetworks ?? 'bridge';
  const metadata: Record<string, string> = {};
  for (const k of ['owner', 'environment', 'documentNumber', 'informationSystem'] as const) {
    const v = s[k];
    if (v) metadata[k] = v;
  }
  const out: DesiredVM = {
    key: keyOf({ kind: 'VirtualMachine', namespace, name: vm.metadata.name }),
    owner,
    generation: vm.metadata.generation ?? 1,
    hypervisor: s.hypervisor,
    name: s.name ?? vm.metadata.name,
    clone: s.clone ?? 'full',
    placement: {
      strategy: s.placement?.strategy ?? (s.placement?.node ? 'Pinned' : 'LeastLoaded'),
      ...(s.placement?.node ? { node: s.placement.node } : {}),
      ...((s.placement?.cluster ?? hvDefaults.cluster) ? { cluster: s.placement?.cluster ?? hvDefaults.cluster } : {}),
      ...(s.placement?.allowedNodes ? { allowedNodes: s.placement.allowedNodes } : {}),
    },
    cpu: { sockets: s.cpu?.sockets ?? 1, cores: s.cpu?.cores ?? 1, threads: s.cpu?.threads ?? 1 },
    memoryBytes: parseQuantity(s.memory),
    disks: (s.disks ?? []).map((d, i) => {
      const storage = d.storage ?? hvDefaults.storage ?? hvDefaults.storageDomain ?? hvDefaults.storagePool;
      return {
        name: d.name,
        sizeBytes: parseQuantity(d.size),
        interface: d.interface ?? defaultBus,
        bootable: d.bootable ?? i === 0,
        ...(storage ? { storage } : {}),
        ...(d.format ? { format: d.format } : {}),
      };
    }),
    nics: (s.networks ?? []).map((n) => {
      const vnet = n.network ? ctx.networks.get(n.network) : undefined;
      const binding = vnet?.spec.hypervisors.find((b) => b.hypervisor === s.hypervisor);
      // `own`: the VirtualNetwork is a network of its own name on the hypervisor that carries the VLAN.
      const ownNet = !!vnet && vnets === 'own';
      const network = ownNet
        ? vnet.metadata.name
        : vnet
          ? (binding?.sdn?.vnet ?? binding?.vnicProfile ?? binding?.bridge?.split('.')[0] ?? (vnets === 'named' ? vnet.metadata.name : (hvDefaults.bridge ?? hvDefaults.network)))
          : (n.network ?? hvDefaults.bridge ?? hvDefaults.network);
      const vlan = n.vlan ?? (binding?.sdn || ownNet ? undefined : vnet?.spec.vlanId);
      return {
        name: n.name,
        model: n.model ?? 'virtio',
        ...(network ? { network } : {}),
        ...(vlan !== undefined ? { vlan } : {}),
        ...(ownNet ? { virtualNetwork: true } : {}),
        ...(n.mac ? { mac: n.mac.toLowerCase() } : {}),
        ...(n.ipv4 ? { ipv4: { ...n.ipv4 } } : {}),
        ...(n.dnsServers ? { dnsServers: [...n.dnsServers] } : {}),
      };
    }),
    runStrategy: s.runStrategy ?? 'Always',
    guestAgent: s.guestAgent ?? true,
    protection: s.protection ?? false,
    deletionPolicy: s.deletionPolicy ?? 'Delete',
    updatePolicy: s.updatePolicy ?? 'Live',
    adopt: s.adopt ? { prune: typeof s.adopt === 'object' && s.adopt.prune === true } : false,
    tags: Object.entries(vm.metadata.labels ?? {}).map(([k, v]) => sanitizeTag(`${k.split('/').pop() ?? k}-${v}`)),
    metadata,
  };
  const template = tpl ? templateName(tpl) : s.template;
  if (template) out.template = template;
  if (s.maxMemory) out.maxMemoryBytes = parseQuantity(s.maxMemory);
  if (s.cloudInit) out.cloudInit = { ...s.cloudInit };
  if (s.autostart !== undefined) out.autostart = s.autostart;
  if (s.description) out.description = s.description;
  const pool = s.pool ?? hvDefaults.pool;
  if (pool) out.pool = pool;
  return out;
}
