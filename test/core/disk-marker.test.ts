// A VirtualDisk's marker names its resource exactly: kind, namespace, name and (when it has one) UID.
import { describe, expect, it } from 'vitest';
import { diskMarkerVerdict, formatDiskOwner, parseDiskOwner, parseDiskOwnerText } from '../../providers/disk-marker.ts';

const d = (uid?: string) => ({ owner: { kind: 'VirtualDisk', namespace: 'x-y', name: 'a' }, ...(uid ? { uid } : {}) });

describe('disk markers', () => {
  it('writes kind/namespace/name and the UID, and reads them back', () => {
    expect(formatDiskOwner(d('u-1'))).toBe('virtkeeper.io/owner=VirtualDisk/x-y/a uid=u-1');
    expect(parseDiskOwner(`made by hand\n${formatDiskOwner(d('u-1'))}`)).toEqual({ owner: { kind: 'VirtualDisk', namespace: 'x-y', name: 'a' }, uid: 'u-1' });
    expect(parseDiskOwnerText('VirtualDisk/x-y/a')).toEqual({ owner: { kind: 'VirtualDisk', namespace: 'x-y', name: 'a' } });
    expect(parseDiskOwnerText('VirtualDisk/a')).toBeUndefined();
  });

  it.each([
    ['the same resource', 'VirtualDisk/x-y/a uid=u-1', 'u-1', 'this'],
    ['a marker main wrote (no UID), resource in Kubernetes', 'VirtualDisk/x-y/a', 'u-1', 'upgrade'],
    ['directory mode: no UID on either side', 'VirtualDisk/x-y/a', undefined, 'this'],
    ['the old namesake x/y-a', 'VirtualDisk/x/y-a', 'u-1', 'other'],
    ['same path, another UID (made again)', 'VirtualDisk/x-y/a uid=u-0', 'u-1', 'other'],
    ['another kind', 'VirtualMachine/x-y/a', undefined, 'other'],
  ] as const)('%s → %s', (_n, text, uid, verdict) => {
    expect(diskMarkerVerdict(parseDiskOwnerText(text), d(uid))).toBe(verdict);
  });

  it.each([
    ['this controller instance', 'VirtualDisk/x-y/a@i-1', 'this'],
    ['another controller instance', 'VirtualDisk/x-y/a@i-2', 'other'],
    ['a marker from before instances: ours, upgraded', 'VirtualDisk/x-y/a', 'upgrade'],
  ] as const)('instances: %s → %s', (_n, text, verdict) => {
    const mine = { owner: { kind: 'VirtualDisk', namespace: 'x-y', name: 'a', instance: 'i-1' } };
    expect(diskMarkerVerdict(parseDiskOwnerText(text), mine)).toBe(verdict);
    expect(formatDiskOwner(mine)).toBe('virtkeeper.io/owner=VirtualDisk/x-y/a@i-1');
  });

  it('no marker at all is never this resource', () => {
    expect(diskMarkerVerdict(parseDiskOwner('hand-made disk'), d())).toBe('other');
  });
});
