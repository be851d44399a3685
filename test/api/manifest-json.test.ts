// The JSON fast path reads what yaml reads, or declines: values and start lines equal to
// yaml's for every file it takes, and problems that still name the field's line.
import { LineCounter, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { jsonDocuments } from '../../controller/api/manifest-json.ts';
import { parseManifestText } from '../../controller/api/manifest.ts';
import { formatProblem, loadTexts } from '../../controller/sources/load-folder.ts';

/** What yaml itself makes of a text: each document's value and start line, or its errors. */
function viaYaml(text: string) {
  const lines = new LineCounter();
  return parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true }).map((d) => ({ line: lines.linePos(d.range[0]).line, errors: d.errors.length, value: d.toJS() as unknown }));
}

const vm = (name: string) => ({ apiVersion: 'virtkeeper.io/v1alpha1', kind: 'VirtualMachine', metadata: { name }, spec: { hypervisor: 'pve', memory: '2Gi', cpu: { cores: 2 } } });
const one = JSON.stringify(vm('a'));
const pretty = JSON.stringify(vm('b'), null, 2);

// Files the fast path must take (and read as yaml does).
const taken: [string, string][] = [
  ['one document', one],
  ['one per line, trailing newline', `${one}\n---\n${one}\n`],
  ['leading marker', `---\n${one}\n---\n${pretty}\n`],
  ['blank lines', `\n\n${one}\n---\n\n  ${pretty}\n\n`],
  ['escapes, unicode, numbers', '{"a":"x\\"y\\\\z\\u0041\\n","b":[1,-0,1.5e3,1e400,null,true],"c":{"é":"ü"},"d":""}'],
  ['colons inside strings', '{"a":"b:c","d":{"e:f":":"}}'],
  ['a long key', `{"${'k'.repeat(2000)}":1}`],
  ['the key on one line, its value on the next', '{"a":\n1}'],
];

// Files it must decline (yaml reads them, or reports them, its own way).
const declined: [string, string][] = [
  ['block style', 'kind: VirtualMachine\nmetadata:\n  name: a\n'],
  ['a duplicate key', '{"a":1,"a":2}'],
  ['a duplicate key by escape', '{"a":1,"\\u0061":2}'],
  ['a duplicate nested key', '{"a":{"b":1,"b":2}}'],
  ['a comment', `# fleet\n${one}`],
  ['a tab', `{\t"a":1}`],
  ['CRLF', `${one}\r\n---\r\n${one}\r\n`],
  ['a BOM', `\ufeff${one}`],
  ['a marker with content', `--- ${one}\n`],
  ['a document end marker', `${one}\n...\n`],
  ['a top-level array', '[1,2]'],
  ['a top-level scalar', '"a"'],
  ['invalid JSON', '{"a":1,}'],
  ['flow YAML that is not JSON', '{a: 1}'],
  ['a __proto__ key', '{"__proto__":{"x":1}}'],
  ['one JSON document and one block', `${one}\n---\nkind: X\n`],
  ['only markers', '---\n---\n'],
  // yaml reads these as a null document, which validation reports.
  ['an empty document', `${one}\n---\n\n---\n${one}`],
  ['a marker at the very end', `${one}\n---\n`],
];

describe('JSON manifests (manifest-json.ts)', () => {
  it.each(taken)('takes %s, with the values and lines yaml gives', (_what, text) => {
    const fast = jsonDocuments(text);
    expect(fast, 'declined').toBeDefined();
    const yaml = viaYaml(text);
    expect(yaml.every((d) => d.errors === 0)).toBe(true);
    expect(fast?.map((d) => ({ line: d.line, errors: 0, value: d.value }))).toEqual(yaml);
  });

  it.each(declined)('declines %s', (_what, text) => expect(jsonDocuments(text)).toBeUndefined());

  it('reports a duplicate key as yaml does, with its line', () => {
    const r = parseManifestText('dup.yaml', `${one}\n---\n{"apiVersion":"virtkeeper.io/v1alpha1",\n"kind":"VirtualMachine","kind":"VirtualMachine"}\n`);
    expect(r.documents).toHaveLength(1);
    expect(r.problems.map((p) => `${p.line}: ${p.message}`)).toEqual([expect.stringMatching(/^4: YAML syntax: Map keys must be unique/)]);
  });

  it("names a field's line in a pretty-printed JSON document", () => {
    const bad = JSON.stringify({ ...vm('bad'), spec: { ...vm('bad').spec, memory: 'lots' } }, null, 2);
    const text = `${one}\n---\n${bad}\n`;
    expect(jsonDocuments(text)).toHaveLength(2);
    const load = loadTexts(new Map([['fleet.yaml', text]]));
    const memoryLine = text.split('\n').findIndex((l) => l.includes('"lots"')) + 1;
    expect(load.problems.map(formatProblem).filter((l) => l.includes('/bad '))).toEqual([expect.stringMatching(new RegExp(`^fleet\\.yaml:${memoryLine}: VirtualMachine default/bad spec\\.memory`))]);
  });
});
