// Waiting for Proxmox tasks: one `GET /nodes/{node}/tasks?source=all&since=…` per node per
// tick answers every task in flight there (a finished task's row carries its exit text in
// `status`; a running one has none), instead of a status poll per task. A task the list does
// not show (a busy node's newest-N window) is read alone with `/tasks/{upid}/status`.
import { ProviderTransientError } from '../../controller/core/errors.ts';
import type { Progress } from '../../controller/core/provider.ts';
import { BatchPoller } from '../kit/batch-poller.ts';
import { classifyProxmox } from './errors.ts';

type Get = <T>(path: string, params?: Record<string, string | number>) => Promise<T>;

interface TaskRow {
  upid: string;
  type?: string;
  /** The exit text once stopped (`OK`, `WARNINGS: 2`, the error); absent while running. */
  status?: string;
}

interface TaskState {
  running: boolean;
  exit?: string;
  type?: string;
}

/** The UPID's node and start time (`UPID:<node>:<pid>:<pstart>:<starttime hex>:…`). */
export function parseUpid(upid: string): { node: string; starttime: number } {
  const parts = upid.split(':');
  return { node: parts[1] ?? '', starttime: Number.parseInt(parts[4] ?? '0', 16) || 0 };
}

export class TaskWaiter {
  private readonly poller: BatchPoller<TaskState>;
  /** How long tasks of each type took here lately (ms, smoothed): a new one is first looked at then. */
  private readonly typical = new Map<string, number>();

  constructor(o: { get: Get; minMs?: number; maxMs?: number }) {
    this.poller = new BatchPoller<TaskState>({
      list: async (node, upids) => {
        const since = Math.min(...upids.map((u) => parseUpid(u).starttime));
        const rows = await o.get<TaskRow[]>(`/nodes/${node}/tasks`, { source: 'all', since, limit: Math.max(50, upids.length * 4) });
        return new Map(rows.map((r) => [r.upid, { running: r.status === undefined || r.status === 'RUNNING', ...(r.status ? { exit: r.status } : {}), ...(r.type ? { type: r.type } : {}) }]));
      },
      single: async (node, upid) => {
        const st = await o.get<{ status: string; exitstatus?: string; type?: string }>(`/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`);
        return { running: st.status !== 'stopped', ...(st.exitstatus ? { exit: st.exitstatus } : {}), ...(st.type ? { type: st.type } : {}) };
      },
      done: (s) => !s.running,
      // A task is a worker the node forks: none is over within 50 ms, so no look comes sooner.
      minMs: o.minMs ?? 50,
      maxMs: o.maxMs ?? 1000,
    });
  }

  async wait(upid: string, o: { onProgress?: (p: Progress) => void; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    const { node } = parseUpid(upid);
    const type = upid.split(':')[5] || 'task';
    const started = Date.now();
    const expect = this.typical.get(type);
    let missed = false;
    const st = await this.poller.wait(node, upid, {
      // First looked at when its kind lately took: most are seen done at that one look.
      ...(expect !== undefined ? { expectMs: expect } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs, onTimeout: () => new ProviderTransientError(`task ${upid} still running after ${o.timeoutMs} ms`) } : {}),
      onTick: () => {
        missed = true;
        o.onProgress?.({ message: `${type} running` });
      },
    });
    const took = Date.now() - started;
    // Seen done at the first look, the next of its kind is looked at a little sooner (so the
    // typical time drifts down to the real one rather than up with each look's lateness); seen
    // running first, what it took is the new typical time.
    this.typical.set(type, expect === undefined || missed ? took : Math.min(took, expect) * 0.95);
    const exit = st.exit ?? '';
    if (exit === 'OK' || exit.startsWith('WARNINGS')) {
      o.onProgress?.({ percent: 100, message: `${st.type ?? type} OK` });
      return;
    }
    throw classifyProxmox(500, exit || 'task failed');
  }

  /** Reads made (task lists and single status reads), for tests. */
  get reads(): number {
    return this.poller.reads;
  }
}
