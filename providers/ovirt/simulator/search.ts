// The engine's search language, as its backend (SyntaxChecker) reads `?search=`: conditions
// `field<rel>value` (a value in double quotes may hold spaces), `ref.field<rel>value` and `ref=value`
// on a related object, free text, `and`/`or` (AND binds tighter; conditions side by side are ANDed),
// `sortby field [asc|desc]` and `page N`. Strings match as SQL LIKE (`*` is the wildcard, `_` is
// literal), case-sensitive unless asked otherwise; enum fields take the engine's enum names
// (`status=imagelocked`). Pure: the fields of each collection come from the caller.

export type FieldType = 'string' | 'enum' | 'int' | 'bool' | 'id';
export interface FieldSpec {
  type: FieldType;
  /** An enum's names, upper-case, as the engine spells them (`IMAGELOCKED`). */
  values?: readonly string[];
}
export interface SearchSchema {
  /** The engine's name of the search object, as its log shows it (`VMs`). */
  object: string;
  fields: Readonly<Record<string, FieldSpec>>;
  /** Related objects a condition may name (`host=…`, `cluster.name=…`). */
  refs?: Readonly<Record<string, SearchSchema>>;
  /** The field the engine sorts by when the search does not say. */
  defaultSort?: string;
}

export type Rel = '=' | '!=' | '<' | '>' | '<=' | '>=';
export type Expr = { kind: 'cond'; ref?: string; field?: string; rel: Rel; value: string } | { kind: 'and' | 'or'; left: Expr; right: Expr };
export interface ParsedSearch {
  where?: Expr;
  sort?: { field: string; desc: boolean };
  page?: number;
}

/** The engine's names for what it cannot parse (its `SyntaxError` enum); `INVALID` is an incomplete search. */
export type SearchErrorCode =
  | 'INVALID_CHARECTER'
  | 'INVALID_CONDITION_RELATION'
  | 'INVALID_CONDITION_VALUE'
  | 'INVALID_SORT_FIELD'
  | 'INVALID_SORT_DIRECTION'
  | 'NOTHING_COMES_AFTER_PAGE_VALUE'
  | 'INVALID_PAGE_FEILD'
  | 'INVALID_POST_OR_AND_PHRASE'
  | 'INVALID_POST_CROSS_REF_OBJ'
  | 'INVALID_CONDITION_FILED'
  | 'INVALID';

export class SearchSyntaxError extends Error {
  readonly code: SearchErrorCode;
  readonly start: number;
  readonly end: number;
  constructor(code: SearchErrorCode, start: number, end: number) {
    super(code);
    this.code = code;
    this.start = start;
    this.end = end;
  }
}

export interface Token {
  kind: 'word' | 'rel' | 'value';
  text: string;
  start: number;
  end: number;
  quoted?: boolean;
}

const RELS: readonly Rel[] = ['!=', '<=', '>=', '=', '<', '>'];

/** Splits a search into words, relations and the values after them; a quoted value keeps its spaces. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  // The engine's disallowed characters; a trailing escape character it refuses as well.
  const bad = text.search(/[';]/);
  if (bad >= 0) throw new SearchSyntaxError('INVALID_CHARECTER', bad, bad + 1);
  if (text.endsWith('\\')) throw new SearchSyntaxError('INVALID', text.length - 1, text.length);
  const quoted = (from: number, kind: Token['kind']) => {
    const close = text.indexOf('"', from + 1);
    if (close < 0) throw new SearchSyntaxError('INVALID', from, text.length);
    out.push({ kind, text: text.slice(from + 1, close), start: from, end: close + 1, quoted: true });
    return close + 1;
  };
  while (i < text.length) {
    if (text[i] === ' ' || text[i] === '\t') {
      i++;
      continue;
    }
    if (text[i] === '"') {
      i = quoted(i, 'word');
      continue;
    }
    // A run up to the next space; a relation inside it splits it into word, relation, value.
    let j = i;
    while (j < text.length && !' \t"'.includes(text[j] ?? '') && !RELS.some((r) => text.startsWith(r, j))) j++;
    if (j > i) out.push({ kind: 'word', text: text.slice(i, j), start: i, end: j });
    const rel = RELS.find((r) => text.startsWith(r, j));
    if (!rel) {
      i = j;
      continue;
    }
    out.push({ kind: 'rel', text: rel, start: j, end: j + rel.length });
    i = j + rel.length;
    if (text[i] === '"') {
      i = quoted(i, 'value');
      continue;
    }
    let k = i;
    while (k < text.length && text[k] !== ' ' && text[k] !== '\t') k++;
    if (text.slice(i, k).includes('"')) throw new SearchSyntaxError('INVALID_CONDITION_VALUE', i, k);
    if (k > i) out.push({ kind: 'value', text: text.slice(i, k), start: i, end: k });
    i = k;
  }
  return out;
}

/** A related object by its name, singular or plural (`host`, `hosts`). */
function refKey(schema: SearchSchema, head: string): string | undefined {
  if (schema.refs?.[head]) return head;
  if (head.endsWith('S') && schema.refs?.[head.slice(0, -1)]) return head.slice(0, -1);
  return undefined;
}

const NUMERIC_RELS: readonly Rel[] = RELS;
const EQUALITY_RELS: readonly Rel[] = ['=', '!='];

function checkValue(spec: FieldSpec, rel: Rel, t: Token, relToken: Token): void {
  if (!(spec.type === 'int' ? NUMERIC_RELS : EQUALITY_RELS).includes(rel)) throw new SearchSyntaxError('INVALID_CONDITION_RELATION', relToken.start, relToken.end);
  if (spec.type === 'int' && !/^-?\d+$/.test(t.text)) throw new SearchSyntaxError('INVALID_CONDITION_VALUE', t.start, t.end);
  if (spec.type === 'enum' && !spec.values?.includes(t.text.toUpperCase())) throw new SearchSyntaxError('INVALID_CONDITION_VALUE', t.start, t.end);
}

/** Parses a search against one collection's fields; throws SearchSyntaxError where the engine's parser stops. */
export function parseSearch(text: string, schema: SearchSchema): ParsedSearch {
  const tokens = tokenize(text);
  const parts: (Expr | 'AND' | 'OR')[] = [];
  const out: ParsedSearch = {};
  let i = 0;
  const keyword = (t: Token | undefined) => (t?.kind === 'word' && !t.quoted ? t.text.toUpperCase() : undefined);
  while (i < tokens.length) {
    const t = tokens[i] as Token;
    const next = tokens[i + 1];
    const kw = keyword(t);
    if (kw === 'AND' || kw === 'OR') {
      const prev = parts[parts.length - 1];
      if (!prev || typeof prev === 'string' || i + 1 >= tokens.length) throw new SearchSyntaxError('INVALID_POST_OR_AND_PHRASE', t.start, t.end);
      parts.push(kw);
      i++;
      continue;
    }
    if (kw === 'SORTBY' && next?.kind !== 'rel') {
      if (next?.kind !== 'word') throw new SearchSyntaxError('INVALID', t.start, t.end);
      const field = next.text.toUpperCase();
      if (!schema.fields[field]) throw new SearchSyntaxError('INVALID_SORT_FIELD', next.start, next.end);
      // As the engine: after the field only a direction may come (`sortby name page 2` does not parse), then only `page`.
      const d = tokens[i + 2];
      const dir = keyword(d);
      if (d && dir !== 'ASC' && dir !== 'DESC') throw new SearchSyntaxError('INVALID_SORT_DIRECTION', d.start, d.end);
      out.sort = { field, desc: dir === 'DESC' };
      i += d ? 3 : 2;
      const after = tokens[i];
      if (after && keyword(after) !== 'PAGE') throw new SearchSyntaxError('INVALID_PAGE_FEILD', after.start, after.end);
      continue;
    }
    if (kw === 'PAGE' && next?.kind !== 'rel') {
      if (!next || !/^\d+$/.test(next.text)) throw new SearchSyntaxError('INVALID_CHARECTER', next?.start ?? t.end, next?.end ?? t.end);
      if (tokens[i + 2]) throw new SearchSyntaxError('NOTHING_COMES_AFTER_PAGE_VALUE', tokens[i + 2]?.start ?? 0, tokens[i + 2]?.end ?? 0);
      out.page = Number(next.text);
      i += 2;
      continue;
    }
    if (t.kind === 'word' && next?.kind === 'rel') {
      const value = tokens[i + 2];
      if (value?.kind !== 'value') throw new SearchSyntaxError('INVALID', next.start, next.end);
      const rel = next.text as Rel;
      const [head = '', tail] = t.text.toUpperCase().split('.', 2);
      const refName = refKey(schema, head);
      const ref = refName ? schema.refs?.[refName] : undefined;
      if (tail !== undefined) {
        if (!ref || !refName) throw new SearchSyntaxError('INVALID', t.start, t.end);
        const spec = ref.fields[tail];
        if (!spec) throw new SearchSyntaxError('INVALID_CONDITION_FILED', t.start, t.end);
        checkValue(spec, rel, value, next);
        parts.push({ kind: 'cond', ref: refName, field: tail, rel, value: value.text });
      } else if (schema.fields[head]) {
        checkValue(schema.fields[head] as FieldSpec, rel, value, next);
        parts.push({ kind: 'cond', field: head, rel, value: value.text });
      } else if (ref && refName) {
        if (!EQUALITY_RELS.includes(rel)) throw new SearchSyntaxError('INVALID_POST_CROSS_REF_OBJ', next.start, next.end);
        parts.push({ kind: 'cond', ref: refName, rel, value: value.text });
      } else {
        // Not a field here: the engine reads the whole phrase as free text.
        parts.push({ kind: 'cond', rel: '=', value: `${t.text}${rel}${value.text}` });
      }
      i += 3;
      continue;
    }
    if (t.kind === 'rel') throw new SearchSyntaxError('INVALID_CONDITION_RELATION', t.start, t.end);
    parts.push({ kind: 'cond', rel: '=', value: t.text });
    i++;
  }
  // The engine's precedence: every AND first, then every OR; what is left side by side is ANDed.
  for (const op of ['AND', 'OR'] as const) {
    for (let k = parts.indexOf(op); k >= 0; k = parts.indexOf(op)) {
      const left = parts[k - 1] as Expr;
      const right = parts[k + 1] as Expr;
      parts.splice(k - 1, 3, { kind: op === 'AND' ? 'and' : 'or', left, right });
    }
  }
  const where = (parts as Expr[]).reduce<Expr | undefined>((a, e) => (a ? { kind: 'and', left: a, right: e } : e), undefined);
  if (where) out.where = where;
  return out;
}

/** One object as the search sees it: its field values (arrays for many, like tags) and its related objects. */
export interface SearchRecord {
  field(name: string): string | number | boolean | readonly string[] | undefined;
  ref?(name: string): SearchRecord[];
}

function like(pattern: string, caseSensitive: boolean): RegExp {
  const body = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${body}$`, caseSensitive ? 's' : 'is');
}

function condition(c: Extract<Expr, { kind: 'cond' }>, r: SearchRecord, schema: SearchSchema, caseSensitive: boolean): boolean {
  if (c.ref) {
    const refSchema = schema.refs?.[c.ref];
    const related = r.ref?.(c.ref) ?? [];
    if (!refSchema) return false;
    const inner = { ...c, ref: undefined } as Extract<Expr, { kind: 'cond' }>;
    const hit = related.some((x) => condition(inner, x, refSchema, caseSensitive));
    return c.field || c.rel === '=' ? hit : !hit;
  }
  if (!c.field) {
    // Free text: any text field contains the value.
    const re = like(`*${c.value}*`, caseSensitive);
    const hit = Object.entries(schema.fields)
      .filter(([, s]) => s.type === 'string')
      .some(([f]) => values(r.field(f)).some((v) => re.test(v)));
    return c.rel === '!=' ? !hit : hit;
  }
  const spec = schema.fields[c.field] as FieldSpec;
  const have = values(r.field(c.field));
  const negate = c.rel === '!=';
  if (spec.type === 'int') {
    const want = Number(c.value);
    const test = (v: string) => {
      const n = Number(v);
      return c.rel === '=' ? n === want : c.rel === '!=' ? n !== want : c.rel === '<' ? n < want : c.rel === '>' ? n > want : c.rel === '<=' ? n <= want : n >= want;
    };
    return have.length > 0 && have.some(test);
  }
  let hit: boolean;
  if (spec.type === 'string') {
    const re = like(c.value, caseSensitive);
    hit = have.some((v) => re.test(v));
  } else {
    // Enums, booleans and ids compare whole values; the engine upper-cases enum names.
    const want = c.value.toUpperCase();
    hit = have.some((v) => v.toUpperCase() === want);
  }
  return negate ? !hit : hit;
}

function values(v: string | number | boolean | readonly string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? [...(v as readonly string[])] : [String(v)];
}

export function evaluate(e: Expr, r: SearchRecord, schema: SearchSchema, caseSensitive = true): boolean {
  if (e.kind === 'cond') return condition(e, r, schema, caseSensitive);
  const left = evaluate(e.left, r, schema, caseSensitive);
  return e.kind === 'and' ? left && evaluate(e.right, r, schema, caseSensitive) : left || evaluate(e.right, r, schema, caseSensitive);
}

/**
 * Filters, sorts and pages as the engine: sorted by the search's field or the collection's default,
 * a page is `max` long (without `max` only page 1 has anything).
 */
export function applySearch<T>(items: readonly T[], record: (x: T) => SearchRecord, schema: SearchSchema, p: ParsedSearch, o: { caseSensitive?: boolean; max?: number } = {}): T[] {
  const where = p.where;
  let out = where ? items.filter((x) => evaluate(where, record(x), schema, o.caseSensitive ?? true)) : [...items];
  const sortField = p.sort?.field ?? schema.defaultSort;
  if (sortField) {
    const key = (x: T) => values(record(x).field(sortField))[0];
    const numeric = schema.fields[sortField]?.type === 'int';
    out = out
      .map((x) => ({ x, k: key(x) }))
      .sort((a, b) => {
        if (a.k === undefined || b.k === undefined) return a.k === b.k ? 0 : a.k === undefined ? -1 : 1; // NULLS FIRST
        return numeric ? Number(a.k) - Number(b.k) : a.k.localeCompare(b.k, 'en');
      })
      .map((y) => y.x);
    if (p.sort?.desc) out.reverse();
  }
  const page = p.page ?? 1;
  if (o.max !== undefined) return out.slice((page - 1) * o.max, page * o.max);
  return page > 1 ? [] : out;
}

/** The text the engine logs for a search it cannot parse: the search with the bad part between `$`, or the error's name. */
export function engineErrorText(search: string, e: SearchSyntaxError): string {
  const length = e.end - e.start;
  if (length > 0 && e.start + 1 + length < search.length && e.end + 1 < search.length) {
    return `${search.slice(0, e.start)}$${search.slice(e.start, e.end)}$${search.slice(e.end)}`;
  }
  return e.code;
}
