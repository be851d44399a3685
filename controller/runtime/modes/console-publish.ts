// Where `virtkeeper console --kubeconfig` finds the console endpoint: the ConfigMap
// `virtkeeper-console` in the controller's namespace, `data.url`, written by every replica at
// start (server-side apply, so replicas and restarts agree). Behind a Service, every replica
// publishes the same --console-url; without one, the last replica to start is the one named.
import { safeError } from '../../core/errors.ts';
import type { KubeRest } from '../../sources/kube-rest.ts';
import { type ConsoleEndpointOptions, type ConsoleListen, type RunningConsoleEndpoint, startConsoleEndpoint } from './console-endpoint.ts';

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

/** The endpoint, listening, and its URL published (`url` when given: a Service's). */
export async function servePublishedConsole(o: Omit<ConsoleEndpointOptions, keyof ConsoleListen> & ConsoleListen & { url?: string; namespace: string }): Promise<RunningConsoleEndpoint> {
  const endpoint = await startConsoleEndpoint(o);
  const url = o.url ?? endpoint.url;
  // Not fatal: the endpoint serves anyway, and clients can be given --controller.
  const published = await publishConsoleUrl(o.rest, o.namespace, url).then(
    () => true,
    (e: unknown) => {
      o.logger.warn(
        { err: safeError(e).message },
        `cannot publish the console URL in ConfigMap ${o.namespace}/${CONSOLE_CONFIGMAP}; apply manifests/rbac.yaml again; clients need --controller ${url} meanwhile`,
      );
      return false;
    },
  );
  o.logger.info({ console: endpoint.url, ...(published ? { published: url } : {}) }, 'console endpoint listening');
  return endpoint;
}
