// A live migration's progress on Proxmox: the `qmigrate` task's log, where QemuMigrate writes a
// line per poll of QEMU's status (`migration active, transferred 351.2 MiB of 2.0 GiB VM-state,
// 110.0 MiB/s`). Proxmox has no call that answers for many tasks' logs, so a tick reads each
// migration's log from the line it had reached (`start`), the new lines only; the node's
// active-task list finds migrations this process did not start.
import type { MigrationProgress, Target } from '../../controller/core/provider.ts';
import { MigrationFollower } from '../kit/migration-follow.ts';
import { parseUpid } from './tasks.ts';

type Get = <T>(path: string, params?: Record<string, string | number>) => Promise<T>;

const UNITS: Record<string, number> = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };
const bytes = (n: string, unit: string) => Math.round(Number(n) * (UNITS[unit] ?? 1));
const TRANSFER = /migration (\w+), transferred ([\d.]+) (B|KiB|MiB|GiB|TiB) of ([\d.]+) (B|KiB|MiB|GiB|TiB) VM-state/;
const STATUS = /migration status: (\w+)/;
const PAGE = 500;

/** What the log lines say of the migration, on top of what was known (`known`). */
export function progressFromLog(lines: readonly string[], known: MigrationProgress = {}): MigrationProgress {
  let p = { ...known };
  for (const line of lines) {
    const t = TRANSFER.exec(line);
    if (t) {
      const done = bytes(t[2] ?? '0', t[3] ?? 'B');
      const total = bytes(t[4] ?? '0', t[5] ?? 'B');
      p = { ...p, phase: t[1] ?? 'active', bytesDone: done, bytesTotal: total, ...(total > 0 ? { percent: Math.min(99, Math.floor((done * 100) / total)) } : {}) };
      continue;
    }
    const st = STATUS.exec(line);
    if (st) p = { ...p, phase: st[1] ?? 'active' };
  }
  return p;
}

interface Followed {
  next: number;
  progress: MigrationProgress;
}

export class ProxmoxMigrations {
  private readonly get: Get;
  private readonly logs = new Map<string, Followed>();
  readonly follower: MigrationFollower;

  constructor(o: { get: Get; minMs?: number; maxMs?: number }) {
    this.get = o.get;
    this.follower = new MigrationFollower({ read: (_node, upids) => this.readLogs(upids), ...(o.minMs ? { minMs: o.minMs } : {}), ...(o.maxMs ? { maxMs: o.maxMs } : {}) });
  }

  /** Each task's new log lines since the last read, and where its migration stands. */
  async readLogs(upids: readonly string[]): Promise<Map<string, MigrationProgress>> {
    const out = new Map<string, MigrationProgress>();
    await Promise.all(
      upids.map(async (upid) => {
        const { node, starttime } = parseUpid(upid);
        const had = this.logs.get(upid) ?? { next: 0, progress: { phase: 'setup', startedAt: new Date(starttime * 1000).toISOString() } };
        // A page at a time until the end: a long migration logs a line a second.
        const rows: { n: number; t: string }[] = [];
        for (;;) {
          const page = await this.get<{ n: number; t: string }[]>(`/nodes/${node}/tasks/${encodeURIComponent(upid)}/log`, { start: had.next + rows.length, limit: PAGE });
          rows.push(...page);
          if (page.length < PAGE) break;
        }
        const now = {
          next: had.next + rows.length,
          progress: progressFromLog(
            rows.map((r) => r.t),
            had.progress,
          ),
        };
        if (rows.some((r) => r.t.startsWith('TASK '))) this.logs.delete(upid);
        else this.logs.set(upid, now);
        out.set(upid, now.progress);
      }),
    );
    return out;
  }

  /** Forgets a task followed to its end (or abandoned). */
  forget(upid: string): void {
    this.logs.delete(upid);
  }

  /** The VMClient read: the active `qmigrate` tasks of the targets' nodes (one list per node), then their logs. */
  async of(targets: readonly Target[]): Promise<Map<string, MigrationProgress>> {
    const nodes = [...new Set(targets.flatMap((t) => (t.node ? [t.node] : [])))];
    const wanted = new Map(targets.map((t) => [t.providerID.split('/')[1] ?? '', t.providerID]));
    const found = new Map<string, string>();
    await Promise.all(
      nodes.map(async (node) => {
        const rows = await this.get<{ upid: string; id?: string }[]>(`/nodes/${node}/tasks`, { source: 'active', typefilter: 'qmigrate' });
        for (const r of rows) {
          const id = wanted.get(r.id ?? '');
          if (id) found.set(r.upid, id);
        }
      }),
    );
    const logs = await this.readLogs([...found.keys()]);
    return new Map([...logs].map(([upid, p]) => [found.get(upid) ?? upid, p]));
  }
}
