// The collection splitter the oVirt client reads lists with: every item comes out as JSON.parse
// would have it (without links, action lists and hrefs), however the bytes are cut into chunks.
import { describe, expect, it } from 'vitest';
import type { Json } from '../../providers/ovirt/client.ts';
import { CollectionSplitter } from '../../providers/ovirt/json-stream.ts';
import { jsonPieces, jsonText } from '../../providers/ovirt/simulator/representation.ts';

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

describe("the simulator's streamed lists", () => {
  it('join to the text it sends whole, and split back into the same items', () => {
    const value = { vm: Array.from({ length: 450 }, (_, i) => ({ id: String(i), memory: i * 2 ** 20, creation_time: 1_700_000_000_000 + i, stateless: i % 2 === 0, tags: [i, 'x'] })) };
    const pieces = [...jsonPieces(value)];
    expect(pieces.length).toBeGreaterThan(4);
    expect(pieces.join('')).toBe(jsonText(value));
    const got: Json[] = [];
    const s = new CollectionSplitter((x) => got.push(x));
    for (const p of pieces) s.push(Buffer.from(p));
    expect(got).toEqual(JSON.parse(jsonText(value)).vm);
    expect([...jsonPieces({ fault: { reason: 'x' } })]).toEqual([jsonText({ fault: { reason: 'x' } })]);
  });
});
