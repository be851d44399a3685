// The old aggregator's request (one object per VM) → VirtualMachine and VirtualNetwork
// manifests. Pure: rows in, documents and per-row problems out.
import { API_VERSION } from '../api/common.ts';

export interface RequestRow {
  meta?: { document_num?: string; inf_system?: string; owner?: string; environment?: string };
  ovirt?: { engine?: string; cluster?: string; storage_domain?: string; host_nic?: string };
  vm?: {
    name?: string;
    hostname?: string;
    cores?: number | string;
    memory?: number | string;
    disks?: { size?: number | string; type?: string; mount_point?: string }[];
    template?: string;
    os?: string;
    nic_name?: string;
    gateway?: string;
    netmask?: string;
    address?: string;
    dns_servers?: string;
  };
  vlan?: { name?: string; id?: number | string };
}

export interface ConvertProblem {
  row: number;
  column?: string;
  message: string;
}

export function prefixOf(netmask: string): number | undefined {
  const parts = netmask.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  const bits = parts.map((p) => p.toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? (bits.indexOf('0') === -1 ? 32 : bits.indexOf('0')) : undefined;
}

const k8sName = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^-+|-+$/g, '');

export function convertRows(rows: readonly RequestRow[]): { documents: object[]; problems: ConvertProblem[] } {
  const documents: object[] = [];
  const problems: ConvertProblem[] = [];
  const vlans = new Map<string, { id: number; engines: Set<string> }>();
  rows.forEach((r, i) => {
    const row = i + 1;
    const bad = (column: string, message: string) => problems.push({ row, column, message });
    const before = problems.length;
    const vm = r.vm ?? {};
    const engine = r.ovirt?.engine;
    if (!vm.name) bad('vm.name', 'missing: every request needs a VM name');
    if (!engine) bad('ovirt.engine', 'missing: name the engine (a Hypervisor), e.g. e15-test');
    const cores = Number(vm.cores ?? 1);
    if (!Number.isInteger(cores) || cores < 1) bad('vm.cores', `expected a whole number of cores, got ${JSON.stringify(vm.cores)}`);
    const memory = Number(vm.memory);
    if (!(memory > 0)) bad('vm.memory', `expected memory in GiB, got ${JSON.stringify(vm.memory)}`);
    const disks = (vm.disks ?? []).map((d, j) => {
      const size = Number(d.size);
      if (!(size > 0)) bad(`vm.disks[${j}].size`, `expected a size in GiB, got ${JSON.stringify(d.size)}`);
      return {
        name: j === 0 ? 'root' : k8sName(d.type && d.type !== 'os' ? `${d.type}${j}` : `disk${j}`),
        size: `${size}Gi`,
        ...(r.ovirt?.storage_domain ? { storage: r.ovirt.storage_domain } : {}),
        ...(d.mount_point ? { mountPoint: d.mount_point } : {}),
      };
    });
    let ipv4: { address: string; gateway?: string } | undefined;
    if (vm.address) {
      const prefix = prefixOf(vm.netmask ?? '');
      if (prefix === undefined) bad('vm.netmask', `expected a netmask such as 255.255.255.0, got ${JSON.stringify(vm.netmask)}`);
      else ipv4 = { address: `${vm.address}/${prefix}`, ...(vm.gateway ? { gateway: vm.gateway } : {}) };
    }
    const vlanId = r.vlan?.id !== undefined ? Number(r.vlan.id) : undefined;
    if (vlanId !== undefined && !(Number.isInteger(vlanId) && vlanId >= 1 && vlanId <= 4094)) bad('vlan.id', `expected a VLAN id 1-4094, got ${JSON.stringify(r.vlan?.id)}`);
    if (problems.length > before) return;
    const vlanName = r.vlan?.name ? k8sName(r.vlan.name) : vlanId ? `vlan${vlanId}` : undefined;
    if (vlanName && vlanId) {
      const v = vlans.get(vlanName) ?? { id: vlanId, engines: new Set<string>() };
      v.engines.add(engine ?? '');
      vlans.set(vlanName, v);
    }
    const dns = (vm.dns_servers ?? '').split(/[\s,]+/).filter(Boolean);
    documents.push({
      apiVersion: API_VERSION,
      kind: 'VirtualMachine',
      metadata: { name: k8sName(vm.name ?? ''), namespace: k8sName(r.meta?.inf_system ?? 'default') },
      spec: {
        hypervisor: engine,
        ...(vm.name !== k8sName(vm.name ?? '') ? { name: vm.name } : {}),
        ...(r.ovirt?.cluster ? { placement: { cluster: r.ovirt.cluster } } : {}),
        ...(vm.template ? { template: vm.template } : {}),
        cpu: { sockets: 1, cores },
        memory: `${memory}Gi`,
        ...(disks.length ? { disks } : {}),
        networks: [{ name: vm.nic_name ?? 'eth0', ...(vlanName ? { network: vlanName } : {}), ...(ipv4 ? { ipv4 } : {}), ...(dns.length ? { dnsServers: dns } : {}) }],
        cloudInit: { hostname: vm.hostname ?? vm.name, ...(dns.length ? { dnsServers: dns } : {}) },
        ...(r.meta?.owner ? { owner: r.meta.owner } : {}),
        ...(r.meta?.environment ? { environment: r.meta.environment } : {}),
        ...(r.meta?.document_num ? { documentNumber: String(r.meta.document_num) } : {}),
        ...(r.meta?.inf_system ? { informationSystem: r.meta.inf_system } : {}),
      },
    });
  });
  for (const [name, v] of vlans) {
    documents.unshift({ apiVersion: API_VERSION, kind: 'VirtualNetwork', metadata: { name }, spec: { vlanId: v.id, hypervisors: [...v.engines].map((e) => ({ hypervisor: e })) } });
  }
  return { documents, problems };
}
