// Volumes outside a VM's own disk entries: `POST /nodes/{node}/storage/{storage}/content`
// allocates a volume for a VM id (as `pvesm alloc`), the content list shows every volume of a
// storage, and `move_disk` with `target-vmid` reassigns a disk (renamed, as Proxmox does, to the
// target's next free `vm-<id>-disk-<n>`). Sizes of volumes not in a disk entry are kept here.
import { ANY, BOOL, INT, NAME, PveError, paramError, type Route } from './http.ts';
import { DISK_KEY, GiB, diskSize, isDataDisk, volumeOwner, withSize, type SimState } from './model.ts';
import { findVM } from './qemu-common.ts';
import type { Tasks } from './tasks.ts';

const SIZE = /^\d+(\.\d+)?[KMG]?$/;

export function volumeSizes(s: SimState): Record<string, number> {
  s.volumeSizes ??= {};
  return s.volumeSizes;
}

export function volumeNodes(s: SimState): Record<string, string> {
  s.volumeNodes ??= {};
  return s.volumeNodes;
}

/** Whether a volume's storage is shared (every node sees it). */
export function isShared(s: SimState, volid: string): boolean {
  return s.storages.find((x) => x.storage === volid.split(':')[0])?.shared ?? false;
}

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)$/.exec(text);
  if (!m) return 0;
  return Math.round(Number(m[1]) * { '': 1024, K: 1024, M: 2 ** 20, G: GiB }[m[2] as '' | 'K' | 'M' | 'G']);
}

/** Every volume of a storage on a node: disk entries, unused entries and allocated volumes. */
function contentOf(s: SimState, node: string, storage: string): { volid: string; vmid: number; size: number }[] {
  const out = new Map<string, { volid: string; vmid: number; size: number }>();
  for (const vm of s.vms.filter((v) => v.node === node)) {
    for (const [k, v] of Object.entries(vm.config)) {
      const volid = v.split(',')[0] ?? '';
      if (!volid.startsWith(`${storage}:`) || !(isDataDisk(k, v) || /^unused\d+$/.test(k))) continue;
      // The owner is the VM id in the volume's name, not the VM that references it.
      out.set(volid, { volid, vmid: volumeOwner(volid) ?? 0, size: isDataDisk(k, v) ? diskSize(v) : (volumeSizes(s)[volid] ?? 0) });
    }
  }
  for (const [volid, size] of Object.entries(importImages(s))) if (volid.startsWith(`${storage}:`)) out.set(volid, { volid, vmid: 0, size });
  for (const [volid, size] of Object.entries(volumeSizes(s))) {
    const here = (volumeNodes(s)[volid] ?? node) === node || isShared(s, volid);
    if (volid.startsWith(`${storage}:`) && here && !out.has(volid)) out.set(volid, { volid, vmid: volumeOwner(volid) ?? 0, size });
  }
  return [...out.values()];
}

/** Images a node downloaded (`download-url`, content import): volid → virtual size. */
export function importImages(s: SimState): Record<string, number> {
  s.importImages ??= {};
  return s.importImages;
}

/** The virtual size an image's bytes declare: a qcow2 header says it; raw is its length. */
export function virtualSize(head: Buffer, length: number): number {
  return head.length >= 32 && head.readUInt32BE(0) === 0x514649fb ? Number(head.readBigUInt64BE(24)) : length;
}

export function storageRoutes(state: () => SimState, tasks: Tasks, duration: (type: string) => number): Route[] {
  const s = state;
  return [
    {
      // As a real node does, the download runs as a task that fetches the URL itself.
      method: 'POST',
      pattern: '/nodes/{node}/storage/{storage}/download-url',
      required: ['content', 'filename', 'url'],
      params: {
        content: /^(iso|vztmpl|import)$/,
        filename: /^[A-Za-z0-9._-]+\.(qcow2|raw|img|vmdk|iso)$/,
        url: /^https?:\/\/\S+$/,
        checksum: ANY,
        'checksum-algorithm': ANY,
        'verify-certificates': BOOL,
        compression: ANY,
      },
      handler: ({ path, params, user }) => {
        const st = s().storages.find((x) => x.storage === path.storage);
        if (!st) throw new PveError(500, `storage '${path.storage}' does not exist`);
        if (!st.content.split(',').includes(params.content ?? '')) throw new PveError(500, `storage '${path.storage}' is not configured for content-type '${params.content}'`);
        const volid = `${path.storage}:${params.content}/${params.filename}`;
        let size = 0;
        // As on a node: the UPID comes back at once, the task runs while the URL downloads.
        const download = fetch(params.url ?? '').then(
          async (res) => {
            if (!res.ok) throw new PveError(500, `download failed: ${res.status} ${res.statusText}`);
            const body = Buffer.from(await res.arrayBuffer());
            size = virtualSize(body, body.length);
          },
          (e: unknown) => {
            throw new PveError(500, `download failed: ${(e as Error).message}`);
          },
        );
        return tasks.start({
          node: path.node ?? '',
          type: 'download',
          id: path.storage ?? '',
          user,
          durationMs: duration('download'),
          until: download,
          work: () => {
            importImages(s())[volid] = size;
          },
        });
      },
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/storage/{storage}/content',
      params: { content: ANY, vmid: INT },
      handler: ({ path, params }) =>
        contentOf(s(), path.node ?? '', path.storage ?? '')
          .filter((v) => !params.vmid || v.vmid === Number(params.vmid))
          .map((v) => ({
            volid: v.volid,
            ...(v.vmid ? { vmid: v.vmid } : {}),
            size: v.size,
            format: /\.qcow2$/.test(v.volid) ? 'qcow2' : 'raw',
            content: /:import\//.test(v.volid) ? 'import' : 'images',
            used: 0,
          })),
    },
    {
      method: 'POST',
      pattern: '/nodes/{node}/storage/{storage}/content',
      required: ['vmid', 'filename', 'size'],
      params: { vmid: INT, filename: /^[A-Za-z0-9._-]+$/, size: SIZE, format: /^(raw|qcow2|subvol)$/ },
      handler: ({ path, params }) => {
        const st = s().storages.find((x) => x.storage === path.storage);
        if (!st) throw new PveError(500, `storage '${path.storage}' does not exist`);
        if (!st.content.includes('images')) throw new PveError(500, `storage '${path.storage}' does not support vm images`);
        const name = params.filename ?? '';
        if (!new RegExp(`^(vm|base)-${params.vmid}-[a-z0-9._-]+$`).test(name)) throw paramError({ filename: `illegal name '${name}' - should be 'vm-${params.vmid}-*'` });
        const volid = `${path.storage}:${name}`;
        if (contentOf(s(), path.node ?? '', path.storage ?? '').some((v) => v.volid === volid)) throw new PveError(500, `volume '${volid}' already exists`);
        volumeSizes(s())[volid] = parseSize(params.size ?? '0');
        volumeNodes(s())[volid] = path.node ?? '';
        return volid;
      },
    },
    {
      // `pvesm free`: a task that frees the volume (`volume` is a volid or a name in `storage`).
      method: 'DELETE',
      pattern: '/nodes/{node}/storage/{storage}/content/{volume}',
      params: { delay: INT },
      handler: ({ path, user }) => {
        const volid = (path.volume ?? '').includes(':') ? (path.volume ?? '') : `${path.storage}:${path.volume}`;
        if (!contentOf(s(), path.node ?? '', path.storage ?? '').some((v) => v.volid === volid)) throw new PveError(500, `no such volume '${volid}'`);
        const user_ = s().vms.find((vm) => vm.status === 'running' && Object.entries(vm.config).some(([k, v]) => isDataDisk(k, v) && v.split(',')[0] === volid));
        if (user_) throw new PveError(500, `lvremove '${volid}' error: Logical volume in use (VM ${user_.vmid} runs with it)`);
        return tasks.start({
          node: path.node ?? '',
          type: 'imgdel',
          id: `${volumeOwner(volid) ?? ''}@${path.storage}`,
          user,
          durationMs: duration('imgdel'),
          work: () => {
            delete volumeSizes(s())[volid];
            delete volumeNodes(s())[volid];
          },
        });
      },
    },
    {
      method: 'POST',
      pattern: '/nodes/{node}/qemu/{vmid}/move_disk',
      required: ['disk'],
      params: {
        disk: /^((scsi|virtio|sata|ide)\d+|unused\d+)$/,
        'target-vmid': INT,
        'target-disk': /^((scsi|virtio|sata|ide)\d+|unused\d+)$/,
        storage: NAME,
        delete: BOOL,
        format: ANY,
        digest: ANY,
        'target-digest': ANY,
        bwlimit: INT,
      },
      handler: ({ path, params, user }) => {
        const src = findVM(s(), path.vmid ?? '', path.node);
        if (src.lock) throw new PveError(500, `VM is locked (${src.lock})`);
        const key = params.disk ?? '';
        const entry = src.config[key];
        if (!entry) throw new PveError(500, `disk '${key}' does not exist`);
        if (!params['target-vmid']) throw new PveError(500, 'moving a disk to another storage is not simulated; pass target-vmid');
        const dst = findVM(s(), params['target-vmid'], path.node);
        if (dst.vmid === src.vmid) throw new PveError(500, 'source and target VM are the same');
        const tkey = params['target-disk'] ?? key;
        if (src.status === 'running' && DISK_KEY.test(key)) throw new PveError(500, `cannot move disk '${key}' of a running VM to another VM: unplug it first`);
        if (dst.config[tkey]) throw new PveError(500, `target disk '${tkey}' already exists in VM ${dst.vmid}`);
        if (dst.status === 'running' && DISK_KEY.test(tkey) && !(dst.config.hotplug ?? 'network,disk,usb').split(',').includes('disk'))
          throw new PveError(500, `cannot hotplug '${tkey}': disk hotplug is off`);
        const volid = entry.split(',')[0] ?? '';
        const storage = volid.split(':')[0] ?? '';
        const size = DISK_KEY.test(key) ? diskSize(entry) : (volumeSizes(s())[volid] ?? 0);
        const used = new Set(contentOf(s(), dst.node, storage).map((v) => v.volid));
        let n = 0;
        while (used.has(`${storage}:vm-${dst.vmid}-disk-${n}`)) n++;
        const renamed = `${storage}:vm-${dst.vmid}-disk-${n}`;
        src.lock = 'disk';
        return tasks.start({
          node: src.node,
          type: 'qmmove',
          id: String(src.vmid),
          user,
          durationMs: duration('qmmove'),
          work: () => {
            delete src.lock;
            delete src.config[key];
            delete volumeSizes(s())[volid];
            delete volumeNodes(s())[volid];
            if (DISK_KEY.test(tkey)) dst.config[tkey] = withSize(renamed, size);
            else {
              dst.config[tkey] = renamed;
              volumeSizes(s())[renamed] = size;
            }
          },
        });
      },
    },
  ];
}
