// What else hangs off a VM: the CD-ROM, the active snapshot, consoles, statistics, tags, and the
// collections the simulator keeps empty.
import { badRequest } from '../faults.ts';
import { obj } from '../representation.ts';
import { API, link } from '../views/common.ts';
import { graphicsConsoles, vmStatistics } from '../views/vm.ts';
import type { Route, RouteContext, RouteResult, RouteTable } from './route.ts';

/** Only GET, and only for a VM that exists. */
const read =
  (answer: (c: RouteContext, vm: ReturnType<RouteContext['engine']['vm']>) => RouteResult): Route =>
  (c) => {
    const vm = c.engine.vm(c.oid ?? '');
    return c.method === 'GET' ? answer(c, vm) : undefined;
  };

/** A VM's collections the simulator keeps empty, by their element name (the engine's root elements). */
const EMPTY_VM_COLLECTIONS: Record<string, string> = {
  numanodes: 'vm_numa_nodes',
  watchdogs: 'watchdogs',
  floppies: 'floppies',
  hostdevices: 'host_devices',
  permissions: 'permissions',
  reporteddevices: 'reported_devices',
  sessions: 'sessions',
  applications: 'applications',
  affinitylabels: 'affinity_labels',
  katelloerrata: 'katello_errata',
  mediateddevices: 'vm_mediated_devices',
  backups: 'backups',
  checkpoints: 'checkpoints',
};

const tags: Route = (c) => {
  const s = c.state;
  const vm = c.engine.vm(c.oid ?? '');
  if (c.method === 'GET') return [200, 'tags', vm.tags.length ? { tag: vm.tags.map((t) => ({ ...link('tags', t), name: s.tags.find((x) => x.id === t)?.name, vm: link('vms', vm.id) })) } : {}];
  if (c.method !== 'POST') return undefined;
  const t = s.tags.find((x) => x.id === obj(c.body).id || x.name === obj(c.body).name);
  if (!t) throw badRequest('[Tag [id|name] required]');
  if (!vm.tags.includes(t.id)) vm.tags.push(t.id);
  return [201, 'tag', { ...t, href: `${API}/tags/${t.id}` }];
};

export const vmDeviceRoutes: RouteTable = {
  'vms/cdroms': read((_c, vm) => [
    200,
    'cdroms',
    { cdrom: [{ id: '00000000-0000-0000-0000-000000000000', href: `${API}/vms/${vm.id}/cdroms/00000000-0000-0000-0000-000000000000`, vm: link('vms', vm.id) }] },
  ]),
  'vms/snapshots': read((_c, vm) => [
    200,
    'snapshots',
    {
      snapshot: [
        {
          id: `${vm.id.slice(0, 24)}a0715e000000`,
          href: `${API}/vms/${vm.id}/snapshots/${vm.id.slice(0, 24)}a0715e000000`,
          description: 'Active VM',
          date: vm.creation_time,
          snapshot_type: 'active',
          snapshot_status: 'ok',
          persist_memorystate: false,
          vm: link('vms', vm.id),
        },
      ],
    },
  ]),
  ...Object.fromEntries(Object.entries(EMPTY_VM_COLLECTIONS).map(([sub, root]) => [`vms/${sub}`, read(() => [200, root, {}])])),
  'vms/graphicsconsoles': read((c, vm) => [200, 'graphics_consoles', { graphics_console: graphicsConsoles(vm, c.q.get('current') === 'true') }]),
  'vms/statistics': read((_c, vm) => [200, 'statistics', { statistic: vmStatistics(vm) }]),
  'vms/tags': tags,
};
