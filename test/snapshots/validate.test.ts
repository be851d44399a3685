// The snapshot kinds through directory validation: every problem names file:line, the resource
// and the field, and says what was expected.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem, loadFolder, type FolderLoad } from '../../controller/sources/load-folder.ts';

const doc = (kind: string, name: string, spec: string) => `apiVersion: virtkeeper.io/v1alpha1\nkind: ${kind}\nmetadata: {name: ${name}}\nspec:\n${spec}`;

describe('validation of the snapshot kinds', () => {
  let dir: string;
  let load: FolderLoad;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vk-snap-validate-'));
    const files: Record<string, string> = {
      'cron.yaml': doc('VirtualMachineSnapshotSchedule', 'bad-cron', '  vms: [db]\n  schedule: every night\n  keep: {last: 2}\n'),
      'zone.yaml': doc('VirtualMachineSnapshotSchedule', 'bad-zone', '  vms: [db]\n  schedule: "0 2 * * *"\n  timeZone: Mars/Olympus\n  keep: {daily: 7}\n'),
      'both.yaml': doc('VirtualMachineSnapshotSchedule', 'both', '  vms: [db]\n  selector: {matchLabels: {tier: db}}\n  schedule: "0 2 * * *"\n  keep: {last: 1}\n'),
      'nokeep.yaml': doc('VirtualMachineSnapshotSchedule', 'nokeep', '  vms: [db]\n  schedule: "0 2 * * *"\n  keep: {}\n'),
      'field.yaml': doc('VirtualMachineSnapshot', 'field', '  vm: db\n  colour: red\n'),
      'restore.yaml': doc('VirtualMachineRestore', 'undo', '  vm: db\n'),
      'good.yaml': `${doc('VirtualMachineSnapshotSchedule', 'nightly', '  selector: {matchLabels: {tier: db}}\n  schedule: "0 2 * * *"\n  timeZone: Europe/Berlin\n  keep: {daily: 7, weekly: 4}\n')}---\n${doc('VirtualMachineSnapshot', 'before', '  vm: db\n  memory: true\n')}---\n${doc('VirtualMachineRestore', 'back', '  vm: db\n  snapshot: vks-nightly-20261201-0100\n')}`,
    };
    for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
    load = await loadFolder(dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['cron.yaml', /^cron\.yaml:6: VirtualMachineSnapshotSchedule default\/bad-cron spec\.schedule: not a cron expression .*expected e\.g\. "0 2 \* \* \*"/],
    ['zone.yaml', /^zone\.yaml:7: VirtualMachineSnapshotSchedule default\/bad-zone spec\.timeZone: unknown time zone "Mars\/Olympus": expected an IANA name/],
    ['both.yaml', /^both\.yaml:\d+: VirtualMachineSnapshotSchedule default\/both spec: expected exactly one of selector \(labels\) or vms \(names\)/],
    ['nokeep.yaml', /^nokeep\.yaml:7: VirtualMachineSnapshotSchedule default\/nokeep spec\.keep: /],
    ['field.yaml', /^field\.yaml:6: VirtualMachineSnapshot default\/field spec\.colour: unknown field "colour"/],
    ['restore.yaml', /^restore\.yaml:\d+: VirtualMachineRestore default\/undo spec: missing required field "snapshot"/],
  ])('%s gets one clear line', (file, pattern) => {
    const lines = load.problems.filter((p) => p.file === file).map(formatProblem);
    expect(
      lines.some((l) => pattern.test(l)),
      lines.join('\n'),
    ).toBe(true);
  });

  it('the good ones are accepted', () => {
    expect(load.resources.map((r) => r.key).sort()).toEqual(['VirtualMachineRestore/default/back', 'VirtualMachineSnapshot/default/before', 'VirtualMachineSnapshotSchedule/default/nightly']);
  });
});
