// libvirt templates: a volume `<name>.qcow2` in the first host's pool, imported from an image
// (a file or URL, streamed over the RPC upload stream), made from a stopped VM's disk, and
// copied to another host through the RPC streams when a VM there first needs it.
import type { Logger } from 'pino';
import type { Target } from '../../controller/core/actions.ts';
import { ProviderNotFoundError, RefusedError } from '../../controller/core/errors.ts';
import { displayImage, sameOwner, type ActionContext, type Progress, type TemplateFacts } from '../../controller/core/provider.ts';
import { volumeXml, type ParsedDomain } from './domain-xml.ts';
import { openImage } from './image-source.ts';
import { LibvirtConnection } from './rpc/connection.ts';
import type { Domain, StoragePool, StorageVol } from './rpc/protocol.ts';
import type { TransportPolicy } from './rpc/uri.ts';

/** What the template routines need of the provider. */
export interface TemplateHost {
  hosts: { name: string; uri: string }[];
  logger: Logger;
  policy?: TransportPolicy;
  pool(): string;
  conn(host: string): Promise<LibvirtConnection>;
  locate(target: Target): Promise<{ c: LibvirtConnection; d: Domain; host: string; parsed: ParsedDomain; running: boolean }>;
}

/**
 * A template is a volume `<name>.qcow2` in the pool of the first host (VMs clone it as a
 * backing file); the other hosts get a copy when a VM there first needs it. Availability
 * lists every host that has it.
 */
export async function inspectTemplate(h: TemplateHost, name: string): Promise<TemplateFacts> {
  const host = h.hosts[0]?.name ?? '';
  const c = await h.conn(host);
  const vol = await c.lookupVolume(await c.lookupPool(h.pool()), `${name}.qcow2`).catch(() => undefined);
  if (!vol) return { found: false };
  const info = await c.volumeInfo(vol);
  const copies: string[] = [];
  for (const peer of h.hosts.slice(1)) {
    const other = await h.conn(peer.name).catch(() => undefined);
    const pool = other ? await other.lookupPool(h.pool()).catch(() => undefined) : undefined;
    if (
      other &&
      pool &&
      (await other.lookupVolume(pool, `${name}.qcow2`).then(
        () => true,
        () => false,
      ))
    )
      copies.push(peer.name);
  }
  // Whether the image carries an agent or cloud-init cannot be told from outside it.
  return {
    found: true,
    providerID: `${host}/${h.pool()}/${name}.qcow2`,
    node: host,
    diskBytes: Number(info.capacity),
    availability: [host, ...copies].map((node) => ({ node, storage: h.pool() })),
  };
}

/**
 * Copies a volume from one host's pool to another's through the RPC streams: download
 * there (a connection of its own, paused while the upload catches up), upload here into a
 * `.partial` volume, which the daemon then copies under the final name, so a copy cut short
 * is never taken for the real thing. The source must stand on its own (no backing file).
 */
async function copyAcross(
  h: TemplateHost,
  from: { uri: string; host: string; pool: string; volume: string },
  to: { host: string; c: LibvirtConnection; pool: StoragePool; name: string },
  what: string,
  ctx: { onProgress?: (p: Progress) => void },
): Promise<StorageVol> {
  const src = await LibvirtConnection.connect(from.uri, { logger: h.logger, ...(h.policy ? { policy: h.policy } : {}) });
  try {
    const vol = await src.lookupVolume(await src.lookupPool(from.pool), from.volume).catch(() => undefined);
    if (!vol) throw new ProviderNotFoundError(`volume ${from.volume} is not in pool ${from.pool} on ${from.host}`);
    const info = await src.volumeInfo(vol);
    // The bytes of the file (a qcow2's physical size), not its virtual capacity.
    const physical = Number(/<physical[^>]*>(\d+)<\/physical>/.exec(await src.volumeXml(vol))?.[1] ?? info.allocation);
    const partialName = to.name.replace(/\.qcow2$/, '.partial.qcow2');
    const stale = await to.c.lookupVolume(to.pool, partialName).catch(() => undefined);
    if (stale) await to.c.deleteVolume(stale);
    const partial = await to.c.createVolume(to.pool, volumeXml(partialName, Number(info.capacity)));
    let shown = -1;
    try {
      await to.c.uploadStream(partial, src.downloadVolume(vol, physical), physical, (sent) => {
        const percent = Math.min(99, Math.floor((sent / physical) * 100));
        if (percent === shown) return;
        shown = percent;
        ctx.onProgress?.({ percent, message: `copying ${what} from ${from.host} to ${to.host}: ${percent}%` });
      });
      await to.c.cloneVolume(to.pool, volumeXml(to.name, Number(info.capacity)), partial);
    } finally {
      await to.c.deleteVolume(partial).catch(() => undefined);
    }
    await to.c.refreshPool(to.pool);
    return await to.c.lookupVolume(to.pool, to.name);
  } finally {
    await src.close();
  }
}

/** The template volume on `host`: there already, or copied from the first host. */
export async function templateOn(h: TemplateHost, host: string, c: LibvirtConnection, pool: StoragePool, name: string, ctx: ActionContext): Promise<StorageVol> {
  const here = await c.lookupVolume(pool, `${name}.qcow2`).catch(() => undefined);
  if (here) return here;
  const home = h.hosts[0];
  if (!home || home.name === host) throw new ProviderNotFoundError(`template volume ${name}.qcow2 is not in pool ${pool.name} on ${host}`);
  return copyAcross(h, { uri: home.uri, host: home.name, pool: pool.name, volume: `${name}.qcow2` }, { host, c, pool, name: `${name}.qcow2` }, `template ${name}`, ctx);
}

/** Streams an image (a local path or an http(s) URL) over the RPC upload stream into the pool as the template volume. */
export async function importTemplate(h: TemplateHost, name: string, image: string, options: { storage?: string; onProgress?: (p: Progress) => void } = {}): Promise<TemplateFacts> {
  const existing = await inspectTemplate(h, name);
  if (existing.found) return existing;
  const src = await openImage(image);
  const host = h.hosts[0]?.name ?? '';
  const c = await h.conn(host);
  const pool = await c.lookupPool(options.storage ?? h.pool());
  // Clones name their template as a qcow2 backing file: a raw image is uploaded beside it
  // and converted by the daemon (StorageVolCreateXMLFrom), then the raw upload goes.
  const raw = src.format === 'raw';
  // A raw upload an interrupted import left behind (a name only this import uses) goes first.
  const stale = raw ? await c.lookupVolume(pool, `${name}.import.raw`).catch(() => undefined) : undefined;
  if (stale) await c.deleteVolume(stale);
  const vol = await c.createVolume(pool, volumeXml(raw ? `${name}.import.raw` : `${name}.qcow2`, src.length, undefined, src.format));
  let shown = -1;
  try {
    await c.uploadStream(vol, src.chunks, src.length, (sent) => {
      const percent = src.length ? Math.floor((sent / src.length) * 100) : 100;
      if (percent === shown) return;
      shown = percent;
      options.onProgress?.({ percent, message: `uploading ${displayImage(image)} to ${host}: ${percent}%` });
    });
  } catch (e) {
    // A half-written volume would pass for a template next time: it goes.
    await c.deleteVolume(vol).catch(() => undefined);
    throw e;
  }
  if (raw) {
    options.onProgress?.({ message: `converting ${displayImage(image)} to qcow2` });
    try {
      await c.cloneVolume(pool, volumeXml(`${name}.qcow2`, src.length), vol);
    } finally {
      await c.deleteVolume(vol).catch(() => undefined);
    }
  }
  await c.refreshPool(pool);
  return inspectTemplate(h, name);
}

/**
 * Copies an owned, stopped VM's boot disk into the template volume `<name>.qcow2` on the
 * first host (clones use it as a read-only backing file). A VM on another host has its disk
 * flattened there first, then copied across.
 */
export async function templateFromVM(h: TemplateHost, target: Target, name: string, options: { storage?: string; onProgress?: (p: Progress) => void } = {}): Promise<TemplateFacts> {
  const existing = await inspectTemplate(h, name);
  if (existing.found) return existing;
  const { c, host, parsed, running } = await h.locate(target);
  if (!target.owner || !sameOwner(parsed.owner, target.owner)) throw new RefusedError(`domain ${target.name} is not owned by this resource; it is never made a template`);
  if (running) throw new RefusedError(`domain ${target.name} is running; a template is made only from a stopped VM (set runStrategy: Halted)`);
  const boot = parsed.disks.find((d) => d.volume && d.pool);
  if (!boot?.volume || !boot.pool) throw new ProviderNotFoundError(`domain ${target.name} has no pool volume to make a template from`);
  const pool = await c.lookupPool(boot.pool);
  const source = await c.lookupVolume(pool, boot.volume);
  const info = await c.volumeInfo(source);
  const home = h.hosts[0];
  const homeConn = await h.conn(home?.name ?? host);
  const into = await homeConn.lookupPool(options.storage ?? h.pool());
  options.onProgress?.({ message: `copying ${boot.volume} into template volume ${name}.qcow2` });
  if (!home || home.name === host) {
    // A full copy (backing chains flattened): the template stands on its own.
    await c.cloneVolume(into, volumeXml(`${name}.qcow2`, Number(info.capacity)), source);
    await c.refreshPool(into);
    return inspectTemplate(h, name);
  }
  const flat = `${name}.flat.qcow2`;
  const stale = await c.lookupVolume(pool, flat).catch(() => undefined);
  if (stale) await c.deleteVolume(stale);
  const flattened = await c.cloneVolume(pool, volumeXml(flat, Number(info.capacity)), source);
  try {
    const uri = h.hosts.find((h) => h.name === host)?.uri ?? '';
    await copyAcross(h, { uri, host, pool: pool.name, volume: flat }, { host: home.name, c: homeConn, pool: into, name: `${name}.qcow2` }, `VM ${target.name}'s disk`, options);
  } finally {
    await c.deleteVolume(flattened).catch(() => undefined);
  }
  return inspectTemplate(h, name);
}
