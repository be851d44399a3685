/** `max` and `case_sensitive` as the engine reads them: a value that is not a number or a boolean is ignored. */
export function searchOptions(q: URLSearchParams): { max?: number; caseSensitive: boolean } {
  const m = q.get('max');
  const max = m !== null && /^-?\d+$/.test(m) ? Number(m) : undefined;
  const cs = q.get('case_sensitive');
  const caseSensitive = cs === null || cs === '' || !/^(false|no|0)$/i.test(cs);
  return { ...(max !== undefined ? { max } : {}), caseSensitive };
}
