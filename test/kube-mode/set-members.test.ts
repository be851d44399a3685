// Kubernetes mode on the real kube-apiserver: a VirtualMachineSet member with the name of a
// VirtualMachine never replaces it; both are held as they were, with the problem to show.
import { join } from 'node:path';
import { kubeRest, loadKubeConfig, type KubeRest } from '../../controller/sources/kube-rest.ts';
import { pino } from 'pino';
import { kubectlWith } from '../support/kubectl.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { KubernetesSource } from '../../controller/sources/kubernetes.ts';
import { DesiredStore } from '../../controller/sources/store.ts';
import type { VirtualMachine } from '../../controller/api/types.ts';
import { until } from '../support/until.ts';

const admin = process.env.VK_KUBECONFIG ?? '';
const root = join(import.meta.dirname, '..', '..');
const ns = `vk-members-${Date.now().toString(36)}`;

const kubectl = kubectlWith(admin);

describe.skipIf(!admin)('VirtualMachineSet members in Kubernetes mode', () => {
  let source: KubernetesSource | undefined;
  let rest: KubeRest | undefined;
  afterAll(async () => {
    await source?.stop();
    await rest?.close();
    await kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  });

  it('a member named like a VirtualMachine: the VirtualMachine is held as it was, the set is not applied', async () => {
    // Its own CRDs (the suites run in any order) and a Hypervisor no controller serves, so the
    // e2e suite's controllers, running beside it, leave these objects alone.
    await kubectl(['apply', '-f', join(root, 'crds')]);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    await kubectl(['create', 'namespace', ns]);
    await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: alice-course, namespace: ${ns}}\nspec: {hypervisor: pve-members-none, memory: 2Gi}\n`,
    );
    const store = new DesiredStore();
    rest = await kubeRest(loadKubeConfig(admin));
    source = new KubernetesSource({ rest, store, logger: pino({ level: 'silent' }), namespace: ns, onChange: () => undefined });
    await source.start();
    const key = `VirtualMachine/${ns}/alice-course`;
    await until('the VirtualMachine in the store', () => store.get(key));

    await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSet\nmetadata: {name: course, namespace: ${ns}}\nspec:\n  users: [alice@pve, bob@pve]\n  template: {hypervisor: pve-members-none, memory: 1Gi}\n`,
    );
    const held = await until('the VirtualMachine held', () => store.get(key)?.heldBecause && store.get(key));
    expect((held.resource as VirtualMachine).spec.memory).toBe('2Gi');
    expect(held.resource.metadata.labels?.['virtkeeper.io/set']).toBeUndefined();
    expect(held.heldBecause).toEqual([
      `kubernetes:${key}:1: VirtualMachine ${ns}/alice-course metadata.name: duplicate name: VirtualMachine ${ns}/alice-course is also VirtualMachine ${ns}/alice-course (a member of VirtualMachineSet ${ns}/course for user alice@pve) at kubernetes:VirtualMachineSet/${ns}/course:1; neither is applied: rename one of them`,
    ]);
    expect([store.get(`VirtualMachineSet/${ns}/course`), store.get(`VirtualMachine/${ns}/bob-course`)]).toEqual([undefined, undefined]);
  }, 60_000);
});
