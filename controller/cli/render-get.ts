// `get` output as `kubectl get` prints it, with the CRDs' printer columns.
import { KINDS, type KindInfo, type PrinterColumn } from '../api/kinds.ts';
import type { StatusRecord } from '../status/writer.ts';

/** Evaluates the small JSONPath subset printer columns use: `.a.b`, `[?(@.k=='v')].f` and `[*].f` (values joined by commas, as kubectl prints them). */
export function evalPath(obj: unknown, path: string): unknown {
  const star = path.indexOf('[*]');
  if (star >= 0) {
    const list = evalPath(obj, path.slice(0, star));
    if (!Array.isArray(list)) return undefined;
    const values = list.map((x) => evalPath(x, path.slice(star + 3))).filter((v) => v !== undefined && v !== null);
    return values.length ? values.join(',') : undefined;
  }
  let cur: unknown = obj;
  const re = /\.([A-Za-z0-9_]+)|\[\?\(@\.([A-Za-z0-9_]+)=='([^']*)'\)\]/g;
  for (const m of path.matchAll(re)) {
    if (cur === undefined || cur === null) return undefined;
    if (m[1] !== undefined) cur = (cur as Record<string, unknown>)[m[1]];
    else if (Array.isArray(cur)) cur = cur.find((x) => (x as Record<string, unknown>)?.[m[2] ?? ''] === m[3]);
    else return undefined;
  }
  return cur;
}

export function age(fromIso: string | undefined, nowMs: number): string {
  if (!fromIso) return '<unknown>';
  const s = Math.max(0, Math.floor((nowMs - Date.parse(fromIso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function objectOf(r: StatusRecord): Record<string, unknown> {
  const created = (r.status.createdAt as string | undefined) ?? r.lastApplied?.metadata.creationTimestamp ?? r.updatedAt;
  return { ...(r.lastApplied ?? {}), metadata: { ...(r.lastApplied?.metadata ?? {}), name: r.name, namespace: r.namespace, creationTimestamp: created }, status: r.status };
}

function cell(col: PrinterColumn, obj: Record<string, unknown>, nowMs: number): string {
  const v = evalPath(obj, col.jsonPath);
  if (col.type === 'date') return age(typeof v === 'string' ? v : undefined, nowMs);
  if (v === undefined || v === null || v === '') return '<none>';
  return String(v);
}

export function renderTable(kind: KindInfo, records: readonly StatusRecord[], options: { wide: boolean; nowMs: number }): string {
  const cols = kind.columns.filter((c) => options.wide || !c.priority);
  const namespaced = kind.scope === 'Namespaced';
  const header = [...(namespaced ? ['NAMESPACE'] : []), 'NAME', ...cols.map((c) => c.name.toUpperCase())];
  const rows = records.map((r) => {
    const obj = objectOf(r);
    const row = [...(namespaced ? [r.namespace ?? 'default'] : []), r.name, ...cols.map((c) => cell(c, obj, options.nowMs))];
    return row;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3)))
      .join('')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  const held = records.filter((r) => r.problems && r.problems.length > 0);
  for (const r of held) for (const p of r.problems ?? []) out.push(`! ${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}: ${p}`);
  return out.join('\n');
}

export function kindsInOrder(): KindInfo[] {
  return Object.values(KINDS);
}
