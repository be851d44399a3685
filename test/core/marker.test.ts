// The ownership marker's text form, with and without a controller instance (issue 12, item 15).
import { describe, expect, it } from 'vitest';
import { formatOwner, parseOwner, sameOwner, withMarker } from '../../controller/core/provider.ts';

const web = { kind: 'VirtualMachine', namespace: 'default', name: 'web' };

describe('ownership marker', () => {
  it.each([
    ['with an instance', { ...web, instance: 'd-1a2b3c4d5e' }, 'virtkeeper.io/owner=VirtualMachine/default/web@d-1a2b3c4d5e'],
    ['without (as main wrote it)', web, 'virtkeeper.io/owner=VirtualMachine/default/web'],
    ['cluster-scoped', { kind: 'VMTemplate', name: 'ubuntu', instance: 'k-1' }, 'virtkeeper.io/owner=VMTemplate/ubuntu@k-1'],
  ])('formats and parses back %s', (_what, owner, text) => {
    expect(formatOwner(owner)).toBe(text);
    expect(parseOwner(`first line\n${text}\nvirtkeeper.io/max-memory=1`)).toEqual(owner);
    expect(parseOwner(`${text} other comment`)).toEqual(owner);
  });

  it.each([
    ['the same instance', { ...web, instance: 'a' }, { ...web, instance: 'a' }, true],
    ['another instance', { ...web, instance: 'a' }, { ...web, instance: 'b' }, false],
    ['a marker from before instances', web, { ...web, instance: 'a' }, true],
    ['another resource', { ...web, name: 'db', instance: 'a' }, { ...web, instance: 'a' }, false],
  ])('sameOwner: %s → %s', (_what, a, b, same) => {
    expect(sameOwner(a, b)).toBe(same);
    expect(sameOwner(b, a)).toBe(same);
  });

  it.each([
    ['replaces an old marker in place', 'virtkeeper.io/owner=VirtualMachine/default/web\nvirtkeeper.io/max-memory=1', 'virtkeeper.io/owner=VirtualMachine/default/web@a\nvirtkeeper.io/max-memory=1'],
    ['puts the marker first when there is none', 'made by hand', 'virtkeeper.io/owner=VirtualMachine/default/web@a\nmade by hand'],
    ['writes just the marker on empty text', undefined, 'virtkeeper.io/owner=VirtualMachine/default/web@a'],
  ])('withMarker %s', (_what, text, out) => {
    expect(withMarker(text, { ...web, instance: 'a' })).toBe(out);
  });
});
