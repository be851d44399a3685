// Checks of the snapshot kinds that JSON Schema cannot express: the cron expression and the
// time zone (parsed by croner, as the schedule runs them), and selector or vms, not both.
import { Cron } from 'croner';
import type { VirtualMachineSnapshotSchedule } from './snapshots.ts';

export interface FieldProblem {
  path: string;
  message: string;
}

/** Why a cron expression or time zone cannot be used, or undefined. */
export function cronProblem(schedule: string, timeZone: string | undefined): FieldProblem | undefined {
  try {
    new Cron(schedule, { paused: true, ...(timeZone ? { timezone: timeZone } : {}) }).nextRun(new Date(0));
    return undefined;
  } catch (e) {
    const text = (e as Error).message;
    if (/timezone/i.test(text) && timeZone) return { path: '/spec/timeZone', message: `unknown time zone ${JSON.stringify(timeZone)}: expected an IANA name such as Europe/Berlin or UTC` };
    return { path: '/spec/schedule', message: `not a cron expression (${text.replace(/^CronPattern: /, '')}); expected e.g. "0 2 * * *" or "*/15 * * * *"` };
  }
}

export function checkSchedule(r: VirtualMachineSnapshotSchedule): FieldProblem[] {
  const out: FieldProblem[] = [];
  const s = r.spec;
  if (!s.selector === !s.vms) out.push({ path: '/spec', message: 'expected exactly one of selector (labels) or vms (names)' });
  const cron = cronProblem(s.schedule, s.timeZone);
  if (cron) out.push(cron);
  return out;
}
