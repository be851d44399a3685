// What a route of the simulator's HTTP surface gets and answers, and the table routes register
// in. A route is keyed by its collection (`vms`: the list, an entity, and what no subroute took)
// or by collection and subcollection (`vms/nics`, `hosts/deactivate`); it answers undefined to
// leave the request to the route registered before it under the same key, then to the
// collection's route.
import type { IncomingMessage } from 'node:http';
import type { Engine } from '../engine.ts';
import { notFound } from '../faults.ts';
import type { EngineState } from '../model.ts';
import type { Tree } from '../representation.ts';
import type { ParsedSearch, SearchRecord } from '../search.ts';
import type { Follow } from '../views/common.ts';

/** Status, root element name, and the value rendered as JSON or XML. */
export type RouteResult = [number, string, unknown];

export interface RouteContext {
  readonly engine: Engine;
  readonly state: EngineState;
  readonly method: string;
  /** The path below the API root, split: collection, id, subcollection, sub-id, action… */
  readonly seg: readonly string[];
  readonly oid: string | undefined;
  readonly sub: string | undefined;
  readonly sid: string | undefined;
  readonly q: URLSearchParams;
  readonly body: Tree;
  readonly req: IncomingMessage;
  readonly follow: Follow;
  readonly correlation: string | undefined;
  /** The request's search (`search`, `max`, `case_sensitive`) applied to a collection. */
  page<T>(collection: string, items: readonly T[], record: (x: T) => SearchRecord): T[];
  /** The request's search, parsed; undefined when it does not parse (logged as the engine does). */
  parse(collection: string): ParsedSearch | undefined;
}

export type Route = (c: RouteContext) => RouteResult | Promise<RouteResult> | undefined;
export type RouteTable = Readonly<Record<string, Route>>;

/** The routes of several tables by key, the later registered first. */
export class Routes {
  private readonly byKey = new Map<string, Route[]>();
  constructor(tables: readonly RouteTable[]) {
    for (const t of tables) for (const [k, r] of Object.entries(t)) this.byKey.set(k, [r, ...(this.byKey.get(k) ?? [])]);
  }

  /** The subcollections some route answers (`vms/nics`), which links must not answer as empty. */
  modelled(key: string): boolean {
    return key.includes('/') && this.byKey.has(key);
  }

  async dispatch(c: RouteContext): Promise<RouteResult> {
    const col = c.seg[0] ?? '';
    for (const key of c.sub ? [`${col}/${c.sub}`, col] : [col]) {
      for (const r of this.byKey.get(key) ?? []) {
        const answer = await r(c);
        if (answer) return answer;
      }
    }
    throw notFound();
  }
}

export function one<T>(items: readonly T[], pred: (x: T) => boolean): T {
  const x = items.find(pred);
  if (!x) throw notFound();
  return x;
}

/** A collection's answer: `<keys><key>…</key></keys>`, an empty root when there is nothing. */
export const coll = (key: string, items: unknown[]): RouteResult => [200, `${key}s`, items.length ? { [key]: items } : {}];

export const complete = (): RouteResult => [200, 'action', { status: 'complete' }];
