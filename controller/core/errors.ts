// One base class with a stable code; providers classify their errors once into these kinds.

export type ErrorKind = 'not-found' | 'locked' | 'transient' | 'auth' | 'invalid' | 'conflict' | 'internal';

export interface VkErrorOptions {
  cause?: unknown;
  /** Extra context safe to show to a person (never credentials). */
  details?: Record<string, unknown>;
}

/**
 * A text as it may be shown: any URL without its userinfo (`https://admin:pw@host` → `https://host`)
 * and `password=…`-style parameters masked. Applied to every VkError message, to safeError and
 * to the log lines, so no path (a provider's "cannot reach …", a library's message) shows one.
 */
export function redactSecrets(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi, '$1').replace(/(password|passwd|token|ticket|secret)=[^&\s]+/gi, '$1=***');
}

export class VkError extends Error {
  readonly code: string = 'VK_ERROR';
  readonly kind: ErrorKind = 'internal';
  readonly details: Record<string, unknown> | undefined;
  constructor(message: string, options: VkErrorOptions = {}) {
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details;
  }
  /** Whether a retry with backoff may succeed. */
  get retryable(): boolean {
    return this.kind === 'locked' || this.kind === 'transient' || this.kind === 'conflict';
  }
}

export class SpecInvalidError extends VkError {
  override readonly code = 'VK_SPEC_INVALID';
  override readonly kind = 'invalid';
}

/** A reconcile that must not be retried until the spec changes. */
export class TerminalError extends VkError {
  override readonly code: string = 'VK_TERMINAL';
  override readonly kind: ErrorKind = 'invalid';
}

export class RefusedError extends TerminalError {
  override readonly code = 'VK_REFUSED';
}

export class ProviderNotFoundError extends VkError {
  override readonly code = 'VK_PROVIDER_NOT_FOUND';
  override readonly kind = 'not-found';
}

export class ProviderLockedError extends VkError {
  override readonly code: string = 'VK_PROVIDER_LOCKED';
  override readonly kind = 'locked';
}

export class ProviderTransientError extends VkError {
  override readonly code = 'VK_PROVIDER_TRANSIENT';
  override readonly kind = 'transient';
}

export class ProviderConflictError extends VkError {
  override readonly code = 'VK_PROVIDER_CONFLICT';
  override readonly kind = 'conflict';
}

export class ProviderAuthError extends VkError {
  override readonly code = 'VK_PROVIDER_AUTH';
  override readonly kind = 'auth';
}

export class ProviderInvalidError extends VkError {
  override readonly code = 'VK_PROVIDER_INVALID';
  override readonly kind = 'invalid';
}

export function isVkError(e: unknown): e is VkError {
  return e instanceof VkError;
}

/**
 * Whether another pass cannot fix it without a change of spec, configuration or credentials:
 * decided here, once, by the error's kind (invalid input, a refusal, auth); everything else
 * (locked, transient, conflict, not found, internal) may go away on a retry.
 */
export function isFinalError(e: unknown): boolean {
  return e instanceof VkError && (e.kind === 'invalid' || e.kind === 'auth');
}

/** An error as it may be shown: a stable code and a message with no credentials in it. */
export function safeError(e: unknown): { code: string; message: string } {
  if (e instanceof VkError) return { code: e.code, message: redactSecrets(e.message) };
  const m = e instanceof Error ? e.message : String(e);
  return { code: 'VK_INTERNAL', message: redactSecrets(m) };
}

/**
 * A provider that cannot look at a disk or network without changing it: `plan` then shows what
 * the status suggests, marked as not checked against the hypervisor.
 */
export class NoObservationError extends VkError {
  override readonly code = 'VK_NO_OBSERVATION';
  constructor(what: string) {
    super(`this provider cannot look at a ${what} without changing it yet`);
  }
}
