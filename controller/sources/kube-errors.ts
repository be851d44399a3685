// Errors of the Kubernetes API, with codes of their own: a 404 from the API server is not a VM
// missing on a hypervisor, and a status or a log should say which one it was.
import { type ErrorKind, VkError } from '../core/errors.ts';

export class KubeError extends VkError {
  override readonly code: string = 'VK_KUBE';
  override readonly kind: ErrorKind = 'invalid';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export class KubeNotFoundError extends KubeError {
  override readonly code = 'VK_KUBE_NOT_FOUND';
  override readonly kind = 'not-found';
}

/** A 409: someone else wrote first (a resourceVersion that moved on); read again and retry. */
export class KubeConflictError extends KubeError {
  override readonly code = 'VK_KUBE_CONFLICT';
  override readonly kind = 'conflict';
}

/** A 401 or 403: the kubeconfig or the RBAC (manifests/rbac.yaml) does not allow it. */
export class KubeForbiddenError extends KubeError {
  override readonly code = 'VK_KUBE_FORBIDDEN';
  override readonly kind = 'auth';
}

/** A 5xx, a 429 or no answer: the API server is busy or away; retried with backoff. */
export class KubeUnavailableError extends KubeError {
  override readonly code = 'VK_KUBE_UNAVAILABLE';
  override readonly kind = 'transient';
}

/** The one classification of an API server's answer. */
export function kubeError(status: number, message: string): KubeError {
  if (status === 404) return new KubeNotFoundError(status, message);
  if (status === 409) return new KubeConflictError(status, message);
  if (status === 401 || status === 403) return new KubeForbiddenError(status, message);
  if (status >= 500 || status === 429 || status === 0) return new KubeUnavailableError(status, message);
  return new KubeError(status, message);
}
