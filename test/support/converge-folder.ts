// A manifests folder, its state directory, a HypervisorPool and converge options, as the
// end-to-end suites use them: the real loop over the real providers, nothing mocked.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { CredentialsResolver } from '../../controller/runtime/credentials.ts';
import type { ConvergeOptions } from '../../controller/runtime/converge.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { loadConnector } from '../../providers/registry.ts';

export interface ConvergeFolder {
  dir: string;
  pool: HypervisorPool;
  opts: ConvergeOptions;
  /** Writes `all.yaml`: the given documents after `header` (a Hypervisor, usually). */
  write(...docs: string[]): Promise<void>;
  close(): Promise<void>;
}

/** `observeMaxAgeMs`: how long an observation serves (default 0: every read lists; the CLI's is 2 s). */
export async function convergeFolder(o: {
  prefix: string;
  header: () => string;
  credentials?: CredentialsResolver;
  timeoutMs?: number;
  sleepCapMs?: number;
  observeMaxAgeMs?: number;
}): Promise<ConvergeFolder> {
  const dir = await mkdtemp(join(tmpdir(), o.prefix));
  const logger = pino({ level: 'silent' });
  const pool = new HypervisorPool({ loadConnector, credentials: o.credentials ?? (async () => ({ none: true })), logger, now: Date.now, observeMaxAgeMs: o.observeMaxAgeMs ?? 0 });
  const opts: ConvergeOptions = {
    folder: dir,
    statuses: new StateDir(`${dir}-state`),
    hypervisors: pool,
    logger,
    now: Date.now,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, o.sleepCapMs ?? 200))),
    wait: true,
    timeoutMs: o.timeoutMs ?? 60_000,
    maxDeleteShare: 1,
  };
  return {
    dir,
    pool,
    opts,
    write: (...docs) => writeFile(join(dir, 'all.yaml'), [o.header(), ...docs].join('---\n')),
    close: async () => {
      await pool.closeAll();
      await rm(dir, { recursive: true, force: true });
      await rm(`${dir}-state`, { recursive: true, force: true });
    },
  };
}
