// The informer on the real kube-apiserver: a watch from a resourceVersion the server no longer
// keeps is answered 410 (Gone, an ERROR event in the stream); the informer relists, reports what
// was deleted meanwhile and puts what was created, then watches again from the new list.
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Informer, type Listed } from '../../controller/sources/kube-informer.ts';
import { kubeRest, loadKubeConfig, type KubeRest, type WatchEvent } from '../../controller/sources/kube-rest.ts';
import { kubectlWith } from '../support/kubectl.ts';
import { until } from '../support/until.ts';

const admin = process.env.VK_KUBECONFIG ?? '';
const root = join(import.meta.dirname, '..', '..');
const run = `vk-inf-${Date.now().toString(36)}`;
const kubectl = kubectlWith(admin);
const PATH = '/apis/virtkeeper.io/v1alpha1/namespaces/default/virtualmachines';

// A Hypervisor no controller serves: the e2e suites' controllers, running beside this, leave these alone.
const vm = (name: string) =>
  JSON.stringify({
    apiVersion: 'virtkeeper.io/v1alpha1',
    kind: 'VirtualMachine',
    metadata: { name: `${run}-${name}`, namespace: 'default', labels: { 'virtkeeper.io/test': run } },
    spec: { hypervisor: `${run}-none`, memory: '1Gi' },
  });

describe.skipIf(!admin)('informer on the real kube-apiserver', () => {
  let rest: KubeRest | undefined;
  let informer: Informer<Listed> | undefined;
  afterAll(async () => {
    await informer?.stop();
    await rest?.close();
    await kubectl(['delete', 'vkvm', '-n', 'default', '-l', `virtkeeper.io/test=${run}`, '--wait=false']).catch(() => undefined);
  });

  it('relists after a 410 (a too-old resourceVersion): deletions and creations meanwhile are reported', async () => {
    await kubectl(['apply', '-f', join(root, 'crds')]);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    await kubectl(['apply', '-f', '-'], vm('a'));
    await kubectl(['apply', '-f', '-'], vm('b'));
    const real = await kubeRest(loadKubeConfig(admin));
    rest = real;
    const events: WatchEvent<Listed>['type'][] = [];
    const watches: string[] = [];
    let stale = '';
    // The real client, but the version of the first list is taken as compacted away: a watch
    // from it is sent from resourceVersion 1 (long gone), after b was deleted and c created
    // behind the informer's back. Only a relist gets the informer past it.
    const aged: KubeRest = {
      ...real,
      call: (...a) => real.call(...a),
      async watch<T>(path: string, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal) {
        const from = new URLSearchParams(path.split('?')[1]).get('resourceVersion') ?? '';
        if (!stale) {
          stale = from;
          await kubectl(['delete', 'vkvm', '-n', 'default', `${run}-b`]);
          await kubectl(['apply', '-f', '-'], vm('c'));
        }
        watches.push(from);
        const sent = from === stale ? path.replace(/resourceVersion=\d+/, 'resourceVersion=1') : path;
        return real.watch<T>(
          sent,
          (e) => {
            events.push(e.type);
            onEvent(e);
          },
          signal,
        );
      },
    };
    const seen = new Set<string>();
    const deleted: string[] = [];
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    informer = new Informer<Listed>({
      rest: aged,
      logger,
      path: PATH,
      labelSelector: `virtkeeper.io/test=${run}`,
      pageSize: 1,
      handlers: {
        put: (o) => void seen.add(o.metadata?.name ?? ''),
        delete: (o) => {
          seen.delete(o.metadata?.name ?? '');
          deleted.push(o.metadata?.name ?? '');
        },
      },
    });
    await informer.start();
    expect([...seen].sort()).toEqual([`${run}-a`, `${run}-b`]);

    await until('the relist after the 410', () => seen.has(`${run}-c`) && !seen.has(`${run}-b`), 20_000);
    expect(events[0]).toBe('ERROR');
    expect(deleted).toEqual([`${run}-b`]);
    // Handled as the server's answer, not as a broken watch: no warning, no back-off.
    expect(warnings).toEqual([]);
    // And it watches on from the relist's version, which sees what follows.
    await until('a second watch', () => watches.length >= 2 && watches);
    expect(watches.slice(0, 2).map((v) => v === stale)).toEqual([true, false]);
    expect(seen.has('')).toBe(false);
    await kubectl(['apply', '-f', '-'], vm('d'));
    await until('d through the new watch', () => seen.has(`${run}-d`), 20_000);
  }, 90_000);
});
