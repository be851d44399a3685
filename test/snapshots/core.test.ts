import { describe, expect, it } from 'vitest';
import { checkSchedule } from '../../controller/api/snapshot-checks.ts';
import type { ObservedVM } from '../../controller/core/model.ts';
import { busyReason } from '../../controller/runtime/reconcilers/snapshot-kit.ts';
import type { VirtualMachineSnapshotSchedule } from '../../controller/api/types.ts';
import { remainingSteps, restoreSteps, type RestoreInput } from '../../controller/core/restore.ts';
import { periodOf, retain } from '../../controller/core/retention.ts';
import { decideRun } from '../../controller/core/schedule-clock.ts';
import { parseScheduledTime, scheduledSnapshotName, SNAPSHOT_NAME_MAX, snapshotName } from '../../controller/core/snapshot-name.ts';

const T = (iso: string) => Date.parse(iso);

describe('snapshot names', () => {
  it.each([
    ['before-upgrade', 'vk-before-upgrade'],
    ['a.b', 'vk-a-b'],
    ['x'.repeat(60), undefined],
  ])('%s → %s', (name, want) => {
    const got = snapshotName(name);
    expect(got.length).toBeLessThanOrEqual(SNAPSHOT_NAME_MAX);
    expect(got).toMatch(/^[A-Za-z][A-Za-z0-9_-]*$/);
    if (want) expect(got).toBe(want);
  });
  it('two long names that share their start stay apart', () => {
    expect(snapshotName(`${'x'.repeat(50)}-a`)).not.toBe(snapshotName(`${'x'.repeat(50)}-b`));
  });
  it.each([
    ['nightly', '2026-12-01T02:00:00Z', 'vks-nightly-20261201-0200'],
    ['a-very-long-schedule-name-for-the-database-tier', '2026-12-01T23:59:00Z', undefined],
  ])('schedule %s at %s carries its time and reads back', (sched, at, want) => {
    const name = scheduledSnapshotName(sched, T(at));
    expect(name.length).toBeLessThanOrEqual(SNAPSHOT_NAME_MAX);
    expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_-]*$/);
    if (want) expect(name).toBe(want);
    expect(parseScheduledTime(name)).toBe(T(at));
  });
  it('a name no schedule made has no time', () => {
    expect(parseScheduledTime('vk-before-upgrade')).toBeUndefined();
    expect(parseScheduledTime('manual-20261201-0200')).toBeUndefined();
  });
});

describe('retention', () => {
  const every = (start: string, stepMs: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: `s${i}`, time: T(start) + i * stepMs }));
  const H = 3_600_000;
  it.each([
    { what: 'last 2 of 5', items: every('2026-12-01T00:00:00Z', 60_000, 5), keep: { last: 2 }, kept: ['s4', 's3'] },
    { what: 'last 0 keeps nothing', items: every('2026-12-01T00:00:00Z', 60_000, 3), keep: { last: 0 }, kept: [] },
    { what: 'hourly 2 of every 20 minutes: the newest of each of the last two hours', items: every('2026-12-01T00:00:00Z', 20 * 60_000, 9), keep: { hourly: 2 }, kept: ['s8', 's5'] },
    { what: 'daily 3 over 4 days of 6-hourly', items: every('2026-12-01T00:00:00Z', 6 * H, 16), keep: { daily: 3 }, kept: ['s15', 's11', 's7'] },
    { what: 'last 1 + daily 2 is the union', items: every('2026-12-01T00:00:00Z', 12 * H, 4), keep: { last: 1, daily: 2 }, kept: ['s3', 's1'] },
    {
      what: 'weekly 2 over three ISO weeks',
      items: [
        { id: 'mon1', time: T('2026-11-23T10:00:00Z') },
        { id: 'sun1', time: T('2026-11-29T10:00:00Z') },
        { id: 'mon2', time: T('2026-11-30T10:00:00Z') },
        { id: 'tue2', time: T('2026-12-01T10:00:00Z') },
      ],
      keep: { weekly: 2 },
      kept: ['tue2', 'sun1'],
    },
  ])('$what', ({ items, keep, kept }) => {
    const r = retain(items, keep);
    expect(r.keep).toEqual(kept);
    expect([...r.keep, ...r.prune].sort()).toEqual(items.map((i) => i.id).sort());
  });
  it('days are counted in the time zone: 23:30 UTC is the next day in Berlin', () => {
    expect(periodOf(T('2026-12-01T23:30:00Z'), 'daily', 'UTC')).toBe('2026-12-1');
    expect(periodOf(T('2026-12-01T23:30:00Z'), 'daily', 'Europe/Berlin')).toBe('2026-12-2');
  });
});

describe('schedule clock', () => {
  const base = { schedule: '* * * * *' };
  it.each([
    { what: 'first sight: nothing due, waits for the next minute', now: '2026-12-01T10:05:30Z', next: undefined, due: undefined, missed: 0, nextAt: '2026-12-01T10:06:00Z' },
    { what: 'before the awaited run: nothing due', now: '2026-12-01T10:05:59Z', next: '2026-12-01T10:06:00Z', due: undefined, missed: 0, nextAt: '2026-12-01T10:06:00Z' },
    { what: 'at the awaited run: due', now: '2026-12-01T10:06:00Z', next: '2026-12-01T10:06:00Z', due: '2026-12-01T10:06:00Z', missed: 0, nextAt: '2026-12-01T10:07:00Z' },
    { what: 'after an hour down: only the latest run, 60 let go', now: '2026-12-01T11:06:10Z', next: '2026-12-01T10:06:00Z', due: '2026-12-01T11:06:00Z', missed: 60, nextAt: '2026-12-01T11:07:00Z' },
  ])('$what', ({ now, next, due, missed, nextAt }) => {
    const d = decideRun({ ...base, now: T(now), ...(next ? { nextRunMs: T(next) } : {}) });
    expect(d.dueMs).toBe(due ? T(due) : undefined);
    expect(d.missed).toBe(missed);
    expect(d.nextMs).toBe(T(nextAt));
  });
  it('a time zone moves the run: 02:00 in Berlin is 01:00 UTC in winter', () => {
    const d = decideRun({ schedule: '0 2 * * *', timeZone: 'Europe/Berlin', now: T('2026-12-01T00:00:00Z') });
    expect(d.nextMs).toBe(T('2026-12-01T01:00:00Z'));
  });
});

describe('schedule checks', () => {
  const sched = (spec: Partial<VirtualMachineSnapshotSchedule['spec']>): VirtualMachineSnapshotSchedule => ({
    apiVersion: 'virtkeeper.io/v1alpha1',
    kind: 'VirtualMachineSnapshotSchedule',
    metadata: { name: 's' },
    spec: { vms: ['a'], schedule: '0 2 * * *', keep: { last: 2 }, ...spec },
  });
  it.each([
    { what: 'fine', spec: {}, problems: [] },
    { what: 'a broken cron', spec: { schedule: 'every night' }, problems: ['/spec/schedule'] },
    { what: 'an unknown zone', spec: { timeZone: 'Mars/Olympus' }, problems: ['/spec/timeZone'] },
    { what: 'both selector and vms', spec: { selector: { matchLabels: { a: 'b' } } }, problems: ['/spec'] },
  ])('$what', ({ spec, problems }) => {
    expect(checkSchedule(sched(spec)).map((p) => p.path)).toEqual(problems);
  });
});

describe('restore steps', () => {
  const base: RestoreInput = { vm: 'web', snapshot: 'vk-s', power: 'running', runStrategy: 'Always', updatePolicy: 'RestartAllowed', revertNeedsStop: true };
  it.each([
    { what: 'running, needs stop, Always', i: {}, steps: ['stop', 'revert', 'start'] },
    { what: 'running, needs stop, Halted', i: { runStrategy: 'Halted' }, steps: ['stop', 'revert'] },
    { what: 'running, Manual: started again as it was', i: { runStrategy: 'Manual' }, steps: ['stop', 'revert', 'start'] },
    { what: 'stopped, Manual: stays stopped', i: { runStrategy: 'Manual', power: 'stopped' }, steps: ['revert'] },
    { what: 'stopped, Always: started after', i: { power: 'stopped' }, steps: ['revert', 'start'] },
    { what: 'running, no stop needed, Live is fine', i: { revertNeedsStop: false, updatePolicy: 'Live' }, steps: ['revert', 'start'] },
    { what: 'stopped under Live is fine', i: { power: 'stopped', updatePolicy: 'Live' }, steps: ['revert', 'start'] },
  ] as { what: string; i: Partial<RestoreInput>; steps: string[] }[])('$what', ({ i, steps }) => {
    const p = restoreSteps({ ...base, ...i });
    expect(p.refusal).toBeUndefined();
    expect(p.steps).toEqual(steps);
  });
  it('running under Live where a revert needs a stop: refused, saying what to change', () => {
    const p = restoreSteps({ ...base, updatePolicy: 'Live' });
    expect(p.steps).toEqual([]);
    expect(p.refusal?.code).toBe('VK_REFUSED_RESTORE_LIVE');
    expect(p.refusal?.message).toMatch(/updatePolicy: RestartAllowed/);
  });
  it('an interrupted restore resumes after the steps done', () => {
    expect(remainingSteps(['stop', 'revert', 'start'], ['stop', 'revert'])).toEqual(['start']);
  });
});

describe('why a schedule skips a VM', () => {
  const vm = (extra: Partial<ObservedVM>): ObservedVM => ({
    providerID: 'x',
    name: 'db',
    power: 'running',
    cpu: { sockets: 1, cores: 1, threads: 1 },
    memoryBytes: 1,
    disks: [],
    nics: [],
    isTemplate: false,
    ipAddresses: [],
    pendingRestart: false,
    ...extra,
  });
  it.each([
    [{}, undefined],
    [{ migration: { from: 'pve1', to: 'pve2', progress: 10 } }, 'VM db is migrating (pve1 → pve2)'],
    [{ busy: 'snapshot' }, 'VM db is locked (snapshot)'],
    [{ busy: 'image_locked' }, 'VM db is locked (image_locked)'],
  ] as [Partial<ObservedVM>, string | undefined][])('%o → %s', (extra, why) => expect(busyReason(vm(extra))).toBe(why));
});
