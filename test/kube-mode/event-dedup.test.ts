// Events on the real kube-apiserver: the same note on the same object within ten minutes bumps
// the Event's series; what is older than that is forgotten, so an hour of errors whose notes
// differ (a counter, a time in the message) does not grow the de-duplication map without end.
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { kubeRest, loadKubeConfig, type KubeRest } from '../../controller/sources/kube-rest.ts';
import { KubernetesSource } from '../../controller/sources/kubernetes.ts';
import { DesiredStore } from '../../controller/sources/store.ts';
import { KubeEventRecorder } from '../../controller/status/kube-events.ts';
import { kubectlWith } from '../support/kubectl.ts';
import { until } from '../support/until.ts';

const admin = process.env.VK_KUBECONFIG ?? '';
const kubectl = kubectlWith(admin);
// Its own namespace of Secrets to watch (none), and a VM in `default` naming a Hypervisor no controller serves.
const run = `vk-evdedup-${Date.now().toString(36)}`;
const key = `VirtualMachine/default/${run}`;

describe.skipIf(!admin)('Event de-duplication in Kubernetes mode', () => {
  let rest: KubeRest | undefined;
  let source: KubernetesSource | undefined;
  afterAll(async () => {
    await source?.stop();
    await rest?.close();
    await kubectl(['delete', 'vkvm', '-n', 'default', run, '--wait=false']).catch(() => undefined);
    await kubectl(['delete', 'events', '-n', 'default', '--field-selector', `regarding.name=${run}`]).catch(() => undefined);
  });

  it('bumps a repeat within the window and forgets what is older than the window', async () => {
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'virtkeeper.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: run, namespace: 'default' }, spec: { hypervisor: `${run}-none`, memory: '1Gi' } }),
    );
    rest = await kubeRest(loadKubeConfig(admin));
    source = new KubernetesSource({ rest, store: new DesiredStore(), logger: pino({ level: 'silent' }), namespace: run, onChange: () => undefined });
    await source.start();
    await until('the VM in the cache', () => source?.object(key));
    let now = Date.parse('2026-12-01T10:00:00Z');
    const events = new KubeEventRecorder({ rest, source, logger: pino({ level: 'silent' }), instance: run, now: () => now });
    const fail = (n: number) => events.sink({ type: 'error', key, code: 'VK_TEST', message: `attempt ${n} failed`, retrying: true });
    const series = async () =>
      JSON.parse(await kubectl(['get', 'events.events.k8s.io', '-n', 'default', '--field-selector', `regarding.name=${run}`, '-o', 'json'])) as {
        items: { note: string; series?: { count: number } }[];
      };

    fail(1);
    await until('the first Event', () => events.remembered === 1);
    now += 60_000;
    fail(1);
    await until('the repeat counted in its series', async () => (await series()).items.find((e) => e.note === 'attempt 1 failed [VK_TEST]')?.series?.count === 2);
    now += 60_000;
    fail(2);
    await until('a second Event', () => events.remembered === 2);

    // Eleven minutes on: both are outside the window; the next Event is the only one remembered.
    now += 11 * 60_000;
    fail(3);
    await until('the old ones forgotten', () => events.remembered === 1, 10_000);
    expect((await series()).items.map((e) => e.note).sort()).toEqual(['attempt 1 failed [VK_TEST]', 'attempt 2 failed [VK_TEST]', 'attempt 3 failed [VK_TEST]']);
  }, 60_000);
});
