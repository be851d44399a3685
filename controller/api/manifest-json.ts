// JSON is YAML 1.2: a file whose every document is one JSON object (as generators write a
// fleet) is read with JSON.parse, some fifty times faster than yaml's lexer and composer, to
// the same values and start lines. Anything else (block style, comments, anchors, tabs, CRLF,
// a duplicate key, an empty document, `--- {…}` on one line) returns undefined and goes the yaml way, which is
// always the exact one: this path may only decline, never disagree.

export interface JsonDocument {
  value: Record<string, unknown>;
  /** 1-based line where yaml starts the document: its `---` marker, else its first line. */
  line: number;
  /** Offset of the document's `{` in the text (yaml's `contents.range[0]`). */
  offset: number;
}

/** The documents of a file made only of JSON objects separated by `---` lines, or undefined. */
export function jsonDocuments(text: string): JsonDocument[] | undefined {
  // Whitespace yaml and JSON may read differently, and a key yaml keeps apart from prototypes.
  if (text.includes('\t') || text.includes('\r') || text.includes('__proto__')) return undefined;
  const out: JsonDocument[] = [];
  let chunkStart = 0;
  let markerLine: number | undefined;
  let firstLine: number | undefined;
  let lineNo = 1;
  for (let pos = 0; pos <= text.length; lineNo++) {
    const nl = text.indexOf('\n', pos);
    const end = nl === -1 ? text.length : nl;
    const isMarker = end - pos === 3 && text.startsWith('---', pos);
    if (!isMarker && firstLine === undefined && text.slice(pos, end).trim() !== '') firstLine = lineNo;
    if (isMarker || nl === -1) {
      const chunkEnd = isMarker ? pos : text.length;
      // An empty document after a marker is one to yaml (a null, which validation reports).
      if (firstLine === undefined && markerLine !== undefined) return undefined;
      if (firstLine !== undefined) {
        const doc = jsonObject(text, chunkStart, chunkEnd, markerLine ?? firstLine);
        if (!doc) return undefined;
        out.push(doc);
      }
      chunkStart = end + 1;
      markerLine = isMarker ? lineNo : undefined;
      firstLine = undefined;
    }
    if (nl === -1) break;
    pos = nl + 1;
  }
  return out.length > 0 ? out : undefined;
}

function jsonObject(text: string, start: number, end: number, line: number): JsonDocument | undefined {
  // Only JSON's own whitespace around it (tabs and CRs are out already): a BOM or a
  // no-break space is content to yaml.
  let from = start;
  let to = end;
  while (from < to && (text[from] === ' ' || text[from] === '\n')) from++;
  while (to > from && (text[to - 1] === ' ' || text[to - 1] === '\n')) to--;
  if (text[from] !== '{' || text[to - 1] !== '}') return undefined;
  const trimmed = text.slice(from, to);
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  // JSON.parse keeps the last of two equal keys where yaml (uniqueKeys) reports them: every
  // pair has one `:` outside strings, so fewer keys than colons means a duplicate.
  if (colonsOutsideStrings(trimmed) !== keysIn(value)) return undefined;
  return { value: value as Record<string, unknown>, line, offset: from };
}

function colonsOutsideStrings(s: string): number {
  let n = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: the next character is escaped
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 58) n++;
  }
  return n;
}

function keysIn(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + keysIn(x), 0);
  if (typeof v !== 'object' || v === null) return 0;
  let n = 0;
  for (const x of Object.values(v)) n += 1 + keysIn(x);
  return n;
}
