// Templates made on a Proxmox cluster: from an owned, stopped VM (converted in place with
// `POST .../template`, as Proxmox does) or from a qcow2/raw image on the node (a VM whose
// disk is created with `import-from`, then converted). Both resume where an earlier,
// interrupted attempt stopped: nothing is made twice.
import { ProviderInvalidError, ProviderNotFoundError, RefusedError } from '../../controller/core/errors.ts';
import type { Target } from '../../controller/core/actions.ts';
import {
  type ActionContext,
  displayImage,
  formatOwner,
  type ImportOptions,
  parseOwner,
  sameOwner,
  type OwnerRef,
  type Progress,
  type TemplateClient,
  type TemplateFacts,
} from '../../controller/core/provider.ts';
import type { ProxmoxClient } from './client.ts';
import type { ProxmoxContext } from './context.ts';
import { readGuestConfig } from './guest-config.ts';
import { dataDisks, diskValue, propertyString, type ResourceRow } from './mapping.ts';

export interface TemplateWork {
  api: ProxmoxClient;
  onProgress?: (p: Progress) => void;
}

async function convert(w: TemplateWork, row: ResourceRow, name: string): Promise<void> {
  const path = `/nodes/${row.node}/qemu/${row.vmid}`;
  const wait = (upid: string) => w.api.waitForTask(upid, w.onProgress ? { onProgress: w.onProgress } : {});
  if (row.name !== name) await wait(await w.api.post<string>(`${path}/config`, { name }));
  w.onProgress?.({ message: `converting ${row.id} into template ${name}` });
  await wait(await w.api.post<string>(`${path}/template`, {}));
}

/** Converts an owned, stopped VM into the template `name`. */
export async function proxmoxTemplateFromVM(w: TemplateWork, target: Target, name: string): Promise<void> {
  const vmid = Number(target.providerID.split('/')[1]);
  const row = (await w.api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' })).find((r) => r.vmid === vmid);
  if (!row) throw new ProviderNotFoundError(`VM ${target.name} (${target.providerID}) does not exist`);
  if (row.template === 1) return;
  if (!target.owner || !sameOwner(parseOwner((await readGuestConfig(w.api, row.node, row.vmid)).description), target.owner)) {
    throw new RefusedError(`VM ${target.name} (${target.providerID}) is not owned by this resource; it is never made a template`);
  }
  if (row.status !== 'stopped') throw new RefusedError(`VM ${target.name} is ${row.status}; a template is made only from a stopped VM (set runStrategy: Halted)`);
  await convert(w, row, name);
}

export interface TemplateImport {
  name: string;
  image: string;
  owner: OwnerRef;
  storage: string;
  node?: string;
}

/** A template from an image file on the node: a VM with an `import-from` disk and a cloud-init drive, then converted. */
export async function proxmoxImportTemplate(w: TemplateWork, o: TemplateImport): Promise<void> {
  const rows = await w.api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' });
  const same = rows.filter((r) => r.name === o.name);
  if (same.some((r) => r.template === 1)) return;
  let row: ResourceRow | undefined;
  for (const r of same) {
    if (sameOwner(parseOwner((await readGuestConfig(w.api, r.node, r.vmid)).description), o.owner)) row = r;
    else throw new RefusedError(`a VM named ${o.name} exists (${r.id}) and is not owned by ${o.owner.kind} ${o.owner.name}; no template is imported over it`);
  }
  if (!row) {
    const node = o.node ?? (await firstOnlineNode(w.api));
    const vmid = Number(await w.api.get<string | number>('/cluster/nextid'));
    w.onProgress?.({ percent: 0, message: `importing ${o.image} into ${o.storage} on ${node} as VM ${vmid}` });
    const upid = await w.api.post<string>(`/nodes/${node}/qemu`, {
      vmid: String(vmid),
      name: o.name,
      memory: '1024',
      cores: '1',
      ostype: 'l26',
      agent: '1',
      scsihw: 'virtio-scsi-single',
      scsi0: diskValue(o.storage, 0, { importFrom: o.image }),
      ide2: propertyString([`${o.storage}:cloudinit`]),
      boot: 'order=scsi0',
      serial0: 'socket',
      vga: 'serial0',
      description: formatOwner(o.owner),
    });
    await w.api.waitForTask(upid, w.onProgress ? { onProgress: w.onProgress } : {});
    row = (await w.api.get<ResourceRow[]>('/cluster/resources', { type: 'vm' })).find((r) => r.vmid === vmid);
    if (!row) throw new ProviderNotFoundError(`VM ${vmid} made for the import is not visible`);
  }
  await convert(w, row, o.name);
}

/** The first online node, by name: where an image is downloaded and imported unless one is named. */
export async function firstOnlineNode(api: ProxmoxClient): Promise<string> {
  const node = (await api.get<{ node: string; status: string }[]>('/nodes'))
    .filter((n) => n.status === 'online')
    .map((n) => n.node)
    .sort()[0];
  if (!node) throw new ProviderNotFoundError('no online node to import the image on');
  return node;
}

/** Downloads an image URL into a node's import store (`download-url`), once; returns its volume id for import-from. */
export async function downloadImage(w: TemplateWork, url: string, node: string, store: string): Promise<string> {
  const file = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  if (!/^[A-Za-z0-9._-]+\.(qcow2|raw|img)$/.test(file)) throw new ProviderInvalidError(`${displayImage(url)}: Proxmox imports files named *.qcow2, *.raw or *.img; this one is '${file}'`);
  const volid = `${store}:import/${file}`;
  const have = await w.api.get<{ volid: string }[]>(`/nodes/${node}/storage/${store}/content`, { content: 'import' });
  if (have.some((v) => v.volid === volid)) return volid;
  w.onProgress?.({ message: `downloading ${displayImage(url)} to ${volid} on ${node}` });
  await w.api.waitForTask(await w.api.post<string>(`/nodes/${node}/storage/${store}/download-url`, { content: 'import', filename: file, url }), w.onProgress ? { onProgress: w.onProgress } : {});
  return volid;
}

/** The Proxmox TemplateClient: a template is a guest with `template: 1`, made in place from a VM (which it consumes). */
export class ProxmoxTemplates implements TemplateClient {
  readonly fromVMConsumesVM = true;
  private readonly c: ProxmoxContext;
  constructor(c: ProxmoxContext) {
    this.c = c;
  }

  async inspect(name: string, _ctx: ActionContext = {}): Promise<TemplateFacts> {
    const row = (await this.c.listGuests()).find((r) => r.template === 1 && (r.name === name || String(r.vmid) === name));
    if (!row) return { found: false };
    const config = await readGuestConfig(this.c.api, row.node, row.vmid);
    const disks = dataDisks(config);
    return {
      found: true,
      providerID: row.id,
      node: row.node,
      guestAgent: /^(1|enabled=1)/.test(config.agent ?? '0'),
      cloudInit: Object.entries(config).some(([k, v]) => /^(ide|scsi|sata)\d+$/.test(k) && v.includes('cloudinit')),
      ...(disks[0] ? { diskBytes: disks[0].sizeBytes } : {}),
    };
  }

  async fromVM(target: Target, name: string, options: ImportOptions = {}): Promise<TemplateFacts> {
    await proxmoxTemplateFromVM({ api: this.c.api, ...(options.onProgress ? { onProgress: options.onProgress } : {}) }, target, name);
    this.c.details.delete(target.providerID);
    return this.inspect(name);
  }

  async import(name: string, image: string, options: ImportOptions = {}): Promise<TemplateFacts> {
    const w = { api: this.c.api, ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
    const existing = await this.inspect(name);
    if (existing.found) return existing;
    const node = options.node ?? this.c.defaults.node ?? (await firstOnlineNode(this.c.api));
    // A URL is first downloaded by the node itself into its import store (`local` unless set).
    const source = /^https?:\/\//i.test(image) ? await downloadImage(w, image, node, this.c.defaults.importStorage ?? 'local') : image;
    await proxmoxImportTemplate(w, { name, image: source, owner: options.owner ?? { kind: 'VMTemplate', name }, storage: options.storage ?? this.c.defaultStorage, node });
    return this.inspect(name);
  }
}
