// The collection splitter the oVirt client reads lists with: every item comes out as JSON.parse
// would have it (without links, action lists and hrefs), however the bytes are cut into chunks.
import { describe, expect, it } from 'vitest';
import type { Json } from '../../providers/ovirt/client.ts';
import { CollectionSplitter } from '../../providers/ovirt/json-stream.ts';

const items = [
  { id: '1', href: '/ovirt-engine/api/vms/1', name: 'web "quoted" {braces} [brackets]', memory: '1073741824', link: [{ rel: 'nics', href: '/x' }], actions: { link: [{ rel: 'start', href: '/y' }] } },
  { id: '2', name: 'back\\slash\\', comment: 'virtkeeper.io/owner=VirtualMachine/ns/ä-é-日本 ✓', nics: { nic: [{ name: 'nic1', mac: { address: '56:6f:00:00:00:01' }, href: '/z' }] } },
  { id: '3', name: 'esc \\" still inside', disk_attachments: { disk_attachment: [] }, empty: {}, list: [[1, 2], [{ a: '}' }]] },
];
const text = JSON.stringify({ vm: items });
const expected = items.map((x) => JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'link' || k === 'actions' || k === 'href' ? undefined : v))) as Json);

function split(bytes: Buffer, cuts: number[]): { got: Json[]; complete: boolean } {
  const got: Json[] = [];
  const s = new CollectionSplitter((x) => got.push(x));
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    s.push(bytes.subarray(at, c));
    at = c;
  }
  return { got, complete: s.complete };
}

describe('CollectionSplitter', () => {
  const bytes = Buffer.from(text, 'utf8');

  it('hands on each item, parsed, without link, actions and href', () => {
    expect(split(bytes, [])).toEqual({ got: expected, complete: true });
  });

  it('gives the same items wherever the chunks are cut (in strings, escapes, multibyte characters)', () => {
    for (let cut = 1; cut < bytes.length; cut++) expect(split(bytes, [cut]).got, `cut at ${cut}`).toEqual(expected);
    // Every byte a chunk of its own.
    expect(
      split(
        bytes,
        Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
      ).got,
    ).toEqual(expected);
  });

  it('takes an empty collection as one, and a cut-off body as not whole', () => {
    expect(split(Buffer.from('{}'), [])).toEqual({ got: [], complete: true });
    const cut = split(bytes.subarray(0, bytes.length - 20), []);
    expect(cut.complete).toBe(false);
    expect(cut.got).toEqual(expected.slice(0, 2));
  });
});
