// What every command needs: a logger on stderr, the state directory, the hypervisor pool.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { directoryCredentials } from '../runtime/credentials.ts';
import { HypervisorPool } from '../runtime/hypervisors.ts';
import { defaultStateDir, StateDir } from '../status/state-dir.ts';
import { loadConnector } from '../../providers/registry.ts';

export interface GlobalOptions {
  logLevel?: string;
  stateDir?: string;
}

export function makeLogger(level: string | undefined, fallback: string): Logger {
  const lvl = level ?? process.env.VK_LOG_LEVEL ?? fallback;
  const redact = { paths: ['password', 'token', 'ticket', '*.password', '*.token', '*.ticket', 'credentials', '*.credentials'], censor: '***' };
  if (process.stderr.isTTY) return pino({ level: lvl, redact }, pretty({ destination: 2, colorize: true, ignore: 'pid,hostname', sync: true }));
  return pino({ level: lvl, redact }, pino.destination({ dest: 2, sync: true }));
}

export function stateFor(folder: string, g: GlobalOptions): StateDir {
  return new StateDir(g.stateDir ?? defaultStateDir(folder));
}

export function hypervisorPool(logger: Logger, onChange?: (hypervisor: string, providerIDs: string[]) => void): HypervisorPool {
  return new HypervisorPool({ loadConnector, credentials: directoryCredentials(), logger, now: Date.now, ...(onChange ? { onChange } : {}) });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
