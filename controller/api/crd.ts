// Turns the kinds' JSON Schemas into apiextensions.k8s.io/v1 CRDs with structural
// schemas: literal unions become enums, `const`/`additionalProperties: false` (not allowed
// beside `properties`) are dropped, records become `additionalProperties` maps.
import { GROUP, VERSION } from './common.ts';
import { KINDS, KIND_NAMES, type KindInfo } from './kinds.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const DROP = new Set(['$id', '$schema', 'additionalProperties', 'patternProperties', 'const', 'minProperties', 'maxProperties', 'x-vk-expected']);

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Converts one JSON Schema node into its structural OpenAPI v3 form. */
export function toStructural(schema: unknown): JsonObject {
  if (!isObject(schema)) throw new Error('schema node is not an object');
  const branches = schema.anyOf;
  if (Array.isArray(branches) && branches.every((b) => isObject(b) && 'const' in b)) {
    const values = branches.map((b) => (b as JsonObject).const ?? null);
    const type = typeof values[0] === 'number' ? 'integer' : 'string';
    return withMeta({ type, enum: values }, schema);
  }
  // A union of shapes (`adopt: true | {prune: true}`) has no structural form: the apiserver keeps
  // the value as given and the controller's own validation (the full schema) judges it.
  if (Array.isArray(branches)) return withMeta({ 'x-kubernetes-preserve-unknown-fields': true }, schema);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROP.has(key) || value === undefined) continue;
    if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toStructural(v)]));
    } else if (key === 'items') {
      out.items = toStructural(value);
    } else if (key === 'exclusiveMinimum' && typeof value === 'number') {
      out.minimum = value;
      out.exclusiveMinimum = true;
    } else {
      out[key] = value as Json;
    }
  }
  if (isObject(schema.patternProperties)) {
    const first = Object.values(schema.patternProperties)[0];
    out.additionalProperties = toStructural(first);
  }
  return out;
}

function withMeta(base: JsonObject, schema: JsonObject): JsonObject {
  for (const key of ['description', 'default'] as const) if (schema[key] !== undefined) base[key] = schema[key];
  return base;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: JsonObject;
}

export function crdFor(info: KindInfo): CustomResourceDefinition {
  const schema = toStructural(info.schema);
  const props = schema.properties as JsonObject;
  props.metadata = { type: 'object' };
  schema.required = ['spec'];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${info.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: info.scope,
      names: { kind: info.kind, listKind: `${info.kind}List`, plural: info.plural, singular: info.singular, shortNames: info.shortNames, categories: ['virtkeeper'] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: info.columns.map((c) => ({ ...c })) as Json,
          schema: { openAPIV3Schema: schema },
        },
      ],
    },
  };
}

export function allCrds(): CustomResourceDefinition[] {
  return KIND_NAMES.map((k) => crdFor(KINDS[k]));
}
