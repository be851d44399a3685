// The HTTP surface every endpoint shares: the `{data}` envelope, errors with the message in
// the reason phrase (and `message`), parameter verification with an `errors` object, and a
// tiny router with `{param}` path segments.
export class PveError extends Error {
  readonly status: number;
  readonly errors: Record<string, string> | undefined;
  constructor(status: number, message: string, errors?: Record<string, string>) {
    super(message);
    this.status = status;
    this.errors = errors;
  }
}

export const paramError = (errors: Record<string, string>) => new PveError(400, 'Parameter verification failed.', errors);

export type Params = Record<string, string>;

export interface RequestContext {
  method: string;
  path: Record<string, string>;
  params: Params;
  user: string;
}

/** A parameter's check: a regex, or a function returning an error text. */
export type Check = RegExp | ((v: string) => string | undefined);

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  pattern: string;
  /** Allowed parameters; `*` suffix allows a numbered family (`net*` → net0, net1…). */
  params?: Record<string, Check>;
  required?: string[];
  handler: (ctx: RequestContext) => unknown;
}

export const BOOL = /^(0|1|true|false|yes|no|on|off)$/;
export const INT = /^-?\d+$/;
export const NAME = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;
export const ANY = /^[\s\S]*$/;

/** An integer with the schema's minimum, refused with the texts a node sends. */
export const intMin =
  (min: number): Check =>
  (v) => {
    if (!/^-?\d+$/.test(v)) return `type check ('integer') failed - got '${v}'`;
    return Number(v) < min ? `value must have a minimum value of ${min}` : undefined;
  };

export function compile(route: Route): { re: RegExp; keys: string[] } {
  const keys: string[] = [];
  const re = new RegExp(
    `^${route.pattern.replace(/\{(\w+)\}/g, (_, k: string) => {
      keys.push(k);
      return '([^/]+)';
    })}$`,
  );
  return { re, keys };
}

export function checkParams(route: Route, params: Params): void {
  const errors: Record<string, string> = {};
  const allowed = route.params ?? {};
  for (const [k, v] of Object.entries(params)) {
    const check = allowed[k] ?? Object.entries(allowed).find(([name]) => name.endsWith('*') && k.startsWith(name.slice(0, -1)) && /^\d+$/.test(k.slice(name.length - 1)))?.[1];
    if (!check) {
      errors[k] = 'property is not defined in schema and the schema does not allow additional properties';
      continue;
    }
    const problem = check instanceof RegExp ? (check.test(v) ? undefined : `value '${v}' does not have a valid format`) : check(v);
    if (problem) errors[k] = problem;
  }
  for (const r of route.required ?? []) if (params[r] === undefined) errors[r] = 'property is missing and it is not optional';
  if (Object.keys(errors).length > 0) throw paramError(errors);
}

export const truthy = (v: string | undefined) => v === '1' || v === 'true' || v === 'yes' || v === 'on';
