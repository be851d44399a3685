// A VM's NICs on the engine: the vNIC profile a desired NIC resolves to, and the NIC writes.
import { ProviderNotFoundError } from '../../../controller/core/errors.ts';
import type { DesiredNic } from '../../../controller/core/model.ts';
import type { OvirtSession } from '../session.ts';

/** A VLAN picks the network that carries it (the same name preferred); else the name decides. */
export async function profileFor(s: OvirtSession, nic: DesiredNic): Promise<string | undefined> {
  let slow = await s.profiles();
  const find = () => {
    const all = [...slow.profiles.entries()];
    const byVlan = nic.vlan !== undefined ? all.filter(([, p]) => p.vlan === nic.vlan) : [];
    return (byVlan.find(([, p]) => p.network === nic.network) ?? byVlan[0] ?? all.find(([, p]) => p.network === nic.network))?.[0];
  };
  let id = find();
  if (!id) {
    slow = await s.profiles(true);
    id = find();
  }
  if (!id && (nic.network || nic.vlan)) throw new ProviderNotFoundError(`no vNIC profile for network ${nic.network ?? ''}${nic.vlan ? ` VLAN ${nic.vlan}` : ''} on this engine`);
  return id;
}

/** Adds a NIC to the VM with the profile. */
export async function addNic(s: OvirtSession, vmId: string, nic: DesiredNic, profile: string | undefined): Promise<void> {
  await s.api.call('POST', `/vms/${vmId}/nics`, {
    body: { name: nic.name, interface: nic.model, ...(profile ? { vnic_profile: { id: profile } } : {}), ...(nic.mac ? { mac: { address: nic.mac } } : {}) },
  });
}
