// A template as the engine sends it, and its disk attachments.
import type { EngineState, SimTemplate } from '../model.ts';
import { API, BLANK, type Follow, link, NONE, rels } from './common.ts';
import { vmBase } from './vm-base.ts';

export function templateView(s: EngineState, t: SimTemplate, follow: Follow = NONE) {
  const base = `${API}/templates/${t.id}`;
  const blank = t.id === BLANK;
  return {
    id: t.id,
    href: base,
    name: t.name,
    description: t.description ?? (blank ? 'Blank template' : ''),
    comment: '',
    ...vmBase(s, { memory: t.memory, max_memory: t.memory * 4, sockets: t.sockets, cores: t.cores, threads: 1 }, t.cluster || undefined, 0),
    status: t.status,
    version: { version_number: 1, version_name: 'base version', base_template: link('templates', t.id) },
    delete_protected: false,
    actions: { link: rels(base, ['export']) },
    link: rels(base, ['cdroms', 'diskattachments', 'graphicsconsoles', 'mediateddevices', 'nics', 'permissions', 'tags', 'watchdogs']),
    ...(follow.has('disk_attachments') ? { disk_attachments: { disk_attachment: templateAttachments(t, follow.under('disk_attachments').has('disk')) } } : {}),
    ...(follow.has('nics') ? { nics: {} } : {}),
  };
}

/** A template's disks: ids derived from the template's, as they never change. */
export function templateAttachments(t: SimTemplate, withDisk: boolean) {
  return t.disks.map((d, i) => {
    const diskId = `${t.id.slice(0, 24)}${String(i).padStart(12, '0')}`;
    const disk = {
      id: diskId,
      href: `${API}/disks/${diskId}`,
      alias: d.alias,
      name: d.alias,
      provisioned_size: d.size,
      actual_size: d.size,
      status: t.status === 'locked' ? 'locked' : 'ok',
      format: 'cow',
      qcow_version: 'qcow2_v3',
      sparse: true,
      shareable: false,
      content_type: 'data',
      storage_type: 'image',
    };
    return {
      id: diskId,
      href: `${API}/templates/${t.id}/diskattachments/${diskId}`,
      bootable: i === 0,
      active: true,
      interface: d.interface,
      pass_discard: false,
      read_only: false,
      uses_scsi_reservation: false,
      disk: withDisk ? disk : { id: diskId, href: disk.href },
      template: link('templates', t.id),
    };
  });
}
