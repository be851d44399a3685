// Reads YAML manifests (several documents per file) keeping where each came from, so an
// error can name file:line, the resource and the field.
import { LineCounter, parseAllDocuments, isMap, isSeq, type Document, type Node } from 'yaml';
import { jsonDocuments } from './manifest-json.ts';

/** yaml's own alias limit per document (its default), stated so the message can name it. */
export const MAX_ALIASES = 100;

export interface SourceRef {
  file: string;
  /** 1-based line of the document start. */
  line: number;
  /** Maps a JSON pointer-like path (`/spec/disks/0/size`) to a 1-based line. */
  lineOf(path: string): number;
}

export interface LoadedDocument {
  source: SourceRef;
  value: unknown;
}

export interface ManifestProblem {
  file: string;
  line: number;
  resource?: string;
  path?: string;
  message: string;
}

export interface LoadResult {
  documents: LoadedDocument[];
  problems: ManifestProblem[];
}

/** Parses one file's text. A broken file yields problems and no documents from its broken parts. */
export function parseManifestText(file: string, text: string): LoadResult {
  const problems: ManifestProblem[] = [];
  if (text.includes('\u0000')) return { documents: [], problems: [{ file, line: 1, message: 'not a text file (binary content): expected YAML' }] };
  if (text.trim() === '') return { documents: [], problems: [{ file, line: 1, message: 'empty file: expected at least one YAML document' }] };
  const lineOf = fieldLines(text);
  const json = jsonDocuments(text);
  if (json) return { documents: json.map((d) => ({ source: { file, line: d.line, lineOf: (p) => lineOf(d.offset, p) ?? d.line }, value: d.value })), problems };
  const { docs, lines } = parseYaml(text);
  if (!Array.isArray(docs)) {
    return { documents: [], problems: [{ file, line: 1, message: 'could not parse YAML' }] };
  }
  const documents: LoadedDocument[] = [];
  for (const doc of docs) {
    const start = lines.linePos(doc.range[0]).line;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push({ file, line: lines.linePos(e.pos[0]).line, message: `YAML syntax: ${e.message.split('\n')[0]}` });
      continue;
    }
    if (doc.contents === null) continue; // `---` separators with nothing between
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (e) {
      // yaml throws past maxAliasCount (a "billion laughs" document): a problem of this file, not of the load.
      problems.push({ file, line: start, message: `YAML: ${(e as Error).message.split('\n')[0]} (at most ${MAX_ALIASES} aliases per document)` });
      continue;
    }
    const offset = doc.contents.range[0];
    documents.push({ source: { file, line: start, lineOf: (p) => lineOf(offset, p) ?? start }, value });
  }
  if (documents.length === 0 && problems.length === 0) problems.push({ file, line: 1, message: 'no YAML documents: expected at least one resource' });
  return { documents, problems };
}

function parseYaml(text: string): { docs: Document.Parsed[]; lines: LineCounter } {
  const lines = new LineCounter();
  return { docs: parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true }) as Document.Parsed[], lines };
}

/**
 * The line of a field in the document whose contents start at `offset`. Only problems ask,
 * so the file is parsed again then, once: holding every document's syntax tree until the
 * folder is validated is what made a large fleet's load take most of its memory.
 */
function fieldLines(text: string): (offset: number, path: string) => number | undefined {
  let parsed: ReturnType<typeof parseYaml> | undefined;
  return (offset, path) => {
    parsed ??= parseYaml(text);
    const { docs, lines } = parsed;
    const doc = Array.isArray(docs) ? docs.find((d) => d.contents?.range[0] === offset) : undefined;
    return doc ? lineOfPath(doc, lines, path) : undefined;
  };
}

function lineOfPath(doc: Document, lines: LineCounter, path: string): number | undefined {
  const parts = path.split('/').filter((s) => s !== '');
  let node: unknown = doc.contents;
  let best: number | undefined;
  for (const part of parts) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown } | null)?.value === part);
      if (!pair) break;
      const keyNode = pair.key as Node | null;
      if (keyNode?.range) best = lines.linePos(keyNode.range[0]).line;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(part)] as Node | undefined;
      if (!item) break;
      if (item.range) best = lines.linePos(item.range[0]).line;
      node = item;
    } else break;
  }
  return best;
}
