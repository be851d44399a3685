// The directory-mode instance: one per state directory (by default, per folder path), stable
// across runs, checked when given.
import { describe, expect, it } from 'vitest';
import { directoryInstance } from '../../controller/cli/instance.ts';
import { defaultStateDir } from '../../controller/status/state-dir.ts';

describe('directoryInstance', () => {
  it('is stable for a folder, differs between folders, and follows an explicit state directory', () => {
    const a = directoryInstance(undefined, defaultStateDir('/srv/vms-a'));
    expect(a).toMatch(/^d-[0-9a-f]{10}$/);
    expect(directoryInstance(undefined, defaultStateDir('/srv/vms-a'))).toBe(a);
    expect(directoryInstance(undefined, defaultStateDir('/srv/vms-b'))).not.toBe(a);
    expect(directoryInstance(undefined, '/var/lib/vk')).toBe(directoryInstance(undefined, '/var/lib/vk/'));
  });
  it.each(['a b', 'x/y', 'w@z', '', '-lead'])('refuses --instance %j', (bad) => {
    expect(() => directoryInstance(bad, '/var/lib/vk')).toThrow(/--instance/);
  });
  it('takes a valid --instance as given', () => {
    expect(directoryInstance('prod-eu.1', '/var/lib/vk')).toBe('prod-eu.1');
  });
});
