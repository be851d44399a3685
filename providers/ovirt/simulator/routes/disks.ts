// Disks of their own: add (floating), read, list, edit (alias, description, growth), remove.
import { num } from '../representation.ts';
import { diskRecord } from '../search-fields.ts';
import { diskView } from '../views/disk.ts';
import { coll, complete, one, type RouteContext, type RouteResult, type RouteTable } from './route.ts';

function disks(c: RouteContext): RouteResult {
  const { state: s, engine: e, oid, body } = c;
  if (!oid && c.method === 'POST') return [201, 'disk', diskView(e.newDisk(body, 'disk'), s)];
  const d = oid ? one(s.disks, (x) => x.id === oid) : undefined;
  if (d && c.method === 'PUT') {
    // As the engine (4.4+): a floating disk's alias and description may change, its size only grow.
    e.updateDisk(d, { ...(body.alias !== undefined ? { alias: String(body.alias) } : {}), ...(body.description !== undefined ? { description: String(body.description) } : {}) });
    if (body.provisioned_size !== undefined) e.growFloating(d, num(body.provisioned_size) ?? d.provisioned_size, c.correlation);
    return [200, 'disk', diskView(d, s)];
  }
  if (d && c.method === 'DELETE') {
    e.removeDisk(d);
    return complete();
  }
  return d
    ? [200, 'disk', diskView(d, s)]
    : coll(
        'disk',
        c.page('disks', s.disks, (x) => diskRecord(s, x)).map((x) => diskView(x, s)),
      );
}

export const diskRoutes: RouteTable = { disks };
