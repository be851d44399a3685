// `virtkeeper convert FILE`: JSON requests or a request spreadsheet → manifests.
import { readFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { convertRows, type ConvertProblem, type RequestRow } from './request.ts';
import { readXlsx } from './xlsx.ts';

export async function convertRequestFile(path: string, options: { columnMap?: Record<string, string> } = {}): Promise<{ documents: object[]; problems: ConvertProblem[] }> {
  if (/\.xlsx$/i.test(path)) return convertRows(await readXlsx(path, options.columnMap));
  const parsed = JSON.parse(await readFile(path, 'utf8')) as RequestRow | RequestRow[];
  return convertRows(Array.isArray(parsed) ? parsed : [parsed]);
}

export async function runConvert(file: string, options: { output: 'yaml' | 'json'; columnMap?: Record<string, string> }): Promise<{ text: string; problems: string[] }> {
  const { documents, problems } = await convertRequestFile(file, options.columnMap ? { columnMap: options.columnMap } : {});
  const text = options.output === 'json' ? `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: documents }, null, 2)}\n` : documents.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
  return { text, problems: problems.map((p) => `${file}: row ${p.row}${p.column ? `, ${p.column}` : ''}: ${p.message}`) };
}
