// What the engine reports back: jobs, the event log (from an index, newest first) and tags.
import { id } from '../model.ts';
import { applySearch } from '../search.ts';
import { eventRecord, jobRecord, SCHEMAS } from '../search-fields.ts';
import { API, eventView } from '../views/common.ts';
import { coll, type RouteContext, type RouteResult, type RouteTable } from './route.ts';
import { searchOptions } from './search-options.ts';

function events(c: RouteContext): RouteResult {
  const { state: s, q } = c;
  const from = Number(q.get('from') ?? 0);
  const max = Number(q.get('max') ?? 100);
  const parsed = c.parse('events');
  const matching = parsed
    ? applySearch(
        s.events.filter((ev) => ev.index > from),
        (ev) => eventRecord(s, ev),
        SCHEMAS.events ?? { object: 'Events', fields: {} },
        { ...(parsed.where ? { where: parsed.where } : {}) },
        searchOptions(q),
      )
    : [];
  const items = matching.sort((a, b) => b.index - a.index).slice(0, from ? undefined : max);
  return coll(
    'event',
    items.map((ev) => eventView(s, ev)),
  );
}

function tags(c: RouteContext): RouteResult {
  const s = c.state;
  if (c.method === 'POST') {
    const t = { id: id(), name: String(c.body.name ?? '') };
    s.tags.push(t);
    return [201, 'tag', { ...t, href: `${API}/tags/${t.id}` }];
  }
  return coll(
    'tag',
    s.tags.map((t) => ({ ...t, href: `${API}/tags/${t.id}` })),
  );
}

export const jobRoutes: RouteTable = {
  jobs: (c) =>
    coll(
      'job',
      c.page('jobs', c.state.jobs, jobRecord).map((j) => ({ ...j, href: `${API}/jobs/${j.id}` })),
    ),
  events,
  tags,
};
