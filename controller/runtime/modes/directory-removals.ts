// Directory mode's side of removals: what a read of the folder says is gone, and the gate that
// decides. `apply`, `plan` and `run` all read the folder through here, so the guard, the grace
// and the ledger (in the state directory, so one `apply` after another counts) are one thing.
import { join } from 'node:path';
import type { StatusRecord } from '../../status/writer.ts';
import { fileLedger, memoryLedger, RemovalGate, type LedgerState, type RemovalLedger, type RemovalPolicy, type SourceView } from '../removals.ts';
import type { DesiredStore } from '../../sources/store.ts';

/** What one read of the folder shows: records whose resource is gone (and whose file could be read). */
export function folderView(records: readonly StatusRecord[], store: DesiredStore): SourceView {
  const applied = records.filter((r): r is StatusRecord & { lastApplied: NonNullable<StatusRecord['lastApplied']> } => !!r.lastApplied);
  const absent = applied.filter((r) => !store.get(r.key) && !(r.source && store.isBroken(r.source.file)));
  return {
    absent: absent.map((r) => ({ key: r.key, resource: r.lastApplied })),
    present: store.keys(),
    managed: applied.map((r) => ({ key: r.key, resource: r.lastApplied })),
  };
}

/** A ledger that reads but never writes: `plan` changes nothing, not even the grace's count. */
function readOnly(inner: RemovalLedger): RemovalLedger {
  let state: LedgerState | undefined;
  return {
    load: async () => {
      state ??= await inner.load();
      return structuredClone(state);
    },
    save: async (s) => {
      state = structuredClone(s);
    },
  };
}

export interface DirectoryGateOptions {
  /** The state directory (the ledger lives there); none keeps it in memory. */
  stateDir?: string;
  policy?: Partial<RemovalPolicy>;
  dryRun?: boolean;
  now: () => number;
}

export function directoryGate(o: DirectoryGateOptions): RemovalGate {
  // Not a .json file: the state directory's records are those.
  const file = o.stateDir ? fileLedger(join(o.stateDir, 'removals.ledger')) : memoryLedger();
  return new RemovalGate({ now: o.now, ledger: o.dryRun ? readOnly(file) : file, ...(o.policy ? { policy: o.policy } : {}) });
}
