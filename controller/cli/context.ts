// What every command needs: a logger on stderr, the state directory, the hypervisor pool.
import { pino, type LogFn, type Logger, type LoggerOptions } from 'pino';
import { redactSecrets } from '../core/errors.ts';
import pretty from 'pino-pretty';
import { type CredentialsResolver, directoryCredentials } from '../runtime/credentials.ts';
import { HypervisorPool } from '../runtime/hypervisors.ts';
import { defaultStateDir, StateDir } from '../status/state-dir.ts';
import { fileMemory } from '../status/provider-memory.ts';
import { join } from 'node:path';
import { loadConnector } from '../../providers/registry.ts';

export interface GlobalOptions {
  logLevel?: string;
  stateDir?: string;
  /** The only folder a Hypervisor's credentialsRef.file may read from. */
  credentialsDir?: string;
  /** Environment prefixes a credentialsRef.env may name without the VIRTKEEPER_ prefix. */
  allowCredentialEnv?: string[];
}

/** The logger's options: credentials fields censored, URLs in messages and fields shown without userinfo. */
export function logOptions(level: string): LoggerOptions {
  const redact = { paths: ['password', 'token', 'ticket', '*.password', '*.token', '*.ticket', 'credentials', '*.credentials'], censor: '***' };
  return { level, redact, hooks: { logMethod: redactLogLine }, formatters: { log: redactFields } };
}

export function makeLogger(level: string | undefined, fallback: string): Logger {
  const options = logOptions(level ?? process.env.VK_LOG_LEVEL ?? fallback);
  if (process.stderr.isTTY) return pino(options, pretty({ destination: 2, colorize: true, ignore: 'pid,hostname', sync: true }));
  return pino(options, pino.destination({ dest: 2, sync: true }));
}

// Log lines as errors are shown: a URL never with its userinfo (see redactSecrets).
function redactLogLine(this: Logger, args: Parameters<LogFn>, method: LogFn): void {
  const clean = args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a)) as Parameters<LogFn>;
  method.apply(this, clean);
}

function redactFields(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? redactSecrets(v) : v]));
}

export function stateFor(folder: string, g: GlobalOptions): StateDir {
  return new StateDir(g.stateDir ?? defaultStateDir(folder));
}

/** Directory mode's credentials: environment variables and files, within what the flags allow. */
export function credentialsFor(g: GlobalOptions): CredentialsResolver {
  return directoryCredentials(process.env, { ...(g.credentialsDir ? { credentialsDir: g.credentialsDir } : {}), allowEnv: g.allowCredentialEnv ?? [] });
}

export function hypervisorPool(
  logger: Logger,
  g: GlobalOptions,
  onChange?: (hypervisor: string, providerIDs: string[]) => void,
  /** The state directory, where providers keep what they learned between processes (`readOnly` for plan). */
  state?: { dir: string; readOnly?: boolean },
  /** `usage`: the observations feed usage gauges (`ui`; plan and apply never want them). `observeMaxAgeMs`: how long an observation serves (plan: the whole command). */
  o: { usage?: boolean; observeMaxAgeMs?: number } = {},
): HypervisorPool {
  const memory = state ? fileMemory(join(state.dir, 'provider-memory'), { readOnly: state.readOnly ?? false }) : undefined;
  return new HypervisorPool({ loadConnector, credentials: credentialsFor(g), logger, now: Date.now, ...(onChange ? { onChange } : {}), ...(memory ? { memory } : {}), ...o });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
