// Kubernetes mode's intake: accepted documents are created through the API server (the
// controller then converges them as any other object). Creating needs the rights of
// manifests/ui/rbac-intake.yaml; without them the answer says so and nothing is half made
// (a failure stops at the first document; those before it are named in the message).
import { KINDS } from '../api/kinds.ts';
import type { AnyResource } from '../api/types.ts';
import { KubeConflictError, KubeForbiddenError } from '../sources/kube-errors.ts';
import type { KubeRest } from '../sources/kube-rest.ts';
import { IntakeError, type IntakeSink } from './intake.ts';

const GROUP_VERSION = 'virtkeeper.io/v1alpha1';

export class IntakeForbiddenError extends IntakeError {
  override readonly code = 'VK_UI_INTAKE_FORBIDDEN';
}

function pathOf(d: AnyResource): string {
  const k = KINDS[d.kind];
  return k.scope === 'Cluster' ? `/apis/${GROUP_VERSION}/${k.plural}` : `/apis/${GROUP_VERSION}/namespaces/${encodeURIComponent(d.metadata.namespace ?? 'default')}/${k.plural}`;
}

export function kubeSink(rest: KubeRest): IntakeSink {
  return async (docs, req) => {
    const created: string[] = [];
    for (const d of docs) {
      const name = `${d.kind} ${d.metadata.namespace ? `${d.metadata.namespace}/` : ''}${d.metadata.name}`;
      const body = { ...d, metadata: { ...d.metadata, annotations: { ...(d.metadata.annotations ?? {}), ...(req.documentNumber ? { 'virtkeeper.io/request': req.documentNumber } : {}) } } };
      try {
        await rest.call('POST', pathOf(d), body);
      } catch (e) {
        const done = created.length ? ` (created before it: ${created.join(', ')})` : '';
        if (e instanceof KubeForbiddenError)
          throw new IntakeForbiddenError(`the controller may not create ${name}: apply manifests/ui/rbac-intake.yaml to let the inventory create requested resources${done}`);
        if (e instanceof KubeConflictError) throw new IntakeError(`${name} exists in the cluster already${done}`);
        throw new IntakeError(`cannot create ${name}: ${(e as Error).message}${done}`);
      }
      created.push(name);
    }
    return { created };
  };
}
