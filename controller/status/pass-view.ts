// One converge pass (`apply`, `plan`) reads the state directory once: the records the folder
// read listed answer the reconcilers' reads, and a key read once (a VMTemplate or network
// that 10,000 VMs name but nobody declared) is not asked of the disk again. Only for the
// pass: a long-running `run` reads through, as records may change between its passes.
import type { StatusRecord, StatusStore } from './writer.ts';

export class PassStatusView implements StatusStore {
  private readonly inner: StatusStore;
  /** Key → what this pass knows of it (undefined: known to be absent). */
  private readonly known = new Map<string, Promise<StatusRecord | undefined>>();
  /** The state directory read through, when there is one (the removal ledger sits there). */
  readonly dir: string | undefined;

  constructor(inner: StatusStore) {
    this.inner = inner;
    const dir = (inner as { dir?: unknown }).dir;
    this.dir = typeof dir === 'string' ? dir : undefined;
  }

  /**
   * What a read of the folder listed: the pass starts again from it. A key it did not list
   * (no file, or one that could not be parsed) is read from the store, so an unreadable
   * record still fails as it did and is never taken for "none".
   */
  reset(records: readonly StatusRecord[]): void {
    this.known.clear();
    for (const r of records) this.known.set(r.key, Promise.resolve(r));
  }

  read(key: string): Promise<StatusRecord | undefined> {
    let r = this.known.get(key);
    if (!r) {
      r = this.inner.read(key);
      this.known.set(key, r);
      // A failed read is not remembered: the next one asks again.
      const mine = r;
      r.catch(() => {
        if (this.known.get(key) === mine) this.known.delete(key);
      });
    }
    return r;
  }

  async list(): Promise<StatusRecord[]> {
    const records = await this.inner.list();
    this.reset(records);
    return records;
  }

  async write(record: StatusRecord): Promise<void> {
    this.known.delete(record.key);
    await this.inner.write(record);
    this.known.set(record.key, Promise.resolve(record));
  }

  async remove(key: string): Promise<void> {
    this.known.delete(key);
    await this.inner.remove(key);
    this.known.set(key, Promise.resolve(undefined));
  }
}
