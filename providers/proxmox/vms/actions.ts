// The actions on an existing VM. Each re-reads the guest (where it runs now, its config) and
// re-checks the marker before it changes anything; power steps are idempotent.
import type { VMAction } from '../../../controller/core/actions.ts';
import { ProviderNotFoundError, RefusedError } from '../../../controller/core/errors.ts';
import { ADOPTED_MARKER, type ActionContext, parseOwner, sameOwner, withMarker } from '../../../controller/core/provider.ts';
import { MiB, sizeText } from '../../kit/sizes.ts';
import type { ProxmoxContext } from '../context.ts';
import { releaseVirtualDisks } from '../disks/index.ts';
import { readGuestConfig } from '../guest-config.ts';
import { dataDisks, description, ipconfig, MAX_MEMORY_LINE, nicValue, nics } from '../mapping.ts';
import { freeSlot, newDisk } from './create.ts';

export type TargetedAction = Exclude<VMAction, { type: 'create' }>;

const POWER = new Set<VMAction['type']>(['start', 'stop', 'restart']);

/** What the cached config of a VM is worth after an action on it. */
function afterAction(c: ProxmoxContext, action: TargetedAction): void {
  // A power step leaves the config as it was unless changes were staged (they apply on start):
  // then the cached config still answers, even for the re-read asked after an action.
  const cached = c.details.get(action.target.providerID);
  if (POWER.has(action.type) && cached && !cached.pending) c.details.settle(action.target.providerID);
  else c.details.delete(action.target.providerID);
}

/**
 * A start where the VM is known to be (the observation's row, or the node a create just put it
 * on): no config read (a start changes no config and checks no marker) and no status read
 * first, since a VM already running refuses the start and its status then answers. A VM not on
 * that node any more is looked up again.
 */
async function startAt(c: ProxmoxContext, action: Extract<TargetedAction, { type: 'start' }>, node: string, ctx: ActionContext): Promise<void> {
  const vmid = Number(action.target.providerID.split('/')[1]);
  const wait = c.waiter(ctx);
  const start = async (at: string) => {
    const path = `/nodes/${at}/qemu/${vmid}`;
    try {
      await wait(await c.api.post<string>(`${path}/status/start`));
    } catch (e) {
      if (e instanceof ProviderNotFoundError) throw e;
      if ((await c.api.get<{ status: string }>(`${path}/status/current`).catch(() => undefined))?.status !== 'running') throw e;
    }
  };
  await c.retry(async () => {
    try {
      await start(node);
    } catch (e) {
      if (!(e instanceof ProviderNotFoundError)) throw e;
      await start((await c.locate(action.target)).node);
    }
  }, ctx);
  afterAction(c, action);
}

export async function runAction(c: ProxmoxContext, action: TargetedAction, ctx: ActionContext, o: { reuse?: boolean } = {}): Promise<void> {
  if (action.type === 'start') {
    const node = (o.reuse ? c.rememberedRow(action.target)?.node : undefined) ?? action.target.node;
    if (node) return startAt(c, action, node, ctx);
  }
  let located: Awaited<ReturnType<ProxmoxContext['locate']>>;
  try {
    located = await c.locate(action.target, o);
  } catch (e) {
    if (action.type === 'delete' && e instanceof ProviderNotFoundError) return;
    throw e;
  }
  const { vmid, node, config } = located;
  if (action.type !== 'adopt' && action.type !== 'start') c.checkOwner(action.target, config);
  const path = `/nodes/${node}/qemu/${vmid}`;
  const wait = c.waiter(ctx);
  const post = async (sub: string, params: Record<string, string | number> = {}) => wait(await c.api.post<string>(`${path}/${sub}`, params));
  const status = async () => (await c.api.get<{ status: string }>(`${path}/status/current`)).status;
  // Idempotent power steps: a start (stop) that fails because the VM got there meanwhile (a task
  // of an earlier pass, another client: "VM 243 already running") has done what was asked.
  const reaching = async (want: string, act: () => Promise<void>) => {
    try {
      await act();
    } catch (e) {
      if ((await status().catch(() => undefined)) !== want) throw e;
    }
  };
  const run = async (fn: () => Promise<void>) => {
    await c.retry(fn, ctx);
    afterAction(c, action);
  };
  switch (action.type) {
    case 'adopt':
      return run(async () => {
        // Only a VM that still carries no marker is taken; marking is all adoption does.
        const have = parseOwner(config.description);
        if (have && sameOwner(have, action.owner)) return;
        if (have)
          throw new RefusedError(`VM ${action.target.name} (${action.target.providerID}) was marked by ${have.kind} ${have.namespace ?? ''}/${have.name} since it was observed; it is not adopted`);
        const tags = [...new Set(['virtkeeper', ...(config.tags ?? '').split(/[;,]/).filter(Boolean)])].join(';');
        await post('config', { description: `${description(action.vm)}\n${ADOPTED_MARKER}\n${config.description ?? ''}`.trim(), tags });
      });
    case 'mark':
      return run(() => post('config', { description: withMarker(config.description, action.owner) }));
    case 'start':
      return run(async () => {
        if ((await status()) !== 'running') await reaching('running', () => post('status/start'));
      });
    case 'stop':
      return run(async () => {
        if ((await status()) === 'running') await reaching('stopped', () => post('status/stop'));
      });
    case 'restart':
      return run(async () => post((await status()) === 'running' ? 'status/reboot' : 'status/start'));
    case 'reconfigure':
      return run(async () => {
        const p: Record<string, string> = {};
        if (action.cpu) {
          p.sockets = String(action.cpu.sockets);
          p.cores = String(action.cpu.cores * action.cpu.threads);
        }
        if (action.memoryBytes) p.memory = String(Math.ceil(action.memoryBytes / MiB));
        if (action.maxMemoryBytes) {
          const d = (config.description ?? '').split('\n').filter((l) => !l.startsWith(MAX_MEMORY_LINE));
          d.splice(1, 0, `${MAX_MEMORY_LINE}${action.maxMemoryBytes}`);
          p.description = d.join('\n');
        }
        await post('config', p);
      });
    case 'growDisk':
      return run(async () => {
        // By slot name: the plan's indexes skip standalone disks (VirtualDisks) that the config lists.
        const disk = dataDisks(config).find((x) => x.name === action.disk);
        if (!disk) throw new ProviderNotFoundError(`VM ${action.target.name} has no disk ${action.disk}`);
        if (disk.sizeBytes >= action.sizeBytes) return;
        await wait(await c.api.put<string | null>(`${path}/resize`, { disk: disk.name, size: sizeText(action.sizeBytes) }));
      });
    case 'attachDisk':
      return run(async () => {
        if (dataDisks(config).filter((x) => !x.standalone)[action.index]) return;
        await post('config', { [freeSlot(config, action.disk)]: newDisk(c, action.disk) });
      });
    case 'detachDisk':
      return run(async () => {
        const disk = dataDisks(config).find((x) => x.name === action.disk);
        if (!disk || disk.standalone) return;
        await post('config', { delete: disk.name });
        // The detached volume becomes unusedN; it belongs to this VM, so it goes too.
        const after = await readGuestConfig(c.api, node, vmid);
        const unused = Object.entries(after).find(([k, v]) => /^unused\d+$/.test(k) && v.includes(`vm-${vmid}-`));
        if (unused) await post('config', { delete: unused[0] });
      });
    case 'attachNic':
    case 'updateNic':
      return run(async () => {
        const existing = nics(config)[action.index];
        const key = existing?.name ?? `net${action.index}`;
        const p: Record<string, string> = { [key]: nicValue(action.nic, existing?.mac) };
        const ip = ipconfig(action.nic);
        if (ip) p[`ipconfig${key.slice(3)}`] = ip;
        await post('config', p);
      });
    case 'detachNic':
      return run(async () => {
        const existing = nics(config)[action.index];
        if (existing) await post('config', { delete: existing.name });
      });
    case 'migrate':
      return run(async () => {
        if (node === action.to) return;
        const online = (await status()) === 'running';
        const upid = await c.api.post<string>(`${path}/migrate`, { target: action.to, ...(online ? { online: 1 } : {}), 'with-local-disks': 1 });
        // The task's wait says when it is over; its log says how far it is meanwhile.
        try {
          await c.migrations.follower.during(node, upid, wait(upid), { to: action.to, ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}) });
        } finally {
          c.migrations.forget(upid);
        }
      });
    case 'setAutostart':
      return run(() => post('config', { onboot: action.enabled ? 1 : 0 }));
    case 'delete':
      c.sending(action.target.name);
      return run(async () => {
        if ((await status()) === 'running') await post('status/stop');
        // A VirtualDisk outlives its VM: detached first, so that only the VM's own disks go.
        await releaseVirtualDisks(c.api, { node, vmid, name: action.target.name }, await readGuestConfig(c.api, node, vmid), ctx);
        await wait(await c.api.delete<string>(path, { purge: 1, 'destroy-unreferenced-disks': 1 }));
      });
  }
}
