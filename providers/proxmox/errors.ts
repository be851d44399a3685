// Proxmox answers put the message in the HTTP reason phrase (and `message`); this turns a
// status + text into one of the provider error classes, once, for the whole provider.
import { ProviderAuthError, ProviderConflictError, ProviderInvalidError, ProviderLockedError, ProviderNotFoundError, ProviderTransientError, type VkError } from '../../controller/core/errors.ts';

export function classifyProxmox(status: number, message: string, errors?: Record<string, string>): VkError {
  const m = message.trim();
  const details = errors ? { errors } : undefined;
  const opts = details ? { details } : {};
  if (status === 401 || status === 403) return new ProviderAuthError(`Proxmox refused the request: ${m}`, opts);
  if (/does not exist|no such (task|cluster node|vm)/i.test(m) || status === 404) return new ProviderNotFoundError(m, opts);
  if (/VM is locked|can't lock file|got timeout/i.test(m)) return new ProviderLockedError(m, opts);
  // Snapshot tasks: another snapshot task holds the VM, or the VM is still running under a rollback.
  if (/incomplete snapshot|encountered invalid lock|guest migration lock|unable to rollback vm \d+: vm is running/i.test(m)) return new ProviderLockedError(m, opts);
  if (/snapshot name '[^']*' already used/i.test(m)) return new ProviderConflictError(m, opts);
  if (/snapshot feature is not available|\(reserved name\)|no spice port/i.test(m)) return new ProviderInvalidError(m, opts);
  if (/detected modified configuration|already exists/i.test(m) || (errors && Object.values(errors).some((e) => /already exists/.test(e))))
    return new ProviderConflictError(errors ? `${m} ${JSON.stringify(errors)}` : m, opts);
  if (status === 400)
    return new ProviderInvalidError(
      errors
        ? `${m} ${Object.entries(errors)
            .map(([k, v]) => `${k}: ${v}`)
            .join('; ')}`
        : m,
      opts,
    );
  // The VM's power state moved under the request (a task of an earlier pass finished): a conflict, tried again.
  if (status >= 500 && /not running|is running - destroy failed|already running/i.test(m)) return new ProviderConflictError(m, opts);
  if (status >= 500 && /shrinking disks is not supported|protection mode|not supported|can't migrate|template/i.test(m)) return new ProviderInvalidError(m, opts);
  return new ProviderTransientError(`${status} ${m}`, opts);
}
