// When a snapshot schedule runs, from its cron expression (croner), the time of the next run it
// was waiting for, and now. Pure: `now` is passed in. After downtime it catches up at most one
// missed run (the latest), and counts the ones it let go.
import { Cron } from 'croner';

export interface ScheduleInput {
  schedule: string;
  timeZone?: string;
  /** The run it was waiting for (status.nextRunTime); none on the first pass. */
  nextRunMs?: number;
  now: number;
}

export interface ScheduleDecision {
  /** The scheduled time of the run to make now, if one is due. */
  dueMs?: number;
  /** Due runs let go: all but the latest, after downtime. */
  missed: number;
  /** The run to wait for next (none: the expression has no more runs). */
  nextMs?: number;
}

/** Beyond this many missed runs the count stops (a year of a per-minute schedule is not walked). */
const MISSED_CAP = 10_000;

function cron(i: Pick<ScheduleInput, 'schedule' | 'timeZone'>): Cron {
  return new Cron(i.schedule, { paused: true, ...(i.timeZone ? { timezone: i.timeZone } : {}) });
}

export function decideRun(i: ScheduleInput): ScheduleDecision {
  const c = cron(i);
  const next = c.nextRun(new Date(i.now))?.getTime();
  const after = next !== undefined ? { nextMs: next } : {};
  // First sight: the schedule starts from now; nothing is due for the time before it existed.
  if (i.nextRunMs === undefined || i.now < i.nextRunMs) return { missed: 0, ...(i.nextRunMs !== undefined ? { nextMs: i.nextRunMs } : after) };
  // Due runs from the awaited one up to now; the latest is made, the rest are counted.
  let missed = 0;
  let due = i.nextRunMs;
  for (let t = c.nextRun(new Date(i.nextRunMs))?.getTime(); t !== undefined && t <= i.now && missed < MISSED_CAP; t = c.nextRun(new Date(t))?.getTime()) {
    missed++;
    due = t;
  }
  return { dueMs: due, missed, ...after };
}
