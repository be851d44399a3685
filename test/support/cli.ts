// Running the CLI as a user does: `node bin/virtkeeper.js --state-dir <dir> …` from the
// repository root, its exit code and both outputs, stdin closed (or given `input`).
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export interface CliTarget {
  stateDir: string;
  /** The child's environment (credentials); absent: this process's. */
  env?: NodeJS.ProcessEnv;
}

/** A runner over a state directory and environment read at each call (tests set them in beforeAll). */
export function virtkeeperCli(target: () => CliTarget): (args: string[], input?: string) => Promise<CliRun> {
  return (args, input) =>
    new Promise((resolve) => {
      const { stateDir, env } = target();
      const p = execFile(process.execPath, ['bin/virtkeeper.js', '--state-dir', stateDir, ...args], { cwd: root, ...(env ? { env } : {}) }, (e, out, err) =>
        resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
      );
      if (input !== undefined) p.stdin?.end(input);
      else p.stdin?.end();
    });
}
