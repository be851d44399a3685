// VirtualDisk volume names: one per (namespace, name), within what Proxmox, oVirt and libvirt accept.
import { describe, expect, it } from 'vitest';
import { diskVolumeName } from '../../controller/core/disk-name.ts';

describe('diskVolumeName', () => {
  it('gives x-y/a and x/y-a two names (the old scheme gave both vkdisk-x-y-a)', () => {
    expect(diskVolumeName('x-y', 'a')).not.toBe(diskVolumeName('x', 'y-a'));
    expect(diskVolumeName('x-y', 'a')).toMatch(/^vkdisk-x-y-a-[0-9a-f]{10}$/);
  });

  it('is stable: the same resource always finds the same volume', () => {
    expect(diskVolumeName('default', 'data')).toBe(diskVolumeName('default', 'data'));
  });

  it.each([
    ['default', 'data'],
    ['a'.repeat(63), `${'b'.repeat(200)}.example.com`],
    ['team-1', 'db.data-2'],
  ])('%s/%s: only [a-z0-9-], at most 58 characters, no double dash before the hash', (ns, name) => {
    const n = diskVolumeName(ns, name);
    expect(n).toMatch(/^vkdisk-[a-z0-9-]+-[0-9a-f]{10}$/);
    expect(n.length).toBeLessThanOrEqual(58);
    expect(n).not.toMatch(/--[0-9a-f]{10}$/);
  });

  it('long names that share the readable part still differ', () => {
    const long = 'c'.repeat(60);
    expect(diskVolumeName('ns', `${long}-1`)).not.toBe(diskVolumeName('ns', `${long}-2`));
  });
});
