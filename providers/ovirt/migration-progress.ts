// A live migration's progress on oVirt: the VM's `migration.progress` statistic (percent), which
// the engine reports for a VM being migrated away (status migrating, `MigratingFrom` in the
// search language). One search for every migrating VM with its statistics followed answers a
// tick for all migrations of the engine; the engine counts no bytes here, so none are given.
import type { MigrationProgress, Target } from '../../controller/core/provider.ts';
import { arr, type Json, type OvirtClient } from './client.ts';
import { statistics } from './usage.ts';

/** The progress in a VM's followed statistics, when it is migrating. */
export function progressOfVm(vm: Json): MigrationProgress | undefined {
  if (vm.status !== 'migrating') return undefined;
  const percent = statistics(vm).get('migration.progress');
  return { phase: 'active', ...(percent !== undefined ? { percent: Math.min(99, Math.floor(percent)) } : {}) };
}

/** What the reads use of a session (only its client: the session calls them, no cycle). */
export interface MigrationReader {
  readonly api: OvirtClient;
}

/** Every migrating VM of the engine in one search; those asked for, by id. */
export async function readMigrations(s: MigrationReader, ids: readonly string[]): Promise<Map<string, MigrationProgress>> {
  const list = await s.api.get('/vms', { search: 'status=MigratingFrom', follow: 'statistics' });
  const wanted = new Set(ids);
  const out = new Map<string, MigrationProgress>();
  for (const vm of arr(list.vm)) {
    const id = String(vm.id ?? '');
    const p = wanted.has(id) ? progressOfVm(vm) : undefined;
    if (p) out.set(id, p);
  }
  return out;
}

export const migrationsOf = (s: MigrationReader, targets: readonly Target[]) =>
  readMigrations(
    s,
    targets.map((t) => t.providerID),
  );
