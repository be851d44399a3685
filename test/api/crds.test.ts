import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { crdFiles } from '../../controller/api/crd-yaml.ts';

const root = join(import.meta.dirname, '..', '..');

type Node = Record<string, unknown>;

/** The apiextensions v1 structural-schema rules that matter for our schemas. */
function structuralViolations(node: Node, path: string, out: string[]): string[] {
  if (node['x-kubernetes-preserve-unknown-fields'] !== true && node['x-kubernetes-int-or-string'] !== true && typeof node.type !== 'string') out.push(`${path}: no type`);
  if (node.properties && node.additionalProperties !== undefined) out.push(`${path}: properties and additionalProperties together`);
  for (const banned of ['const', '$id', '$schema', 'patternProperties', 'anyOf', 'oneOf']) if (banned in node) out.push(`${path}: ${banned} not allowed here`);
  if (typeof node.exclusiveMinimum === 'number') out.push(`${path}: exclusiveMinimum must be a boolean in OpenAPI v3.0`);
  for (const [k, v] of Object.entries((node.properties as Record<string, Node> | undefined) ?? {})) structuralViolations(v, `${path}.${k}`, out);
  if (node.items) structuralViolations(node.items as Node, `${path}[]`, out);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') structuralViolations(node.additionalProperties as Node, `${path}{}`, out);
  return out;
}

describe('CRDs', () => {
  it.each(crdFiles())('crds/$file matches the schemas (run `npm run gen:crds` after a schema change)', ({ file, text }) => {
    expect(readFileSync(join(root, 'crds', file), 'utf8')).toBe(text);
  });

  it.each(crdFiles())('$file is structural, with status subresource, short names and the virtkeeper category', ({ text }) => {
    const crd = parse(text) as {
      spec: { names: { shortNames: string[]; categories: string[] }; versions: { subresources: Node; additionalPrinterColumns: unknown[]; schema: { openAPIV3Schema: Node } }[] };
    };
    const v = crd.spec.versions[0];
    expect(v?.subresources).toEqual({ status: {} });
    expect(crd.spec.names.shortNames.length).toBeGreaterThan(0);
    expect(crd.spec.names.categories).toContain('virtkeeper');
    expect(v?.additionalPrinterColumns.length).toBeGreaterThan(0);
    expect(structuralViolations(v?.schema.openAPIV3Schema ?? {}, 'openAPIV3Schema', [])).toEqual([]);
  });
});
