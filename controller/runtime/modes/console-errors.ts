// The console endpoint's answers that are not a ticket: each an error class with a stable code
// and the HTTP status it is sent with, so the CLI can print the same code back to the user.
import { type ErrorKind, VkError } from '../../core/errors.ts';

export abstract class ConsoleError extends VkError {
  abstract readonly status: number;
}

/** No bearer token, or one the API server does not accept (TokenReview says unauthenticated). */
export class ConsoleUnauthenticatedError extends ConsoleError {
  override readonly code = 'VK_CONSOLE_UNAUTHENTICATED';
  override readonly kind = 'auth';
  readonly status = 401;
}

/** The SubjectAccessReview denies `create virtualmachines/console` in the VM's namespace. */
export class ConsoleForbiddenError extends ConsoleError {
  override readonly code = 'VK_CONSOLE_FORBIDDEN';
  override readonly kind = 'auth';
  readonly status = 403;
}

/** A VM this controller does not know, does not own, or has not made yet. */
export class ConsoleNotFoundError extends ConsoleError {
  override readonly code = 'VK_CONSOLE_NOT_FOUND';
  override readonly kind = 'not-found';
  readonly status = 404;
}

export class ConsoleBadRequestError extends ConsoleError {
  override readonly code = 'VK_CONSOLE_BAD_REQUEST';
  override readonly kind = 'invalid';
  readonly status = 400;
}

/** The controller's own RBAC does not let it review the caller (manifests/rbac.yaml not applied). */
export class ConsoleReviewDeniedError extends ConsoleError {
  override readonly code = 'VK_CONSOLE_REVIEW_DENIED';
  override readonly kind = 'auth';
  readonly status = 502;
}

/** The caches are not synced yet: a VM missing from them may exist. */
export class ConsoleNotReadyError extends ConsoleError {
  override readonly code = 'VK_CONSOLE_NOT_READY';
  override readonly kind = 'transient';
  readonly status = 503;
}

/** `--console-listen` on a non-loopback address without TLS, or an address that does not parse. */
export class ConsoleListenError extends VkError {
  override readonly code = 'VK_CONSOLE_LISTEN';
  override readonly kind = 'invalid';
}

/** The HTTP status a provider's or the API server's error is answered with. */
export function statusOfKind(kind: ErrorKind): number {
  switch (kind) {
    case 'not-found':
      return 404;
    case 'invalid':
    case 'conflict':
      return 409;
    case 'locked':
    case 'transient':
      return 503;
    case 'auth':
      // The controller's own credentials (hypervisor or API server) failed: not the caller's fault.
      return 502;
    default:
      return 500;
  }
}
