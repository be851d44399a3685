// Resolves a Hypervisor's credentialsRef in directory mode. A manifest names credentials; the
// operator decides which ones a manifest may name: environment variables only under the
// VIRTKEEPER_ prefix (or names the operator admits with --allow-credential-env), files only
// inside the credentials directory (--credentials-dir). Otherwise a manifest could send any
// secret of the controller's environment or file system to the endpoint it names.
// The values never reach a log, a status or an error.
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { VkError } from '../core/errors.ts';
import type { Hypervisor } from '../api/types.ts';
import type { Credentials } from '../core/provider.ts';

export class CredentialsError extends VkError {
  override readonly code = 'VK_CREDENTIALS';
  override readonly kind = 'auth';
}

export type CredentialsResolver = (hv: Hypervisor) => Promise<Credentials>;

/** Environment variables a manifest may name start with this (`env: PVE` reads VIRTKEEPER_PVE_TOKEN…). */
export const CREDENTIAL_ENV_PREFIX = 'VIRTKEEPER_';
export const DEFAULT_CREDENTIALS_DIR = '/etc/virtkeeper/credentials';

export interface DirectoryCredentialsOptions {
  /** The only folder `credentialsRef.file` may read from (relative names are taken inside it). */
  credentialsDir?: string;
  /** Names read as they are, without the VIRTKEEPER_ prefix: the operator's choice, never a manifest's. */
  allowEnv?: readonly string[];
}

export function fromRecord(r: Record<string, unknown>, where: string): Credentials {
  if (typeof r.token === 'string' && r.token) return { token: r.token };
  if (typeof r.username === 'string' && r.username && typeof r.password === 'string' && r.password) return { username: r.username, password: r.password };
  throw new CredentialsError(`${where} has neither "token" nor "username" and "password"`);
}

/** The variable prefix `env: NAME` reads: VIRTKEEPER_NAME, or NAME itself when the operator admitted it. */
export function envPrefix(name: string, allowEnv: readonly string[] = []): string {
  if (allowEnv.includes(name) || name.startsWith(CREDENTIAL_ENV_PREFIX)) return name;
  return `${CREDENTIAL_ENV_PREFIX}${name}`;
}

function fromEnv(hv: string, name: string, env: NodeJS.ProcessEnv, allowEnv: readonly string[]): Credentials {
  const p = envPrefix(name, allowEnv);
  const record = { username: env[`${p}_USERNAME`], password: env[`${p}_PASSWORD`], token: env[`${p}_TOKEN`] };
  if (record.token || (record.username && record.password)) return fromRecord(record, `environment ${p}_*`);
  // A manifest from before the prefix: say what to rename, never read the old name unasked.
  const legacy = ['TOKEN', 'USERNAME', 'PASSWORD'].map((s) => `${name}_${s}`).filter((v) => env[v] !== undefined);
  if (p !== name && legacy.length > 0) {
    throw new CredentialsError(
      `Hypervisor ${hv}: credentialsRef env ${name} reads ${p}_TOKEN (or ${p}_USERNAME and ${p}_PASSWORD); ${legacy.join(', ')} ${legacy.length > 1 ? 'are' : 'is'} set but no longer read. ` +
        `Rename ${legacy.length > 1 ? 'them' : 'it'} to ${legacy.map((v) => CREDENTIAL_ENV_PREFIX + v).join(', ')}, or start virtkeeper with --allow-credential-env ${name}`,
    );
  }
  throw new CredentialsError(`Hypervisor ${hv}: set ${p}_TOKEN, or ${p}_USERNAME and ${p}_PASSWORD, in the controller's environment`);
}

function within(dir: string, path: string): boolean {
  const r = relative(dir, path);
  return r !== '' && !r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r);
}

async function fromFile(hv: string, file: string, credentialsDir: string): Promise<Credentials> {
  const hint = `keep credentials files in ${credentialsDir}, or start virtkeeper with --credentials-dir naming their folder`;
  const dir = await realpath(credentialsDir).catch(() => undefined);
  if (!dir)
    throw new CredentialsError(
      `Hypervisor ${hv}: the credentials directory ${credentialsDir} does not exist; create it, or start virtkeeper with --credentials-dir naming the folder of credentials files`,
    );
  // Both the name as written and the file it resolves to (links followed) must lie inside.
  const named = resolve(credentialsDir, file);
  if (!within(resolve(credentialsDir), named)) throw new CredentialsError(`Hypervisor ${hv}: credentials file ${file} is outside the credentials directory; ${hint}`);
  let real: string;
  try {
    real = await realpath(named);
  } catch (e) {
    throw new CredentialsError(`Hypervisor ${hv}: cannot read credentials file ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}) in ${credentialsDir}`);
  }
  if (!within(dir, real)) throw new CredentialsError(`Hypervisor ${hv}: credentials file ${file} leads (through a link) outside the credentials directory; ${hint}`);
  let text: string;
  try {
    text = await readFile(real, 'utf8');
  } catch (e) {
    throw new CredentialsError(`Hypervisor ${hv}: cannot read credentials file ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CredentialsError(`Hypervisor ${hv}: credentials file ${file} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new CredentialsError(`Hypervisor ${hv}: credentials file ${file} is not a JSON object`);
  return fromRecord(parsed as Record<string, unknown>, `credentials file ${file}`);
}

export function directoryCredentials(env: NodeJS.ProcessEnv = process.env, options: DirectoryCredentialsOptions = {}): CredentialsResolver {
  const credentialsDir = options.credentialsDir ?? DEFAULT_CREDENTIALS_DIR;
  return async (hv) => {
    const ref = hv.spec.credentialsRef;
    const name = hv.metadata.name;
    if (!ref) return { none: true };
    if (ref.env) return fromEnv(name, ref.env, env, options.allowEnv ?? []);
    if (ref.file) return fromFile(name, ref.file, credentialsDir);
    throw new CredentialsError(`Hypervisor ${name}: credentialsRef names a Secret (${ref.name ?? '?'}), which needs Kubernetes mode; use env or file in directory mode`);
  };
}
