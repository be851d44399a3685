// Templates: add from a VM, read, list, and their disk attachments, NICs and consoles.
import { badRequest } from '../faults.ts';
import { obj } from '../representation.ts';
import { templateRecord } from '../search-fields.ts';
import { API, link } from '../views/common.ts';
import { templateAttachments, templateView } from '../views/template.ts';
import { coll, one, type RouteContext, type RouteResult, type RouteTable } from './route.ts';

function templates(c: RouteContext): RouteResult {
  const { state: s, oid } = c;
  if (!oid && c.method === 'POST') {
    const vmRef = obj(c.body.vm);
    const vm = s.vms.find((v) => v.id === vmRef.id || v.name === vmRef.name);
    if (!vm) throw badRequest('[Template [vm.id|name] required for add]');
    return [201, 'template', templateView(s, c.engine.templateFromVm(c.body, vm, c.correlation))];
  }
  return oid
    ? [
        200,
        'template',
        templateView(
          s,
          one(s.templates, (t) => t.id === oid),
          c.follow,
        ),
      ]
    : coll(
        'template',
        c.page('templates', s.templates, (t) => templateRecord(s, t)).map((t) => templateView(s, t, c.follow)),
      );
}

export const templateRoutes: RouteTable = {
  templates,
  'templates/diskattachments': (c) =>
    coll(
      'disk_attachment',
      templateAttachments(
        one(c.state.templates, (x) => x.id === c.oid),
        c.follow.has('disk'),
      ),
    ),
  'templates/nics': () => coll('nic', []),
  'templates/graphicsconsoles': (c) => coll('graphics_console', [{ id: '766e63', href: `${API}/templates/${c.oid}/graphicsconsoles/766e63`, protocol: 'vnc', template: link('templates', c.oid) }]),
};
