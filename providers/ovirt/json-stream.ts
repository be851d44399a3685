// A collection answer read as it arrives: `{"vm": [{…}, {…}]}` is cut into its items at the
// byte level (quotes, escapes, brackets: ASCII, never inside a UTF-8 sequence) and each item is
// parsed and handed on alone, so a list of 10,000 VMs is never held as one text and one tree.
// What no reader uses is dropped from each item (`link`, `actions`, `href`: half a VM's bytes).
import type { Json } from './json.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;

/** Keys no reader of a representation looks at, dropped at every depth. */
const UNREAD = new Set(['link', 'actions', 'href']);

/** A copy without the unread keys: rebuilding is cheaper than `delete`, which also leaves slow objects. */
function slim(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(slim);
  if (v && typeof v === 'object') {
    const o: Json = {};
    for (const k in v) if (!UNREAD.has(k)) o[k] = slim((v as Json)[k]);
    return o;
  }
  return v;
}

/** How many backslashes stand right before `pos`, not looking before `from`. */
function backslashesBefore(chunk: Buffer, pos: number, from: number): number {
  let n = 0;
  while (pos - n - 1 >= from && chunk[pos - n - 1] === BACKSLASH) n++;
  return n;
}

/**
 * Feeds bytes of a collection answer and calls `item` with each item of its top-level
 * collection array, parsed and slimmed. `end` says whether the text was a collection at all
 * (an empty collection, `{}`, is one).
 */
export class CollectionSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Bytes of the item under way, from chunks before the current one. */
  private pending: Buffer[] = [];
  private inItem = false;
  /** Whether the array at depth 2 is the top-level object's value (`{"vm": [`). */
  private inArray = false;
  private sawObject = false;
  private readonly item: (x: Json) => void;
  count = 0;

  constructor(item: (x: Json) => void) {
    this.item = item;
  }

  push(chunk: Buffer): void {
    let start = this.inItem ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          continue;
        }
        // Straight to the closing quote (most bytes of a representation are in strings): the
        // first one not escaped by an odd run of backslashes.
        let q = chunk.indexOf(QUOTE, i);
        while (q >= 0 && backslashesBefore(chunk, q, i) % 2 === 1) q = chunk.indexOf(QUOTE, q + 1);
        if (q < 0) {
          this.escaped = backslashesBefore(chunk, chunk.length, i) % 2 === 1;
          break;
        }
        this.inString = false;
        i = q;
        continue;
      }
      if (b === QUOTE) this.inString = true;
      else if (b === OPEN_OBJ || b === OPEN_ARR) {
        this.depth++;
        if (this.depth === 1 && b === OPEN_OBJ) this.sawObject = true;
        else if (this.depth === 2) this.inArray = b === OPEN_ARR;
        else if (this.depth === 3 && this.inArray && b === OPEN_OBJ) {
          this.inItem = true;
          start = i;
        }
      } else if (b === CLOSE_OBJ || b === CLOSE_ARR) {
        if (this.depth === 3 && this.inItem) {
          this.emit(chunk.subarray(start, i + 1));
          this.inItem = false;
          start = -1;
        }
        this.depth--;
      }
    }
    if (this.inItem) this.pending.push(chunk.subarray(start));
  }

  private emit(last: Buffer): void {
    const bytes = this.pending.length ? Buffer.concat([...this.pending, last]) : last;
    this.pending = [];
    this.count++;
    this.item(slim(JSON.parse(bytes.toString('utf8'))) as Json);
  }

  /** Whether what was fed was a whole JSON object (the collection, or an empty one). */
  get complete(): boolean {
    return this.sawObject && this.depth === 0 && !this.inString;
  }
}
