// Creating a VM: a clone of a template (clones of one template run one after another: the
// source holds lock `clone` while copying) or a new VM, then its configuration. Idempotent: a
// VM of that name with this owner's marker is finished, never cloned twice; an unmarked one is
// finished only when the reconciler's pending-create record points at it.
import type { Target } from '../../../controller/core/actions.ts';
import { ProviderConflictError, ProviderLockedError, ProviderNotFoundError, RefusedError } from '../../../controller/core/errors.ts';
import type { DesiredDisk, DesiredVM } from '../../../controller/core/model.ts';
import { ADOPTED_MARKER, type ActionContext, isAdopted, sameOwner } from '../../../controller/core/provider.ts';
import { poolGrantee } from '../../../controller/core/tenancy.ts';
import { GiB } from '../../kit/sizes.ts';
import type { ProxmoxContext } from '../context.ts';
import { readGuestConfig } from '../guest-config.ts';
import { BUS, configFromPending, configParams, dataDisks, diskValue, nicValue, toObservedVM, type PendingRow, type ResourceRow } from '../mapping.ts';
import { ensurePool } from '../pools.ts';
import { sizeText } from '../../kit/sizes.ts';

export function freeSlot(config: Record<string, string>, disk: { interface: string }): string {
  const bus = BUS[disk.interface] ?? 'scsi';
  for (let i = 0; i < 31; i++) if (!(`${bus}${i}` in config)) return `${bus}${i}`;
  throw new ProviderConflictError(`no free ${bus} slot`);
}

export function newDisk(c: ProxmoxContext, disk: DesiredDisk): string {
  return diskValue(disk.storage ?? c.defaultStorage, Math.max(1, Math.ceil(disk.sizeBytes / GiB)), disk.format ? { format: disk.format } : {});
}

/** Clones of one source, one after another. */
export class CloneQueues {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly active = new Map<string, number>();
  /** Names a clone was sent for by this process: only those can have been made while a retry of theirs queued. */
  readonly sent = new Set<string>();
  /** Whether a clone of this source is running or queued. */
  busy(source: string): boolean {
    return (this.active.get(source) ?? 0) > 0;
  }
  run<T>(source: string, fn: () => Promise<T>): Promise<T> {
    this.active.set(source, (this.active.get(source) ?? 0) + 1);
    const done = () => this.active.set(source, (this.active.get(source) ?? 1) - 1);
    const next = (this.queues.get(source) ?? Promise.resolve()).then(fn, fn).finally(done);
    this.queues.set(
      source,
      next.catch(() => undefined),
    );
    return next;
  }
}

async function findByName(c: ProxmoxContext, name: string, listed?: ResourceRow[]): Promise<{ row: ResourceRow; config: Record<string, string> } | undefined> {
  const row = (listed ?? (await c.listGuests())).find((r) => r.name === name && r.template !== 1);
  if (!row) return undefined;
  try {
    return { row, config: await readGuestConfig(c.api, row.node, row.vmid) };
  } catch (e) {
    if (e instanceof ProviderNotFoundError) return undefined;
    throw e;
  }
}

/** The VM a create task just made, read where it was made; undefined when it is not there (moved, renamed). */
async function madeAt(c: ProxmoxContext, at: { node: string; vmid: number }, name: string): Promise<{ row: ResourceRow; config: Record<string, string>; pending?: boolean } | undefined> {
  try {
    const { config, pending } = configFromPending(await c.api.get<PendingRow[]>(`/nodes/${at.node}/qemu/${at.vmid}/pending`));
    if (config.name !== name) return findByName(c, name);
    return { row: { id: `qemu/${at.vmid}`, type: 'qemu', vmid: at.vmid, node: at.node, name }, config, pending };
  } catch (e) {
    if (e instanceof ProviderNotFoundError) return findByName(c, name);
    throw e;
  }
}

export interface CreateRequest {
  vm: DesiredVM;
  node?: string;
  resume?: Target;
}

/**
 * Makes (or finishes) the VM and says where it is. `retried`: an earlier attempt failed, so the
 * guests are listed afresh; a first attempt may share a list call in flight with other creates.
 */
export async function createVM(c: ProxmoxContext, clones: CloneQueues, req: CreateRequest, ctx: ActionContext, retried = false): Promise<Target> {
  const { vm, resume } = req;
  // One list answers both "is it there already" and "where is the template".
  const rows = retried ? await c.listGuests() : await c.guestsFor(vm.name);
  let existing: { row: ResourceRow; config: Record<string, string>; pending?: boolean } | undefined = await findByName(c, vm.name, rows);
  if (existing) {
    const have = toObservedVM(existing.row, { config: existing.config, pending: false }, []);
    // An unmarked VM is finished (the configuration below writes the marker) only when it is
    // the one the reconciler's pending-create record points at.
    const unfinished = !have.owner && resume?.providerID === existing.row.id;
    if (!sameOwner(have.owner, vm.owner) && !unfinished) throw new RefusedError(`a VM named ${vm.name} already exists (${existing.row.id}) and is not owned by ${vm.key}`);
    if (existing.row.lock) throw new ProviderLockedError(`VM ${vm.name} is still being created (lock ${existing.row.lock})`);
  }
  // The guests being made are not read by observation until their configuration is written.
  const making: string[] = [];
  const reserve = (id: string) => {
    making.push(id);
    c.making.add(id);
  };
  try {
    const fresh = !existing;
    if (!existing) {
      const made = await make(c, clones, req, rows, ctx, reserve);
      // Where the task put it is known: its config is read there, without another list call.
      existing = made ? await madeAt(c, made, vm.name) : await findByName(c, vm.name);
      if (!existing) throw new ProviderConflictError(`VM ${vm.name} was not found after its creation task finished`);
    }
    const written = await configure(c, existing, vm, ctx);
    // A VM made just now is stopped with nothing staged, so the config write applied as sent: the
    // next observation takes its config from here (exact), not from another read.
    if (fresh && existing.pending === false && written) c.details.seed(existing.row.id, { config: written, pending: false, staged: {} });
    else c.details.delete(existing.row.id);
    ctx.onProgress?.({ percent: 100, message: `VM ${vm.name} is ${existing.row.id}` });
    return { providerID: existing.row.id, name: vm.name, node: existing.row.node, owner: vm.owner };
  } finally {
    for (const id of making) c.making.delete(id);
  }
}

/** Clones the template (or creates the VM); resolves with where it was made, or nothing when an earlier attempt had made it. */
async function make(
  c: ProxmoxContext,
  clones: CloneQueues,
  req: CreateRequest,
  rows: ResourceRow[],
  ctx: ActionContext,
  reserve: (id: string) => void,
): Promise<{ node: string; vmid: number } | undefined> {
  const { vm, node } = req;
  const wait = c.waiter(ctx);
  let made: { node: string; vmid: number } | undefined;
  const params = configParams(vm);
  const template = vm.template ? rows.find((r) => r.template === 1 && (r.name === vm.template || String(r.vmid) === vm.template)) : undefined;
  if (vm.template && !template) throw new ProviderNotFoundError(`template ${vm.template} does not exist`);
  const target = node ?? c.defaults.node ?? template?.node ?? rows[0]?.node ?? 'pve1';
  const pool = vm.pool ?? c.defaults.pool;
  const grantee = pool ? poolGrantee({ ...vm, pool }) : undefined;
  // Before the clone: a pool that cannot be used refuses the VM with nothing made.
  if (pool) await ensurePool(c.api, { pool, namespace: vm.owner.namespace ?? 'default', ...(grantee ? { grantee } : {}) });
  if (template) {
    // A linked clone on local storage stays on the template's node, as Proxmox requires.
    const onNode = vm.clone === 'linked' ? template.node : target;
    const storage = vm.disks[0]?.storage ?? c.defaults.storage;
    const queued = clones.busy(template.id);
    await clones.run(template.id, async () => {
      // Re-check after waiting in the queue: an earlier attempt may have made the VM meanwhile.
      if (queued && clones.sent.has(vm.name) && (await findByName(c, vm.name))) return;
      clones.sent.add(vm.name);
      c.sending(vm.name);
      const newid = Number(await c.api.get<string>('/cluster/nextid'));
      reserve(`qemu/${newid}`);
      ctx.onProgress?.({ percent: 0, message: `cloning ${vm.template} as ${newid} on ${onNode}` });
      const upid = await c.api.post<string>(`/nodes/${template.node}/qemu/${template.vmid}/clone`, {
        newid,
        name: vm.name,
        full: vm.clone === 'full' ? 1 : 0,
        target: onNode,
        description: params.description,
        ...(vm.clone === 'full' && storage ? { storage } : {}),
        ...(pool ? { pool } : {}),
      });
      await wait(upid);
      made = { node: onNode, vmid: newid };
    });
  } else {
    const newid = Number(await c.api.get<string>('/cluster/nextid'));
    reserve(`qemu/${newid}`);
    c.sending(vm.name);
    const disks = Object.fromEntries(vm.disks.map((d, i) => [`${BUS[d.interface] ?? 'scsi'}${i}`, newDisk(c, d)]));
    await wait(await c.api.post<string>(`/nodes/${target}/qemu`, { vmid: newid, ...params, ...disks, scsihw: 'virtio-scsi-single', ...(pool ? { pool } : {}) }));
    made = { node: target, vmid: newid };
  }
  return made;
}

/**
 * Configures a made VM as desired (idempotent: a half-made VM is finished here on a retry).
 * Resolves with the config it leaves when only the synchronous config write changed it.
 */
async function configure(c: ProxmoxContext, existing: { row: ResourceRow; config: Record<string, string> }, vm: DesiredVM, ctx: ActionContext): Promise<Record<string, string> | undefined> {
  const wait = c.waiter(ctx);
  const path = `/nodes/${existing.row.node}/qemu/${existing.row.vmid}`;
  const params = configParams(vm);
  const current = existing.config;
  // A NIC keeps the MAC it got at clone time unless the spec names one.
  vm.nics.forEach((n, i) => {
    const mac = /=([0-9A-Fa-f:]{17})/.exec(current[`net${i}`] ?? '')?.[1];
    params[`net${i}`] = nicValue(n, mac);
  });
  // A VM adopted earlier and found here again keeps its adopted marker and its unlisted NICs.
  const adopted = isAdopted(current.description);
  if (adopted) params.description = `${params.description}\n${ADOPTED_MARKER}`;
  const changes = Object.fromEntries(Object.entries(params).filter(([k, v]) => current[k] !== v));
  const extraNics = vm.nics.length > 0 && !adopted ? Object.keys(current).filter((k) => /^net\d+$/.test(k) && Number(k.slice(3)) >= vm.nics.length) : [];
  // Synchronous (PUT): nothing here hot-plugs or allocates storage, so there is no task to wait for.
  if (Object.keys(changes).length > 0 || extraNics.length > 0) await c.api.put(`${path}/config`, { ...changes, ...(extraNics.length ? { delete: extraNics.join(',') } : {}) });
  let exact = true;
  const disks = dataDisks(current);
  for (const [i, d] of vm.disks.entries()) {
    const have = disks[i];
    if (!have) {
      exact = false;
      const cfg = configFromPending(await c.api.get<PendingRow[]>(`${path}/pending`)).config;
      await wait(await c.api.post<string>(`${path}/config`, { [freeSlot(cfg, d)]: newDisk(c, d) }));
    } else if (have.sizeBytes < d.sizeBytes) {
      exact = false;
      await wait(await c.api.put<string | null>(`${path}/resize`, { disk: have.name, size: sizeText(d.sizeBytes) }));
    }
  }
  if (!exact) return undefined;
  const after = { ...current, ...changes };
  for (const k of extraNics) delete after[k];
  return after;
}
