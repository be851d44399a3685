// VLANs on Proxmox: a VLAN-aware bridge on every listed node (verified, never made), or an SDN
// vnet with the tag in a VLAN zone (made, marked by its alias, removed only when no guest uses it).
import { RefusedError } from '../../controller/core/errors.ts';
import type { ActionContext, DesiredNetwork, KindObservation, NetworkClient, NetworkState } from '../../controller/core/provider.ts';
import type { ProxmoxContext } from './context.ts';
import { readGuestConfig } from './guest-config.ts';
import { rowSignature } from './mapping.ts';

type SdnZone = { zone: string; type: string; bridge?: string };
type SdnVnet = { vnet: string; zone: string; tag?: number; alias?: string };
type Iface = { iface: string; type: string; bridge_vlan_aware?: number };

/** A cached config younger than this answers "does a guest use the vnet"; older ones are read again. */
const CONFIG_TRUSTED_MS = 10 * 60_000;

/** The vnet's alias is its marker (an alias allows only `[\w .-]`, 64 characters): the resource and the controller instance. */
function vnetAlias(n: DesiredNetwork): string {
  return `virtkeeper ${n.key}${n.owner.instance ? `@${n.owner.instance}` : ''}`.slice(0, 64).replace(/[^\w .-]/g, '-');
}

/** Made by this controller instance, or before instances were written (that alias, exactly). */
function vnetOwned(alias: string | undefined, n: DesiredNetwork): boolean {
  const legacy = `virtkeeper ${n.key}`.slice(0, 64).replace(/[^\w .-]/g, '-');
  return alias === vnetAlias(n) || alias === legacy;
}

interface SdnPlan {
  zone: boolean;
  vnet: boolean;
  have?: SdnVnet;
}

export class ProxmoxNetworks implements NetworkClient {
  private readonly c: ProxmoxContext;
  constructor(c: ProxmoxContext) {
    this.c = c;
  }

  async observe(n: DesiredNetwork, _ctx: ActionContext = {}): Promise<KindObservation<NetworkState>> {
    if (n.sdn) {
      const sdn = n.sdn;
      const p = await this.sdnPlan(n);
      const id = [`sdn/${sdn.vnet}`];
      if (p.have && p.have.tag !== n.vlanId) return { exists: true, upToDate: false, state: { present: false, providerIDs: id }, intents: [], problem: this.wrongTag(p.have, n) };
      const intents = [
        ...(p.zone ? [`create SDN zone ${sdn.zone} (vlan on ${n.bridge ?? 'vmbr0'})`] : []),
        ...(p.vnet ? [`create SDN vnet ${sdn.vnet} with tag ${n.vlanId}`, 'apply the SDN configuration'] : p.zone ? ['apply the SDN configuration'] : []),
      ];
      return { exists: !!p.have, upToDate: intents.length === 0, ...(p.have ? { state: { present: true, providerIDs: id } } : {}), intents };
    }
    const state = await this.bridges(n);
    return { exists: state.present, upToDate: state.present, state, intents: [], ...(state.message ? { problem: state.message } : {}) };
  }

  async ensure(n: DesiredNetwork, _ctx: ActionContext = {}): Promise<NetworkState> {
    if (!n.sdn) return this.bridges(n);
    const sdn = n.sdn;
    const { api } = this.c;
    const p = await this.sdnPlan(n);
    if (p.have && p.have.tag !== n.vlanId) return { present: false, providerIDs: [`sdn/${p.have.vnet}`], message: this.wrongTag(p.have, n) };
    if (p.zone) await api.post('/cluster/sdn/zones', { zone: sdn.zone, type: 'vlan', bridge: n.bridge ?? 'vmbr0' });
    if (p.vnet) await api.post('/cluster/sdn/vnets', { vnet: sdn.vnet, zone: sdn.zone, tag: n.vlanId, alias: vnetAlias(n) });
    if (p.zone || p.vnet) await api.waitForTask(await api.put<string>('/cluster/sdn'));
    return { present: true, providerIDs: [`sdn/${sdn.vnet}`] };
  }

  async delete(n: DesiredNetwork, _ctx: ActionContext = {}): Promise<void> {
    if (!n.sdn) return; // a host bridge is never removed: virtkeeper only verified it
    const { api } = this.c;
    const vnets = await api.get<SdnVnet[]>('/cluster/sdn/vnets');
    const have = vnets.find((v) => v.vnet === n.sdn?.vnet);
    if (!have || !vnetOwned(have.alias, n)) return;
    const user = await this.userOf(have.vnet);
    if (user) throw new RefusedError(`SDN vnet ${have.vnet} is still used by VM ${user}; it stays until no VM uses it`);
    await api.delete(`/cluster/sdn/vnets/${have.vnet}`);
    await api.waitForTask(await api.put<string>('/cluster/sdn'));
  }

  private wrongTag(have: SdnVnet, n: DesiredNetwork): string {
    return `SDN vnet ${have.vnet} exists with tag ${have.tag ?? 'none'}, not ${n.vlanId}; it is not changed by virtkeeper`;
  }

  private async sdnPlan(n: DesiredNetwork): Promise<SdnPlan> {
    const [zones, vnets] = await Promise.all([this.c.api.get<SdnZone[]>('/cluster/sdn/zones'), this.c.api.get<SdnVnet[]>('/cluster/sdn/vnets')]);
    const have = vnets.find((v) => v.vnet === n.sdn?.vnet);
    return { zone: !zones.some((z) => z.zone === n.sdn?.zone), vnet: !have, ...(have ? { have } : {}) };
  }

  private async bridges(n: DesiredNetwork): Promise<NetworkState> {
    const { api } = this.c;
    const bridge = (n.bridge ?? 'vmbr0').split('.')[0] ?? 'vmbr0';
    const nodes = n.nodes ?? (await api.get<{ node: string }[]>('/nodes')).map((x) => x.node);
    const answers = await Promise.all(nodes.map((node) => api.get<Iface[]>(`/nodes/${node}/network`)));
    const lacking: string[] = [];
    nodes.forEach((node, i) => {
      const br = answers[i]?.find((x) => x.iface === bridge && x.type === 'bridge');
      if (!br) lacking.push(`${node} (no bridge ${bridge})`);
      else if (!br.bridge_vlan_aware) lacking.push(`${node} (bridge ${bridge} is not VLAN-aware)`);
    });
    return lacking.length === 0
      ? { present: true, providerIDs: nodes.map((x) => `${x}/${bridge}`) }
      : { present: false, providerIDs: [], message: `VLAN ${n.vlanId} needs a VLAN-aware ${bridge} on: ${lacking.join(', ')}` };
  }

  /**
   * A guest whose NIC is on the vnet, if any. Configs the observation read recently (same list
   * row, young) answer from the cache; only the rest are read, so a removal does not read every
   * VM's config.
   */
  private async userOf(vnet: string): Promise<string | undefined> {
    const uses = (cfg: Record<string, string | number>) => Object.entries(cfg).some(([k, v]) => /^net\d+$/.test(k) && String(v).includes(`bridge=${vnet}`));
    const rows = (await this.c.listGuests()).filter((r) => r.template !== 1);
    const unknown = [];
    for (const r of rows) {
      const d = this.c.details.fresh(r.id, rowSignature(r), r.status);
      if (d && Date.now() - d.readAt < CONFIG_TRUSTED_MS) {
        if (uses(d.config)) return r.name ?? String(r.vmid);
      } else unknown.push(r);
    }
    for (const r of unknown) if (uses(await readGuestConfig(this.c.api, r.node, r.vmid))) return r.name ?? String(r.vmid);
    return undefined;
  }
}
