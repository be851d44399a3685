// VM observation: one `GET /cluster/resources` per pass (guests and nodes together), with a
// guest's config read only when its row changed, it is new, or it is being acted on.
import { ProviderNotFoundError } from '../../../controller/core/errors.ts';
import type { Observation, ObservedTemplate, ObservedVM } from '../../../controller/core/model.ts';
import type { ObserveOptions } from '../../../controller/core/provider.ts';
import type { Detail, ProxmoxContext } from '../context.ts';
import { configFromPending, rowSignature, toObservedNode, toObservedVM, type PendingRow, type ResourceRow } from '../mapping.ts';

type AgentInterfaces = { result: { name: string; 'ip-addresses'?: { 'ip-address': string; 'ip-address-type': string }[] }[] };

export class VMObserver {
  private readonly ipFetching = new Set<string>();
  private readonly c: ProxmoxContext;

  constructor(c: ProxmoxContext) {
    this.c = c;
  }

  async observe(options: ObserveOptions = {}): Promise<Observation> {
    const listedAt = Date.now();
    const [rows] = await Promise.all([this.c.api.get<ResourceRow[]>('/cluster/resources'), this.c.details.load()]);
    const guests = rows.filter((r) => r.type === 'qemu');
    this.c.rememberGuests(guests);
    const refresh = new Set(options.refresh ?? []);
    const seen = new Set<string>();
    // This pass's details, taken when decided (a cached entry) or read: an action that drops a
    // cache entry while the reads run must not leave a guest of this pass without its config,
    // which would show virtkeeper's own VM with no marker (refused as foreign).
    const pass = new Map<string, Detail>();
    const gone = new Set<string>();
    const reads: Promise<void>[] = [];
    for (const row of guests) {
      seen.add(row.id);
      if (row.template === 1) continue;
      const cached = this.c.details.fresh(row.id, rowSignature(row), row.status);
      // Taken only by the observation that was asked to refresh it: one for another VM's action,
      // run in between, must not use it up.
      const settled = refresh.has(row.id) && this.c.details.takeSettled(row.id);
      if (cached && (!refresh.has(row.id) || settled)) {
        pass.set(row.id, cached);
        continue;
      }
      // A guest being cloned, never read before: its config is the source's until the clone and
      // the configuration after it finish (the create records it then), so it is not read now.
      if ((row.lock === 'clone' || this.c.making.has(row.id)) && !this.c.details.get(row.id)) {
        gone.add(row.id);
        continue;
      }
      reads.push(
        this.readDetail(row).then(
          (d) => void pass.set(row.id, d),
          (e: unknown) => {
            // A guest that vanished (or moved) between the list and the read: its marker is unknown
            // in this pass, which is neither "ours" nor "foreign" (as for one being cloned).
            if (!(e instanceof ProviderNotFoundError)) throw e;
            gone.add(row.id);
          },
        ),
      );
    }
    await Promise.all(reads);
    for (const id of this.c.details.keys()) if (!seen.has(id) && !this.c.details.seededSince(id, listedAt)) this.c.details.delete(id);
    const vms: ObservedVM[] = [];
    const templates: ObservedTemplate[] = [];
    for (const row of guests) {
      if (row.template === 1) {
        templates.push({ name: row.name ?? String(row.vmid), providerID: row.id, node: row.node });
        vms.push(toObservedVM(row, undefined, []));
        continue;
      }
      const d = pass.get(row.id);
      const ips = this.c.details.ips;
      if (row.status !== 'running') this.c.details.dropIPs(row.id);
      else if (!ips.has(row.id) && d?.config.agent?.startsWith('1')) this.fetchIPs(row);
      vms.push({ ...toObservedVM(row, d, ips.get(row.id) ?? []), ...(gone.has(row.id) ? { ownerUnknown: true } : {}) });
    }
    const nodes = rows.filter((r) => r.type === 'node').map((n) => toObservedNode(n, guests.filter((g) => g.node === n.node && g.template !== 1).length));
    return { vms, nodes, templates, version: 'proxmox-ve' };
  }

  private async readDetail(row: ResourceRow): Promise<Detail> {
    const pending = await this.c.api.get<PendingRow[]>(`/nodes/${row.node}/qemu/${row.vmid}/pending`);
    const { config, pending: hasPending, staged } = configFromPending(pending);
    const detail: Detail = { signature: rowSignature(row), ...(row.status ? { status: row.status } : {}), config, pending: hasPending, staged, readAt: Date.now() };
    this.c.details.set(row.id, detail);
    return detail;
  }

  /** Guest-agent addresses, fetched in the background: observation never waits on an agent. */
  private fetchIPs(row: ResourceRow): void {
    if (this.ipFetching.has(row.id)) return;
    this.ipFetching.add(row.id);
    void this.c.api
      .get<AgentInterfaces>(`/nodes/${row.node}/qemu/${row.vmid}/agent/network-get-interfaces`)
      .then((r) => {
        const ips = r.result.filter((i) => i.name !== 'lo').flatMap((i) => (i['ip-addresses'] ?? []).filter((a) => a['ip-address-type'] === 'ipv4').map((a) => a['ip-address']));
        if (ips.length > 0) this.c.details.setIPs(row.id, ips);
      })
      .catch(() => undefined)
      .finally(() => this.ipFetching.delete(row.id));
  }
}
