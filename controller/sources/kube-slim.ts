// What the Kubernetes source keeps of an object, and what of an update is worth a pass. The
// informer caches every object of every kind; managedFields and kubectl's last-applied
// annotation (the whole object again, as a string) are most of each one and never read here.
import type { KubernetesObject } from '@kubernetes/client-node';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Drops, in place, what the controller never reads; the informer's cache holds the same object. */
export function slim<T extends KubernetesObject>(obj: T): T {
  const m = obj.metadata;
  if (m) {
    delete m.managedFields;
    if (m.annotations && LAST_APPLIED in m.annotations) {
      const { [LAST_APPLIED]: _dropped, ...rest } = m.annotations;
      if (Object.keys(rest).length > 0) m.annotations = rest;
      else delete m.annotations;
    }
  }
  return obj;
}

type Spec = KubernetesObject & { spec?: unknown };

/**
 * Whether an update changes what a pass acts on: the spec (generation), labels, annotations,
 * finalizers or deletion. A status-only update (most of them: the controller's own status
 * writes) is not, as controller-runtime's generation-changed predicate has it.
 */
export function worthAPass(old: Spec | undefined, next: Spec): boolean {
  if (!old) return true;
  const a = old.metadata ?? {};
  const b = next.metadata ?? {};
  if (a.generation === undefined || b.generation === undefined) return true;
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    JSON.stringify(a.labels ?? {}) !== JSON.stringify(b.labels ?? {}) ||
    JSON.stringify(a.annotations ?? {}) !== JSON.stringify(b.annotations ?? {}) ||
    JSON.stringify(a.finalizers ?? []) !== JSON.stringify(b.finalizers ?? [])
  );
}

/** The object as desired state: spec and identity, without status or the version that moves with it. */
export function desiredValue(obj: Spec): Record<string, unknown> {
  const { status: _status, ...rest } = obj as Spec & { status?: unknown };
  const { resourceVersion: _rv, managedFields: _mf, ...metadata } = obj.metadata ?? {};
  return { ...rest, metadata };
}
