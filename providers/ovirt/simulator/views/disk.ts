// A disk as the engine sends it.
import type { EngineState, SimDisk } from '../model.ts';
import { API, fixedId, link, rels } from './common.ts';

export function diskView(d: SimDisk, s?: EngineState) {
  const base = `${API}/disks/${d.id}`;
  return {
    id: d.id,
    href: base,
    name: d.name,
    alias: d.name,
    ...(d.description ? { description: d.description } : {}),
    image_id: fixedId('1a6e0000', d.id),
    provisioned_size: d.provisioned_size,
    actual_size: d.actual_size,
    total_size: d.actual_size,
    status: d.status,
    format: d.format,
    ...(d.format === 'cow' ? { qcow_version: 'qcow2_v3' } : {}),
    sparse: d.sparse,
    shareable: false,
    wipe_after_delete: false,
    propagate_errors: false,
    backup: 'none',
    content_type: 'data',
    storage_type: 'image',
    storage_domains: { storage_domain: [link('storagedomains', d.storage_domain)] },
    disk_profile: link('diskprofiles', fixedId('d15c0000', d.storage_domain)),
    ...(s?.datacenters[0] ? { quota: { id: fixedId('90000000', s.datacenters[0].id) } } : {}),
    actions: { link: rels(base, ['copy', 'export', 'move', 'reduce', 'refreshlun', 'sparsify']) },
    link: rels(base, ['disksnapshots', 'permissions', 'statistics']),
  };
}
