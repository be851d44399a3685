// Tasks as a node runs them: a UPID at once, the work done when the task finishes, and the
// outcome in `exitstatus` (`OK` or the error text).
import { PveError } from './http.ts';
import type { SimState, SimTask } from './model.ts';

const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');

export class Tasks {
  readonly all = new Map<string, SimTask>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly state: () => SimState;
  constructor(state: () => SimState) {
    this.state = state;
  }

  /**
   * Starts a task. `work` runs when it finishes; throwing a PveError makes the task fail with
   * that text. `onStart` runs at once (locks, placeholders).
   */
  start(o: {
    node: string;
    type: string;
    id: string;
    user: string;
    durationMs: number;
    work: () => void;
    log?: string[];
    until?: Promise<unknown>;
    /** Lines the task writes as it runs (a migration's progress): asked every `everyMs` with the share of its time gone. */
    progress?: { everyMs: number; line: (fraction: number) => string | undefined };
    /** Lines the task writes when its work succeeded, before `TASK OK`. */
    done?: (tookMs: number) => string[];
  }): string {
    const s = this.state();
    const now = Date.now();
    const pid = s.nextPid++;
    const upid = `UPID:${o.node}:${hex8(pid)}:${hex8(pid * 7919)}:${hex8(Math.floor(now / 1000))}:${o.type}:${o.id}:${o.user}:`;
    const task: SimTask = { upid, node: o.node, type: o.type, id: o.id, user: o.user, starttime: Math.floor(now / 1000), endsAt: now + o.durationMs, status: 'running', log: [...(o.log ?? [])] };
    this.all.set(upid, task);
    if (o.progress && o.durationMs > 0) {
      const { everyMs, line } = o.progress;
      const t = setInterval(() => {
        if (task.status !== 'running') {
          clearInterval(t);
          this.timers.delete(t);
          return;
        }
        const text = line(Math.min(1, (Date.now() - now) / o.durationMs));
        if (text) task.log.push(text);
      }, everyMs);
      this.timers.add(t);
    }
    const finish = () => {
      try {
        o.work();
        task.log.push(...(o.done?.(Date.now() - now) ?? []));
        task.exitstatus = 'OK';
        task.log.push('TASK OK');
      } catch (e) {
        task.exitstatus = e instanceof PveError ? e.message : String(e);
        task.log.push(`TASK ERROR: ${task.exitstatus}`);
      }
      task.status = 'stopped';
    };
    if (o.until) {
      // Work the task really waits for (a download): it ends when that does, and no sooner.
      const started = Date.now();
      void o.until
        .then(
          () => undefined,
          (e: unknown) => e,
        )
        .then((err) => {
          const rest = Math.max(0, o.durationMs - (Date.now() - started));
          const t = setTimeout(() => {
            this.timers.delete(t);
            if (err === undefined) finish();
            else {
              task.exitstatus = err instanceof PveError ? err.message : String((err as Error).message ?? err);
              task.log.push(`TASK ERROR: ${task.exitstatus}`);
              task.status = 'stopped';
            }
          }, rest);
          this.timers.add(t);
        });
    } else if (o.durationMs <= 0) finish();
    else {
      const t = setTimeout(() => {
        this.timers.delete(t);
        finish();
      }, o.durationMs);
      this.timers.add(t);
    }
    return upid;
  }

  /** Whether a config task is still running on this guest (its config file is locked). */
  busy(vmid: number): boolean {
    for (const t of this.all.values()) if (t.status === 'running' && t.type === 'qmconfig' && t.id === String(vmid)) return true;
    return false;
  }

  get(upid: string): SimTask | undefined {
    return this.all.get(upid);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t); // clears intervals as well
    this.timers.clear();
  }
}
