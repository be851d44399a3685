// What the simulators share: a seeded random source (reproducible faults and jitter) and
// request counters by endpoint (for tests and benchmarks).

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class RequestCounter {
  private readonly counts = new Map<string, number>();
  count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  stats(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort());
  }
  reset(): void {
    this.counts.clear();
  }
}

/** What a simulator's command line does around the server: state file, Hypervisor manifest, run until a signal. */
export interface SimulatorSession<S> {
  load(state: S): void;
  dump(): S;
  close(): Promise<void>;
}

/** Loads a state file if it exists (a missing file is a fresh start). */
export async function loadStateFile<S>(sim: SimulatorSession<S>, path: string | undefined): Promise<void> {
  if (!path) return;
  const { readFile } = await import('node:fs/promises');
  try {
    sim.load(JSON.parse(await readFile(path, 'utf8')) as S);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * Writes a ready-to-apply Hypervisor manifest, its credentials beside it in a 0600 file named
 * relatively: virtkeeper reads credentials files only in its --credentials-dir, so the hint on
 * stderr names the folder to pass.
 */
export async function writeHypervisorManifest(path: string, options: { name: string; spec: Record<string, unknown>; credentials: { username: string; password: string } }): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  const { basename, dirname, resolve } = await import('node:path');
  const { stringify } = await import('yaml');
  const file = resolve(path);
  const cred = `${basename(file).replace(/\.ya?ml$/, '')}.credentials.json`;
  await writeFile(resolve(dirname(file), cred), JSON.stringify(options.credentials), { mode: 0o600 });
  await writeFile(file, stringify({ apiVersion: 'virtkeeper.io/v1alpha1', kind: 'Hypervisor', metadata: { name: options.name }, spec: { ...options.spec, credentialsRef: { file: cred } } }));
  process.stderr.write(`credentials in ${resolve(dirname(file), cred)}: run virtkeeper with --credentials-dir ${dirname(file)}\n`);
}

/** Runs until SIGINT/SIGTERM, then saves the state (if asked) and closes. */
export async function runUntilSignal<S>(sim: SimulatorSession<S>, statePath: string | undefined): Promise<void> {
  await new Promise<void>((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  if (statePath) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(statePath, JSON.stringify(sim.dump()));
  }
  await sim.close();
}
