// A status store that passes everything to another and tells each record written: tests that
// look at how a status moved (a drain's progress) rather than where it ended.
import type { StatusRecord, StatusStore } from '../../controller/status/writer.ts';

/** `inner`'s own fields (a state directory's `dir`) are kept, so converge still finds it. */
export function recordingStatuses(inner: StatusStore, onWrite: (record: StatusRecord) => void): StatusStore {
  return {
    ...inner,
    read: (k) => inner.read(k),
    list: () => inner.list(),
    remove: (k) => inner.remove(k),
    write: (rec) => {
      onWrite(rec);
      return inner.write(rec);
    },
  };
}
