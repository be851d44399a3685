// VirtualDisk volumes no VM references, as the storages list them: one `GET /nodes` and one
// content list per node and storage (filtered to DISK_OWNER_VMID), shared by every disk of a
// pass for a few seconds instead of read per disk; a write of the disks client drops it.
import type { DesiredStandaloneDisk } from '../../../controller/core/provider.ts';
import type { ProxmoxClient } from '../client.ts';
import { DISK_OWNER_VMID, isOwnVolume, ownFile } from './volumes.ts';

export interface Free {
  node: string;
  volid: string;
  size: number;
}

interface Listing {
  at: number;
  nodes: { node: string; online: boolean }[];
  /** Per online node, the volumes of DISK_OWNER_VMID on the storage. */
  volumes: Map<string, Map<string, number>>;
}

const FRESH_MS = 3000;

export class FreeVolumes {
  private readonly api: ProxmoxClient;
  private readonly listings = new Map<string, Promise<Listing>>();
  constructor(api: ProxmoxClient) {
    this.api = api;
  }

  /** Drops what was listed: after an allocation, a delete, a detach. */
  forget(): void {
    this.listings.clear();
  }

  /** The disk's own volume on the storage it is (or would be) on; `offline` names nodes that could not be asked. */
  async find(d: DesiredStandaloneDisk, defaultStorage: string, firstNode?: string): Promise<{ free?: Free; offline: string[] }> {
    const storage = (d.knownID && isOwnVolume(d.knownID, d) ? d.knownID.split(':')[0] : undefined) ?? d.storage ?? defaultStorage;
    const volid = `${storage}:${ownFile(d)}`;
    const l = await this.listing(storage);
    const online = l.nodes
      .filter((n) => n.online)
      .map((n) => n.node)
      .sort((a, b) => Number(b === firstNode) - Number(a === firstNode));
    for (const node of online) {
      const size = l.volumes.get(node)?.get(volid);
      if (size !== undefined) return { free: { node, volid, size }, offline: [] };
    }
    return { offline: l.nodes.filter((n) => !n.online).map((n) => n.node) };
  }

  private listing(storage: string): Promise<Listing> {
    const have = this.listings.get(storage);
    if (have) return have;
    const p = this.read(storage);
    this.listings.set(storage, p);
    p.then(
      (l) => setTimeout(() => this.listings.get(storage) === p && this.listings.delete(storage), Math.max(0, FRESH_MS - (Date.now() - l.at))).unref(),
      () => this.listings.get(storage) === p && this.listings.delete(storage),
    );
    return p;
  }

  private async read(storage: string): Promise<Listing> {
    const nodes = (await this.api.get<{ node: string; status?: string }[]>('/nodes')).map((n) => ({ node: n.node, online: n.status !== 'offline' }));
    const volumes = new Map<string, Map<string, number>>();
    await Promise.all(
      nodes
        .filter((n) => n.online)
        .map(async ({ node }) => {
          const list = await this.api.get<{ volid: string; size?: number }[]>(`/nodes/${node}/storage/${storage}/content`, { vmid: String(DISK_OWNER_VMID) });
          volumes.set(node, new Map(list.map((v) => [v.volid, Number(v.size ?? 0)])));
        }),
    );
    return { at: Date.now(), nodes, volumes };
  }
}
