// VirtualNetworks: a VLAN made available on every hypervisor a network lists (verified where it
// must pre-exist, made where the provider may), and removed only where virtkeeper made it.
import type { VirtualNetwork } from '../../api/types.ts';
import { isoTime as iso, setCondition } from '../../core/status.ts';
import type { DesiredNetwork, NetworkState } from '../../core/provider.ts';
import type { StatusRecord } from '../../status/writer.ts';
import { safeError } from '../../core/errors.ts';
import { isNoObservation, observedIntents, unchecked } from './observed.ts';
import type { AppliedRecord, Intent, KindReconciler, ReconcileKit, ReconcileResult } from './types.ts';
import { statusOf } from '../records.ts';

export function networkFor(net: VirtualNetwork, b: VirtualNetwork['spec']['hypervisors'][number], key: string, instance?: string): DesiredNetwork {
  return {
    key,
    owner: { kind: 'VirtualNetwork', name: net.metadata.name, ...(instance ? { instance } : {}) },
    name: net.metadata.name,
    vlanId: net.spec.vlanId,
    ...(net.spec.mtu ? { mtu: net.spec.mtu } : {}),
    ...(b.bridge ? { bridge: b.bridge } : {}),
    ...(b.sdn ? { sdn: b.sdn } : {}),
    ...(b.datacenter ? { datacenter: b.datacenter } : {}),
    ...(b.clusters ? { clusters: b.clusters } : {}),
    ...(b.nodes ? { nodes: b.nodes } : {}),
  };
}

/** A VLAN on every hypervisor the VirtualNetwork lists; status says per hypervisor what is missing. */
export async function reconcileNetwork(k: ReconcileKit, key: string, net: VirtualNetwork, source: StatusRecord['source'], previous: StatusRecord | undefined): Promise<ReconcileResult> {
  if (k.o.dryRun) return { intents: await planNetwork(k, key, net, previous) };
  const gen = net.metadata.generation ?? 1;
  const results: ({ name: string } & NetworkState)[] = [];
  for (const b of net.spec.hypervisors) {
    try {
      const conn = await k.connect(b.hypervisor);
      if (!conn.client.networks) results.push({ name: b.hypervisor, present: false, providerIDs: [], message: `the ${conn.hypervisor.spec.type} provider does not manage VLAN networks yet` });
      else results.push({ name: b.hypervisor, ...(await conn.client.networks.ensure(networkFor(net, b, key, k.o.instance))) });
    } catch (e) {
      results.push({ name: b.hypervisor, present: false, providerIDs: [], message: safeError(e).message });
    }
  }
  const missing = results.filter((r) => !r.present);
  const now = iso(k.o.now());
  const prev = statusOf('VirtualNetwork', previous);
  const status: NonNullable<VirtualNetwork['status']> = {
    hypervisors: results.map((r) => ({ name: r.name, present: r.present, providerIDs: r.providerIDs, ...(r.message ? { message: r.message } : {}) })),
    conditions: setCondition(
      prev?.conditions,
      missing.length === 0
        ? { type: 'Ready', status: 'True', reason: 'Present', message: `VLAN ${net.spec.vlanId} present on ${results.map((r) => r.name).join(', ')}` }
        : { type: 'Ready', status: 'False', reason: 'Missing', message: missing.map((r) => `${r.name}: ${r.message ?? 'missing'}`).join('; ') },
      gen,
      now,
    ),
    observedGeneration: gen,
  };
  await k.writeRecord({ key, resource: net, status, source, lastApplied: net });
  k.emit({ type: 'status', key, ready: missing.length === 0 ? 'True' : 'False', message: status.conditions?.[0]?.message ?? '' });
  return { ready: missing.length === 0, requeueAfter: missing.length === 0 ? 60_000 : 10_000 };
}

/**
 * What an apply would do on each hypervisor the network lists, as each provider observes it;
 * where one cannot look without acting yet, the make-available intent, unchecked.
 */
async function planNetwork(k: ReconcileKit, key: string, net: VirtualNetwork, previous: StatusRecord | undefined): Promise<Intent[]> {
  const out: Intent[] = [];
  const blind: string[] = [];
  const several = net.spec.hypervisors.length > 1;
  for (const b of net.spec.hypervisors) {
    const prefix = several ? `${b.hypervisor}: ` : '';
    try {
      const conn = await k.connect(b.hypervisor);
      if (!conn.client.networks) out.push({ symbol: '~', summary: `${prefix}the ${conn.hypervisor.spec.type} provider does not manage VLAN networks yet`, blocking: true });
      else out.push(...observedIntents(await conn.client.networks.observe(networkFor(net, b, key, k.o.instance)), prefix));
    } catch (e) {
      if (isNoObservation(e)) blind.push(b.hypervisor);
      else out.push({ symbol: '~', summary: `${prefix}${safeError(e).message}`, blocking: true });
    }
  }
  if (blind.length > 0) out.push(...unchecked([{ symbol: previous ? '~' : '+', summary: `make VLAN ${net.spec.vlanId} available on ${blind.join(', ')}${previous ? ' (verify)' : ''}` }]));
  return out;
}

export async function removeNetwork(k: ReconcileKit, key: string, previous: AppliedRecord<VirtualNetwork>): Promise<ReconcileResult> {
  const net = previous.lastApplied;
  if (k.o.dryRun)
    return {
      intents: [
        {
          symbol: '-',
          summary:
            (net.spec.deletionPolicy ?? 'Delete') === 'Delete'
              ? `remove VLAN ${net.spec.vlanId} networks virtkeeper made, once no VM uses them`
              : `forget VLAN ${net.spec.vlanId} (deletionPolicy: Orphan)`,
        },
      ],
    };
  if ((net.spec.deletionPolicy ?? 'Delete') === 'Delete') {
    for (const b of net.spec.hypervisors) {
      if (!k.o.store.hypervisor(b.hypervisor)) continue;
      const conn = await k.connect(b.hypervisor);
      await conn.client.networks?.delete(networkFor(net, b, key, k.o.instance));
    }
  }
  await k.o.statuses.remove(key);
  return { ready: true };
}

export const networkReconciler: KindReconciler<VirtualNetwork> = {
  kind: 'VirtualNetwork',
  removalDestroys: true,
  reconcile: (k, key, { resource, source }, previous) => reconcileNetwork(k, key, resource, source, previous),
  remove: removeNetwork,
};
