// Day-2 operations: a VM's snapshots (and the two-step preview/commit/undo), its graphics
// consoles with tickets and remote-viewer files, moving usage statistics, and the hosts'
// maintenance mode. The behaviour is in engine/{snapshots,consoles,hosts}.ts.
import { consoleRoute, viewerFile, ViewerFile } from '../engine/consoles.ts';
import { hostAction } from '../engine/hosts.ts';
import { snapshotAction, snapshotRoute } from '../engine/snapshots.ts';
import { link } from '../views/common.ts';
import { diskStatistics, vmUsageStatistics } from '../views/statistics.ts';
import type { Route, RouteTable } from './route.ts';

const snapshots: Route = (c) => snapshotRoute(c.engine, c.method, c.engine.vm(c.oid ?? ''), c.sid, c.seg[4], c.body);

const consoles: Route = (c) => {
  const vm = c.engine.vm(c.oid ?? '');
  const action = c.seg[4];
  // The file itself, as remote-viewer and the SDKs ask for it.
  const wantsFile = (c.req.headers.accept ?? '').includes('application/x-virt-viewer');
  if (c.method === 'GET' && c.sid && wantsFile && (!action || action === 'remoteviewerconnectionfile'))
    return viewerFile(c.engine, vm, c.sid).then((text) => [200, 'remote_viewer_connection_file', new ViewerFile(text)]);
  return consoleRoute(c.engine, c.method, vm, c.sid, action, c.body, c.q);
};

const previewCommitUndo: Route = (c) => {
  const vm = c.engine.vm(c.oid ?? '');
  if (c.method !== 'POST' || !snapshotAction(c.engine, vm, c.sub ?? '', c.body)) return undefined;
  return [200, 'action', { status: 'complete', vm: link('vms', vm.id) }];
};

const hosts: Route = (c) => (c.method === 'POST' && hostAction(c.engine, c.oid ?? '', c.sub ?? '') ? [200, 'action', { status: 'complete', host: link('hosts', c.oid) }] : undefined);

export const day2Routes: RouteTable = {
  'vms/snapshots': snapshots,
  'vms/graphicsconsoles': consoles,
  'vms/statistics': (c) => (c.method === 'GET' ? [200, 'statistics', { statistic: vmUsageStatistics(c.engine.vm(c.oid ?? '')) }] : undefined),
  'vms/previewsnapshot': previewCommitUndo,
  'vms/commitsnapshot': previewCommitUndo,
  'vms/undosnapshot': previewCommitUndo,
  'hosts/deactivate': hosts,
  'hosts/activate': hosts,
  'disks/statistics': (c) => {
    const d = c.state.disks.find((x) => x.id === c.oid);
    return c.method === 'GET' && d ? [200, 'statistics', { statistic: diskStatistics(c.state, d) }] : undefined;
  },
};
