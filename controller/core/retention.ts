// Which of a schedule's snapshots to keep: the union of `last` (the newest N), and per
// `hourly`/`daily`/`weekly` the newest snapshot of each of the N most recent periods that have
// one (as restic's and borg's forget do). Days and weeks are counted in the schedule's time zone.
// Pure: the times are passed in.
import type { SnapshotKeep } from '../api/types.ts';

export interface Dated {
  id: string;
  /** When it was made (the run's scheduled time). */
  time: number;
}

export interface Retention {
  keep: string[];
  prune: string[];
}

type Period = 'hourly' | 'daily' | 'weekly';

function parts(ms: number, timeZone: string): { y: number; m: number; d: number; h: number } {
  const f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', hourCycle: 'h23' });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return { y: Number(p.year), m: Number(p.month), d: Number(p.day), h: Number(p.hour) };
}

/** The ISO week (`2026-W49`) of a calendar date. */
function isoWeek(y: number, m: number, d: number): string {
  const date = new Date(Date.UTC(y, m - 1, d));
  const day = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - day);
  const start = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - start) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${week}`;
}

export function periodOf(ms: number, period: Period, timeZone = 'UTC'): string {
  const p = parts(ms, timeZone);
  if (period === 'hourly') return `${p.y}-${p.m}-${p.d}T${p.h}`;
  if (period === 'daily') return `${p.y}-${p.m}-${p.d}`;
  return isoWeek(p.y, p.m, p.d);
}

export function retain(items: readonly Dated[], keep: SnapshotKeep, timeZone = 'UTC'): Retention {
  const newest = [...items].sort((a, b) => b.time - a.time || b.id.localeCompare(a.id));
  const kept = new Set<string>(newest.slice(0, keep.last ?? 0).map((s) => s.id));
  for (const period of ['hourly', 'daily', 'weekly'] as const) {
    const n = keep[period] ?? 0;
    const seen = new Set<string>();
    for (const s of newest) {
      if (seen.size >= n) break;
      const p = periodOf(s.time, period, timeZone);
      if (seen.has(p)) continue;
      seen.add(p);
      kept.add(s.id);
    }
  }
  return { keep: newest.filter((s) => kept.has(s.id)).map((s) => s.id), prune: newest.filter((s) => !kept.has(s.id)).map((s) => s.id) };
}
