// oVirt's two representations. JSON as engines send it (integers and booleans as strings,
// times as epoch-ms numbers, singular collection keys) and XML (the SDKs' language: id and
// href as attributes, `<fault>` for errors). Request bodies arrive in either.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

export type Tree = { [k: string]: unknown };

const TIME = /(^|_)time$|^time$|^date$|^exp$/;

/**
 * The JSON text of a representation, numbers and booleans as strings, times as numbers: one
 * native stringify with a replacer (a list of 10,000 VMs is not converted into a copy first).
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (k: string, v: unknown) => (typeof v === 'number' ? (TIME.test(k) ? v : String(v)) : typeof v === 'boolean' ? String(v) : v)) ?? '';
}

/**
 * A large collection's JSON text in pieces of `batch` items (`{"vm":[` … `]}`), the same text as
 * jsonText: an engine streams its lists (chunked), so a client reads the first VMs while the
 * last are rendered. Undefined for anything else (sent whole).
 */
export function* jsonPieces(value: unknown, batch = 100): Generator<string> {
  const keys = value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : [];
  const items = keys.length === 1 ? (value as Tree)[keys[0] as string] : undefined;
  if (!Array.isArray(items)) {
    yield jsonText(value);
    return;
  }
  yield `{${JSON.stringify(keys[0])}:[`;
  for (let i = 0; i < items.length; i += batch)
    yield `${i ? ',' : ''}${items
      .slice(i, i + batch)
      .map((x: unknown) => jsonText(x))
      .join(',')}`;
  yield ']}';
}

/** XML dates are xsd:dateTime, as engines send them (`2026-11-24T01:08:33.316+00:00`). */
function xmlDate(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

function attrs(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => attrs(v, key));
  if (typeof value === 'number' && TIME.test(key) && key !== 'exp') return xmlDate(value);
  if (!value || typeof value !== 'object') return value === undefined ? undefined : String(value);
  const out: Tree = {};
  const v0 = value as Tree;
  // Attributes in the engine's order: href, then id.
  for (const k of ['href', 'id', 'rel']) if (v0[k] !== undefined && typeof v0[k] !== 'object') out[`@_${k}`] = String(v0[k]);
  for (const [k, v] of Object.entries(v0)) {
    if (k === 'href' || k === 'id' || k === 'rel') continue;
    if (v === undefined) continue;
    out[k] = attrs(v, k);
  }
  return out;
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true });

export function toXml(root: string, value: unknown): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n${builder.build({ [root]: attrs(value) })}`;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, trimValues: true });

/** Parses a request body; an XML body's root element is unwrapped (`<vm>…</vm>` → {…}). */
export function parseBody(text: string, contentType: string | undefined): Tree {
  if (!text.trim()) return {};
  if (contentType?.includes('json')) return JSON.parse(text) as Tree;
  const doc = parser.parse(text) as Tree;
  const root = Object.keys(doc).find((k) => k !== '?xml');
  const inner = root ? doc[root] : {};
  return (typeof inner === 'object' && inner ? inner : {}) as Tree;
}

/** Reads a number that may come as a string. */
export const num = (v: unknown): number | undefined => (v === undefined || v === null || v === '' ? undefined : Number(v));
export const bool = (v: unknown): boolean | undefined => (v === undefined ? undefined : v === true || v === 'true');
export const obj = (v: unknown): Tree => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Tree) : {});
export const list = (v: unknown): Tree[] => (Array.isArray(v) ? (v as Tree[]) : v && typeof v === 'object' ? [v as Tree] : []);
