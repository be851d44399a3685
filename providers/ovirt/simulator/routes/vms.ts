// VMs: the collection (search, add from a template, synchronous with `Expect: 201-created`),
// one VM (read, next-run read, edit, remove), its power actions, disk attachments and NICs.
import { notFound } from '../faults.ts';
import { id, mac, type SimVM } from '../model.ts';
import { bool, num, obj } from '../representation.ts';
import { vmRecord } from '../search-fields.ts';
import { link } from '../views/common.ts';
import { attachmentView, nicView, vmView } from '../views/vm.ts';
import { complete, type RouteContext, type RouteResult, type RouteTable } from './route.ts';

const vm = (c: RouteContext): SimVM => c.engine.vm(c.oid ?? '');

function vms(c: RouteContext): RouteResult | Promise<RouteResult> {
  const { state: s, engine: e, follow, q } = c;
  if (!c.oid) {
    if (c.method === 'POST') {
      const v = e.createVm(c.body, q.get('clone') === 'true', c.correlation);
      if (c.req.headers.expect === '201-created') {
        return new Promise((resolve) => {
          const poll = () => (v.status === 'image_locked' ? setTimeout(poll, 20) : resolve([201, 'vm', vmView(s, v, follow)]));
          poll();
        });
      }
      return [202, 'vm', vmView(s, v, follow)];
    }
    const items = c.page('vms', s.vms, (v) => vmRecord(s, v)).map((v) => vmView(s, v, follow));
    return [200, 'vms', items.length ? { vm: items } : {}];
  }
  const v = vm(c);
  // A subcollection no route answers.
  if (c.sub) throw notFound();
  if (c.method === 'PUT') {
    e.updateVm(v, c.body, q.get('next_run') === 'true');
    return [200, 'vm', vmView(s, v, follow)];
  }
  if (c.method === 'DELETE') {
    e.deleteVm(v, { detachOnly: q.get('detach_only') === 'true' });
    return complete();
  }
  return [200, 'vm', vmView(s, v, follow, q.get('next_run') === 'true')];
}

function action(c: RouteContext): RouteResult | undefined {
  const v = vm(c);
  if (c.method !== 'POST' || !c.sub) return undefined;
  c.engine.action(v, c.sub, c.body, c.correlation);
  return [200, 'action', { status: 'complete', vm: link('vms', v.id) }];
}

function diskAttachments(c: RouteContext): RouteResult {
  const { state: s, engine: e, sid, body } = c;
  const v = vm(c);
  if (c.method === 'POST') return [201, 'disk_attachment', attachmentView(s, v, e.addDisk(v, body), true)];
  if (sid && c.method === 'PUT') {
    const a = v.attachments.find((x) => x.id === sid);
    if (!a) throw notFound();
    if (bool(body.active) !== undefined) a.active = bool(body.active) ?? a.active;
    const size = num(obj(body.disk).provisioned_size);
    if (size !== undefined) e.growDisk(v, sid, size, c.correlation);
    return [200, 'disk_attachment', attachmentView(s, v, v.attachments.find((a) => a.id === sid) as SimVM['attachments'][number], true)];
  }
  if (sid && c.method === 'DELETE') {
    const a = v.attachments.find((x) => x.id === sid);
    if (!a) throw notFound();
    v.attachments = v.attachments.filter((x) => x !== a);
    // v4: a disk attachment's removal only detaches, unless detach_only=false.
    if (c.q.get('detach_only') === 'false') s.disks = s.disks.filter((d) => d.id !== a.disk);
    return complete();
  }
  return [200, 'disk_attachments', v.attachments.length ? { disk_attachment: v.attachments.map((a) => attachmentView(s, v, a, c.follow.has('disk'))) } : {}];
}

function nics(c: RouteContext): RouteResult {
  const { state: s, sid, body, follow } = c;
  const v = vm(c);
  if (c.method === 'POST') {
    const n = {
      id: id(),
      name: String(body.name ?? `nic${v.nics.length + 1}`),
      interface: String(body.interface ?? 'virtio'),
      mac: String(obj(body.mac).address ?? mac()),
      ...(obj(body.vnic_profile).id ? { vnic_profile: String(obj(body.vnic_profile).id) } : {}),
      plugged: true,
      linked: true,
    };
    v.nics.push(n);
    return [201, 'nic', nicView(v, n, s)];
  }
  const n = sid ? v.nics.find((x) => x.id === sid) : undefined;
  if (sid && !n) throw notFound();
  if (n && c.method === 'PUT') {
    const p = obj(body.vnic_profile).id;
    if (p) n.vnic_profile = String(p);
    if (body.interface) n.interface = String(body.interface);
    return [200, 'nic', nicView(v, n, s, follow)];
  }
  if (n && c.method === 'DELETE') {
    v.nics = v.nics.filter((x) => x !== n);
    return complete();
  }
  if (n) return [200, 'nic', nicView(v, n, s, follow)];
  return [200, 'nics', v.nics.length ? { nic: v.nics.map((x) => nicView(v, x, s, follow)) } : {}];
}

export const vmRoutes: RouteTable = {
  vms,
  ...Object.fromEntries(['start', 'stop', 'shutdown', 'reboot', 'migrate', 'cancelmigration'].map((a) => [`vms/${a}`, action])),
  'vms/diskattachments': diskAttachments,
  'vms/nics': nics,
};
