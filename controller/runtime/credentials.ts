// Resolves a Hypervisor's credentialsRef in directory mode: an environment variable prefix
// or a JSON file outside the repository. The values never reach a log, a status or an error.
import { readFile } from 'node:fs/promises';
import { VkError } from '../core/errors.ts';
import type { Hypervisor } from '../api/types.ts';
import type { Credentials } from '../../providers/provider.ts';

export class CredentialsError extends VkError {
  override readonly code = 'VK_CREDENTIALS';
  override readonly kind = 'auth';
}

export type CredentialsResolver = (hv: Hypervisor) => Promise<Credentials>;

function fromRecord(r: Record<string, unknown>, where: string): Credentials {
  if (typeof r.token === 'string' && r.token) return { token: r.token };
  if (typeof r.username === 'string' && typeof r.password === 'string') return { username: r.username, password: r.password };
  throw new CredentialsError(`${where} has neither "token" nor "username" and "password"`);
}

export function directoryCredentials(env: NodeJS.ProcessEnv = process.env): CredentialsResolver {
  return async (hv) => {
    const ref = hv.spec.credentialsRef;
    if (!ref) return { none: true };
    if (ref.env) {
      const p = ref.env;
      const record = { username: env[`${p}_USERNAME`], password: env[`${p}_PASSWORD`], token: env[`${p}_TOKEN`] };
      if (!record.token && !(record.username && record.password)) {
        throw new CredentialsError(`Hypervisor ${hv.metadata.name}: set ${p}_TOKEN, or ${p}_USERNAME and ${p}_PASSWORD, in the environment`);
      }
      return fromRecord(record, `environment ${p}_*`);
    }
    if (ref.file) {
      let text: string;
      try {
        text = await readFile(ref.file, 'utf8');
      } catch (e) {
        throw new CredentialsError(`Hypervisor ${hv.metadata.name}: cannot read credentials file ${ref.file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new CredentialsError(`Hypervisor ${hv.metadata.name}: credentials file ${ref.file} is not JSON`);
      }
      return fromRecord(parsed as Record<string, unknown>, `credentials file ${ref.file}`);
    }
    throw new CredentialsError(`Hypervisor ${hv.metadata.name}: credentialsRef names a Secret (${ref.name ?? '?'}), which needs Kubernetes mode; use env or file in directory mode`);
  };
}
