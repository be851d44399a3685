// What a long-running reader of a folder (`run -f`) keeps of each file between reads: the
// parse and per-document validation of its text, keyed by a digest of that text. A read of a
// folder where one file changed parses and validates that file only; checks across files
// (names, consistency with what was applied, set members) still run over all. What a cached
// file hands out is frozen and the same object each read (so the store sees it unchanged without
// comparing), and no YAML tree is kept: a line number asked of a cached file (for a problem)
// parses its text again.
import { createHash } from 'node:crypto';
import { parseManifestText, type LoadedDocument, type ManifestProblem } from '../api/manifest.ts';
import { validateDocuments, type ValidResource } from '../api/validate.ts';

/** One file's documents, parsed and validated on their own. */
export interface FileLoad {
  resources: ValidResource[];
  problems: ManifestProblem[];
}

interface Entry {
  digest: string;
  resources: { id: ValidResource['id']; key: string; value: unknown; line: number }[];
  problems: ManifestProblem[];
}

/** Parses and validates one file's text: what loadTexts does per file, without a cache. */
export function loadFileText(file: string, text: string): FileLoad {
  const parsed = parseManifestText(file, text);
  const validated = validateDocuments(parsed.documents);
  return { resources: validated.resources, problems: [...parsed.problems, ...validated.problems] };
}

export class FileCache {
  private entries = new Map<string, Entry>();
  private seen = new Set<string>();
  hits = 0;
  misses = 0;

  load(file: string, text: string): FileLoad {
    this.seen.add(file);
    const digest = createHash('sha1').update(text).digest('base64');
    const hit = this.entries.get(file);
    if (hit && hit.digest === digest) {
      this.hits++;
      const parse = lazyParse(file, text);
      return {
        resources: hit.resources.map((r) => ({ id: r.id, key: r.key, resource: r.value as ValidResource['resource'], source: lazySource(file, r.line, parse) })),
        problems: hit.problems,
      };
    }
    this.misses++;
    const fresh = loadFileText(file, text);
    this.entries.set(file, {
      digest,
      resources: fresh.resources.map((r) => ({ id: r.id, key: r.key, value: deepFreeze(structuredClone(r.resource)), line: r.source.line })),
      problems: fresh.problems,
    });
    return fresh;
  }

  /** Ends a read: files not loaded in it are forgotten (gone, or unreadable now). */
  sweep(): void {
    for (const f of this.entries.keys()) if (!this.seen.has(f)) this.entries.delete(f);
    this.seen = new Set();
  }
}

/** A file's documents by start line, parsed again once, when a line is first asked of one of them. */
function lazyParse(file: string, text: string): () => Map<number, LoadedDocument> {
  let docs: Map<number, LoadedDocument> | undefined;
  return () => (docs ??= new Map(parseManifestText(file, text).documents.map((d) => [d.source.line, d])));
}

function lazySource(file: string, line: number, parse: () => Map<number, LoadedDocument>): LoadedDocument['source'] {
  return { file, line, lineOf: (path) => parse().get(line)?.source.lineOf(path) ?? line };
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
