// oVirt consoles: the engine writes the remote-viewer file itself (graphicsconsoles/{id}/
// remoteviewerconnectionfile), with a ticket it just set; that same ticket is then set again
// with the lifetime asked for. The ticket is a secret: it is returned, never logged or thrown.
import type { Target } from '../../controller/core/actions.ts';
import { ProviderConflictError, ProviderNotFoundError } from '../../controller/core/errors.ts';
import type { ActionContext, ConsoleClient, ConsoleTicket } from '../../controller/core/provider.ts';
import { arr, num, type OvirtClient } from './client.ts';
import { ownedVM } from './owned.ts';

/** The `[virt-viewer]` section of a .vv file as key → value. */
export function parseViewerFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('[')) inSection = line === '[virt-viewer]';
    else if (inSection && line.includes('=')) {
      const at = line.indexOf('=');
      out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
  }
  return out;
}

export class OvirtConsoles implements ConsoleClient {
  private readonly api: OvirtClient;
  private readonly now: () => number;

  constructor(options: { api: OvirtClient; now?: () => number }) {
    this.api = options.api;
    this.now = options.now ?? Date.now;
  }

  async open(target: Target, options: { protocol?: 'spice' | 'vnc'; ttlSeconds: number } & ActionContext): Promise<ConsoleTicket> {
    const vm = await ownedVM(this.api, target);
    if (String(vm.status) !== 'up') throw new ProviderConflictError(`VM ${target.name} is ${String(vm.status)}; a console opens only on a running VM`);
    const base = `/vms/${encodeURIComponent(target.providerID)}/graphicsconsoles`;
    const consoles = arr((await this.api.get(base, { current: 'true' })).graphics_console);
    const wanted = options.protocol ?? 'spice';
    const gc = consoles.find((c) => String(c.protocol) === wanted) ?? (options.protocol ? undefined : consoles[0]);
    if (!gc)
      throw new ProviderNotFoundError(`VM ${target.name} has no ${options.protocol ?? ''} graphics console${consoles.length ? ` (it has ${consoles.map((c) => String(c.protocol)).join(', ')})` : ''}`);
    const path = `${base}/${encodeURIComponent(String(gc.id))}`;
    const file = String((await this.api.call<{ remote_viewer_connection_file?: string }>('POST', `${path}/remoteviewerconnectionfile`, { body: {} })).data.remote_viewer_connection_file ?? '');
    const vv = parseViewerFile(file);
    if (!vv.password) throw new ProviderNotFoundError(`the engine returned no console file for VM ${target.name}`);
    // The file's own ticket, its lifetime set to what was asked (the engine's default is 120 s).
    const set = (await this.api.call<{ ticket?: { expiry?: unknown } }>('POST', `${path}/ticket`, { body: { ticket: { value: vv.password, expiry: options.ttlSeconds } } })).data;
    const ttl = num(set.ticket?.expiry) || options.ttlSeconds;
    const tlsPort = num(vv['tls-port']);
    return {
      protocol: vv.type === 'vnc' ? 'vnc' : 'spice',
      host: vv.host ?? String(gc.address ?? ''),
      port: num(vv.port) > 0 ? num(vv.port) : num(gc.port),
      ...(tlsPort > 0 ? { tlsPort } : {}),
      password: vv.password,
      expiresAt: new Date(this.now() + ttl * 1000).toISOString(),
      viewerFile: file,
    };
  }
}
