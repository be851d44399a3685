// The core reads a spec where hypervisors differ by what the connector says, never by the
// Hypervisor's type; each real connector says what its hypervisor does.
import { describe, expect, it } from 'vitest';
import type { Hypervisor, VirtualMachine, VirtualNetwork } from '../../controller/api/types.ts';
import { normaliseVM } from '../../controller/core/desired.ts';
import type { ProviderConventions } from '../../controller/core/provider.ts';
import { loadConnector } from '../../providers/registry.ts';

const hv = (type: Hypervisor['spec']['type']): Hypervisor => ({
  apiVersion: 'virtkeeper.io/v1alpha1',
  kind: 'Hypervisor',
  metadata: { name: 'h' },
  spec: { type, endpoint: 'https://h.example', defaults: { bridge: 'vmbr0' } },
});
const vnet: VirtualNetwork = { apiVersion: 'virtkeeper.io/v1alpha1', kind: 'VirtualNetwork', metadata: { name: 'backend' }, spec: { vlanId: 42, hypervisors: [{ hypervisor: 'h' }] } };
const vm: VirtualMachine = {
  apiVersion: 'virtkeeper.io/v1alpha1',
  kind: 'VirtualMachine',
  metadata: { name: 'web' },
  spec: { hypervisor: 'h', memory: '1Gi', disks: [{ name: 'root', size: '10Gi' }], networks: [{ name: 'eth0', network: 'backend' }] },
};
const read = (type: Hypervisor['spec']['type'], conventions?: ProviderConventions) =>
  normaliseVM(vm, { hypervisor: hv(type), networks: new Map([['backend', vnet]]), templates: new Map(), ...(conventions ? { conventions } : {}) });

describe('provider conventions', () => {
  it.each([
    { name: 'none: virtio, the default bridge tagged', conventions: undefined, bus: 'virtio', nic: { network: 'vmbr0', vlan: 42 } },
    { name: 'a disk bus of its own', conventions: { diskInterface: 'virtio-scsi' as const }, bus: 'virtio-scsi', nic: { network: 'vmbr0', vlan: 42 } },
    { name: 'named: a network of the VirtualNetwork name, tagged', conventions: { virtualNetworks: 'named' as const }, bus: 'virtio', nic: { network: 'backend', vlan: 42 } },
    { name: 'own: a network of its name that carries the VLAN', conventions: { virtualNetworks: 'own' as const }, bus: 'virtio', nic: { network: 'backend', virtualNetwork: true } },
  ])('$name', ({ conventions, bus, nic }) => {
    // The Hypervisor's type says nothing: a proxmox-typed one without conventions gets the defaults.
    const d = read('proxmox', conventions);
    expect(d.disks[0]?.interface).toBe(bus);
    expect(d.nics[0]).toEqual({ name: 'eth0', model: 'virtio', ...nic });
  });

  it.each([
    ['proxmox', { diskInterface: 'virtio-scsi' }],
    ['ovirt', { virtualNetworks: 'named' }],
    ['libvirt', { virtualNetworks: 'own' }],
  ] as const)('the %s connector says %o', async (type, conventions) => {
    expect((await loadConnector(type)).conventions).toEqual(conventions);
  });
});
