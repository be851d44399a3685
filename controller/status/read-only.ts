// A status store that reads through and keeps writes in memory: for `plan`, which must
// leave the state directory as it found it.
import type { StatusRecord, StatusStore } from './writer.ts';

export class ReadOnlyStatusStore implements StatusStore {
  private readonly inner: StatusStore;
  private readonly overlay = new Map<string, StatusRecord | null>();
  /** The state directory read through, when there is one (the removal ledger sits there). */
  readonly dir: string | undefined;
  constructor(inner: StatusStore) {
    this.inner = inner;
    const dir = (inner as { dir?: unknown }).dir;
    this.dir = typeof dir === 'string' ? dir : undefined;
  }
  async read(key: string): Promise<StatusRecord | undefined> {
    const o = this.overlay.get(key);
    if (o === null) return undefined;
    return o ?? this.inner.read(key);
  }
  async list(): Promise<StatusRecord[]> {
    const base = (await this.inner.list()).filter((r) => !this.overlay.has(r.key));
    return [...base, ...[...this.overlay.values()].filter((r): r is StatusRecord => r !== null)];
  }
  async write(record: StatusRecord): Promise<void> {
    this.overlay.set(record.key, record);
  }
  async remove(key: string): Promise<void> {
    this.overlay.set(key, null);
  }
}
