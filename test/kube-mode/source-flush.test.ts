// The Kubernetes source on the real kube-apiserver: every flush rebuilds the desired state of
// every object, so what it does per object must not repeat. An invalid object is validated (and
// logged) once, when it appears or its spec changes; status updates (the controller's own
// writes, most updates at 10,000 VMs) and flushes for other objects neither re-validate nor
// re-log it.
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { kubeRest, loadKubeConfig, type KubeRest } from '../../controller/sources/kube-rest.ts';
import { KubernetesSource } from '../../controller/sources/kubernetes.ts';
import { DesiredStore } from '../../controller/sources/store.ts';
import { kubectlWith } from '../support/kubectl.ts';
import { until } from '../support/until.ts';

const admin = process.env.VK_KUBECONFIG ?? '';
const kubectl = kubectlWith(admin);
const run = `vk-flush-${Date.now().toString(36)}`;

// In `default`, labelled for clean-up, naming a Hypervisor no controller serves (the e2e suites' controllers leave them alone).
const vm = (name: string, spec: Record<string, unknown>) =>
  JSON.stringify({
    apiVersion: 'virtkeeper.io/v1alpha1',
    kind: 'VirtualMachine',
    metadata: { name: `${run}-${name}`, namespace: 'default', labels: { 'virtkeeper.io/test': run } },
    spec: { hypervisor: `${run}-none`, ...spec },
  });

describe.skipIf(!admin)('Kubernetes source flushes', () => {
  let rest: KubeRest | undefined;
  let source: KubernetesSource | undefined;
  afterAll(async () => {
    await source?.stop();
    await rest?.close();
    await kubectl(['delete', 'vkvm', '-n', 'default', '-l', `virtkeeper.io/test=${run}`, '--wait=false']).catch(() => undefined);
  });

  it('logs an invalid object once, however many status updates and other flushes follow', async () => {
    // Valid to the CRD's schema, not to virtkeeper's own checks.
    await kubectl(['apply', '-f', '-'], vm('bad', { memory: '4Gi', maxMemory: '1Gi' }));
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
    const store = new DesiredStore();
    rest = await kubeRest(loadKubeConfig(admin));
    let changes = 0;
    source = new KubernetesSource({ rest, store, logger, namespace: run, onChange: () => void changes++ });
    await source.start();
    const bad = () => lines.filter((l) => l.includes(`${run}-bad`) && l.includes('is above maxMemory'));
    await until('the problem logged', () => bad().length > 0);

    // Status updates of the invalid object, each followed by a flush another object causes.
    for (let i = 0; i < 3; i++) {
      await kubectl(['patch', 'vkvm', '-n', 'default', `${run}-bad`, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { observedGeneration: i + 1 } })]);
      await until('the status update in the cache', () => (source?.object(`VirtualMachine/default/${run}-bad`)?.status as { observedGeneration?: number } | undefined)?.observedGeneration === i + 1);
      const before = changes;
      await kubectl(['apply', '-f', '-'], vm(`good-${i}`, { memory: '1Gi' }));
      await until('the flush for the new object', () => changes > before && store.get(`VirtualMachine/default/${run}-good-${i}`));
    }
    expect(bad()).toHaveLength(1);

    // A spec change is validated afresh: said again.
    await kubectl(['apply', '-f', '-'], vm('bad', { memory: '8Gi', maxMemory: '1Gi' }));
    await until('the changed problem logged', () => bad().length === 2);
    expect(bad()[1]).toContain('memory 8Gi is above maxMemory 1Gi');
  }, 90_000);
});
