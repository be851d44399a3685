// The engine's own host maintenance (hosts/{id}/deactivate, activate): asked once a drain has
// emptied the host, and waited on through preparing_for_maintenance to maintenance (or back up).
import { ProviderLockedError, ProviderNotFoundError } from '../../controller/core/errors.ts';
import type { ActionContext, NodeClient } from '../../controller/core/provider.ts';
import { arr, nameSearch, type Json, type OvirtClient } from './client.ts';
import { sleep } from './owned.ts';

export interface OvirtHostOptions {
  api: OvirtClient;
  pollMs?: number;
  /** How long a host may take to get there (default 10 min). */
  timeoutMs?: number;
  /** Called once a host changed state, so that observation reads the hosts again. */
  onChange?: () => void;
}

export class OvirtHosts implements NodeClient {
  private readonly o: OvirtHostOptions;

  constructor(options: OvirtHostOptions) {
    this.o = options;
  }

  private async host(name: string): Promise<Json> {
    const h = arr((await this.o.api.get('/hosts', { search: nameSearch(name) })).host).find((x) => x.name === name);
    if (!h) throw new ProviderNotFoundError(`the engine has no host ${name}; check spec.maintenance[].node against the host names`);
    return h;
  }

  async setMaintenance(node: string, on: boolean, ctx: ActionContext = {}): Promise<void> {
    const want = on ? 'maintenance' : 'up';
    let h = await this.host(node);
    if (String(h.status) === want) return;
    // An earlier pass may have asked already: a host on its way is waited on, not asked twice.
    const moving = on ? String(h.status) === 'preparing_for_maintenance' : ['unassigned', 'initializing', 'connecting'].includes(String(h.status));
    if (!moving) await this.o.api.call('POST', `/hosts/${encodeURIComponent(String(h.id))}/${on ? 'deactivate' : 'activate'}`, { body: {} });
    const since = Date.now();
    let preparing = moving;
    for (;;) {
      ctx.signal?.throwIfAborted();
      h = await this.host(node);
      const status = String(h.status);
      if (status === want) {
        this.o.onChange?.();
        return;
      }
      preparing ||= status === 'preparing_for_maintenance';
      // The engine gave up (a VM it could not move): the host is back up, the reason in its events.
      if (on && status === 'up' && preparing) throw new ProviderLockedError(`host ${node} went back to up instead of maintenance; the engine's events say why (a VM that could not be migrated)`);
      if (Date.now() - since > (this.o.timeoutMs ?? 10 * 60_000))
        throw new ProviderLockedError(`host ${node} is still ${status} after ${Math.round((Date.now() - since) / 1000)}s on its way to ${want}`);
      ctx.onProgress?.({ message: `host ${node}: ${status}` });
      await sleep(this.o.pollMs ?? 500);
    }
  }
}
