// Where `virtkeeper console --kubeconfig` finds the console endpoint: the ConfigMap
// `virtkeeper-console` in the controller's namespace, `data.url`, written by every replica at
// start (server-side apply, so replicas and restarts agree). Behind a Service, every replica
// publishes the same --console-url; without one, the last replica to start is the one named.
import type { KubeRest } from '../../sources/kube-rest.ts';

export const CONSOLE_CONFIGMAP = 'virtkeeper-console';

export async function publishConsoleUrl(rest: KubeRest, namespace: string, url: string): Promise<void> {
  await rest.call(
    'PATCH',
    `/api/v1/namespaces/${namespace}/configmaps/${CONSOLE_CONFIGMAP}?fieldManager=virtkeeper-console&force=true`,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: CONSOLE_CONFIGMAP, namespace, labels: { 'app.kubernetes.io/name': 'virtkeeper' } },
      data: { url },
    },
    'application/apply-patch+yaml',
  );
}
