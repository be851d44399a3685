// Loads a folder of manifests: every *.yaml / *.yml below it, several documents per file.
// Each file is parsed and validated on its own, so one broken file never hides the others;
// the files that failed are reported, so their resources can be held as they were.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { checkConsistency, type ConsistencyOptions } from '../api/consistency.ts';
import { parseManifestText, type LoadedDocument, type ManifestProblem } from '../api/manifest.ts';
import { validateDocuments, type ValidResource } from '../api/validate.ts';
import { checkMembers } from '../core/vmset.ts';

export interface FolderLoad {
  resources: ValidResource[];
  problems: ManifestProblem[];
  /** Files (relative) that had at least one problem: their resources are not to be trusted. */
  brokenFiles: Set<string>;
  files: string[];
}

async function listYaml(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listYaml(p)));
    else if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(p);
  }
  return out.sort();
}

/** Parses and validates the given texts (relative file name → content). Pure apart from nothing: testable without a disk. */
export function loadTexts(texts: ReadonlyMap<string, string>, options: ConsistencyOptions = {}): FolderLoad {
  const docs: LoadedDocument[] = [];
  const problems: ManifestProblem[] = [];
  for (const [file, text] of texts) {
    const parsed = parseManifestText(file, text);
    docs.push(...parsed.documents);
    problems.push(...parsed.problems);
  }
  const validated = validateDocuments(docs);
  problems.push(...validated.problems);
  const consistent = checkConsistency(validated.resources, options);
  problems.push(...consistent.problems);
  const members = checkMembers(consistent.accepted);
  problems.push(...members.problems);
  problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { resources: members.accepted, problems, brokenFiles: new Set(problems.map((p) => p.file)), files: [...texts.keys()] };
}

export async function loadFolder(dir: string, options: ConsistencyOptions = {}): Promise<FolderLoad> {
  const files = await listYaml(dir);
  const texts = new Map<string, string>();
  for (const f of files) {
    const buf = await readFile(f);
    texts.set(relative(dir, f) || f, buf.toString('utf8'));
  }
  return loadTexts(texts, options);
}

export function formatProblem(p: ManifestProblem): string {
  const where = `${p.file}:${p.line}`;
  const what = [p.resource, p.path].filter(Boolean).join(' ');
  return `${where}: ${what ? `${what}: ` : ''}${p.message}`;
}
