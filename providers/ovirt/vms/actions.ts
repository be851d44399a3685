// A VM's actions on the engine, after one read of the VM: the owner marker re-checked before
// anything but adopt and start, each step retried while the VM is locked, and waited for until
// the engine has done it.
import type { Target, VMAction } from '../../../controller/core/actions.ts';
import { ProviderNotFoundError, RefusedError, VkError } from '../../../controller/core/errors.ts';
import { ADOPTED_MARKER, parseOwner, sameOwner, withMarker, type ActionContext, type ExecuteResult } from '../../../controller/core/provider.ts';
import { arr, bool, num, obj, type Json } from '../client.ts';
import { attachmentsToKeep } from '../disk-find.ts';
import { correlationId } from '../jobs.ts';
import type { OvirtSession } from '../session.ts';
import { addDisk, createVm } from './create.ts';
import { addNic, profileFor } from './nics.ts';
import { retry } from '../wait.ts';
import { afterJob, disksReady, getVm, waitVm } from './wait.ts';

/** The VMs a create of this session just made, as it last read them: the start that follows goes by that. */
const justMade = new WeakMap<OvirtSession, Map<string, { at: number; vm: Json }>>();
/** How long that read serves (a start follows its create at once; an entry no action took is dropped). */
const JUST_MADE_MS = 30_000;

export async function executeVm(s: OvirtSession, action: VMAction, ctx: ActionContext = {}): Promise<ExecuteResult> {
  // What the write changes, the last observation (and one in flight) no longer shows.
  const vmId = action.type === 'create' ? undefined : action.target.providerID;
  const made = justMade.get(s) ?? new Map<string, { at: number; vm: Json }>();
  justMade.set(s, made);
  for (const [id, m] of made) if (s.now() - m.at > JUST_MADE_MS) made.delete(id);
  const fresh = vmId ? made.get(vmId)?.vm : undefined;
  if (vmId) made.delete(vmId);
  // A start (no marker check) goes by the create just before it, or the observation it was planned from, when that is recent.
  const planned = action.type === 'start' ? (fresh ?? s.observedVm(action.target.providerID)) : undefined;
  s.wrote(vmId);
  try {
    if (action.type === 'create') {
      const r = await retry(() => createVm(s, action.vm, ctx, action.resume), ctx);
      if (r.vm) made.set(r.target.providerID, { at: s.now(), vm: r.vm });
      return { made: r.target };
    }
    await act(s, action, ctx, planned);
    return {};
  } finally {
    s.wrote(vmId);
  }
}

async function act(s: OvirtSession, action: Exclude<VMAction, { type: 'create' }>, ctx: ActionContext, planned: Json | undefined): Promise<void> {
  const api = s.api;
  let vm: Json;
  try {
    vm = planned ?? (await getVm(s, action.target.providerID));
  } catch (e) {
    if (action.type === 'delete' && e instanceof ProviderNotFoundError) return;
    throw e;
  }
  if (action.type !== 'adopt' && action.type !== 'start') checkOwner(action.target, vm);
  const id = action.target.providerID;
  const status = () => String(vm.status);
  return retry(async (attempt) => {
    // A step tried again reads the VM again: the engine may have moved it meanwhile.
    if (attempt > 0) vm = await getVm(s, id);
    switch (action.type) {
      case 'adopt': {
        // Only a VM that still carries no marker is taken; marking is all adoption does.
        const have = parseOwner(String(vm.comment ?? ''));
        if (have && sameOwner(have, action.owner)) return;
        if (have) throw new RefusedError(`VM ${action.target.name} (${id}) was marked by ${have.kind} ${have.namespace ?? ''}/${have.name} since it was observed; it is not adopted`);
        await api.call('PUT', `/vms/${id}`, { body: { comment: `${withMarker(String(vm.comment ?? ''), action.owner, ' ')} ${ADOPTED_MARKER}` } });
        return;
      }
      case 'mark':
        await api.call('PUT', `/vms/${id}`, { body: { comment: withMarker(String(vm.comment ?? ''), action.owner, ' ') } });
        return;
      case 'start': {
        if (status() === 'up') return;
        const c = correlationId(`start-${action.target.name}`);
        // The node placement chose (never one in maintenance), for this run; else the engine's scheduler picks.
        await api.call('POST', `/vms/${id}/start`, {
          body: { use_cloud_init: !!vm.initialization, ...(action.target.node ? { vm: { placement_policy: { hosts: { host: [{ name: action.target.node }] } } } } : {}) },
          query: { correlation_id: c },
        });
        await afterJob(s, c, id, 'start', (v) => v.status === 'up', ctx);
        return;
      }
      case 'stop':
        if (status() === 'down') return;
        await api.call('POST', `/vms/${id}/stop`, { body: {} });
        await waitVm(s, id, 'stop', (v) => v.status === 'down', ctx);
        return;
      case 'restart':
        if (status() !== 'up') await api.call('POST', `/vms/${id}/start`, { body: {} });
        else await api.call('POST', `/vms/${id}/reboot`, { body: {} });
        await waitVm(s, id, 'restart', (v) => v.status === 'up', ctx);
        return;
      case 'reconfigure': {
        const body: Json = {};
        if (action.cpu) body.cpu = { topology: { sockets: action.cpu.sockets, cores: action.cpu.cores, threads: action.cpu.threads } };
        if (action.memoryBytes) body.memory = action.memoryBytes;
        if (action.maxMemoryBytes) body.memory_policy = { max: action.maxMemoryBytes };
        await api.call('PUT', `/vms/${id}`, { body, ...(action.mode === 'staged' ? { query: { next_run: 'true' } } : {}) });
        return;
      }
      case 'growDisk': {
        const a = arr(obj(vm.disk_attachments).disk_attachment).find((x) => String(x.id) === action.disk);
        if (!a) throw new ProviderNotFoundError(`VM ${action.target.name} has no disk ${action.disk}`);
        if (num(obj(a.disk).provisioned_size) >= action.sizeBytes) return;
        const c = correlationId(`grow-${action.target.name}`);
        await api.call('PUT', `/vms/${id}/diskattachments/${action.disk}`, { body: { disk: { provisioned_size: action.sizeBytes } }, query: { correlation_id: c } });
        await afterJob(s, c, id, 'grow disk', disksReady, ctx);
        return;
      }
      case 'attachDisk':
        await addDisk(s, id, String(vm.name), action.disk, action.index);
        await waitVm(s, id, 'attach disk', disksReady, ctx);
        return;
      case 'detachDisk':
        await api.call('DELETE', `/vms/${id}/diskattachments/${action.disk}`);
        return;
      case 'attachNic':
      case 'updateNic': {
        const nic = arr(obj(vm.nics).nic)[action.index];
        const profile = await profileFor(s, action.nic);
        if (nic) await api.call('PUT', `/vms/${id}/nics/${String(nic.id)}`, { body: { ...(profile ? { vnic_profile: { id: profile } } : {}), interface: action.nic.model } });
        else await addNic(s, id, action.nic, profile);
        return;
      }
      case 'detachNic': {
        const nic = arr(obj(vm.nics).nic).find((n) => n.name === action.nic);
        if (nic) await api.call('DELETE', `/vms/${id}/nics/${String(nic.id)}`);
        return;
      }
      case 'migrate': {
        const c = correlationId(`migrate-${action.target.name}`);
        await api.call('POST', `/vms/${id}/migrate`, { body: { host: { name: action.to } }, query: { correlation_id: c } });
        const landed = afterJob(s, c, id, `migrate to ${action.to}`, (v) => v.status === 'up' && (s.cachedInventory()?.hosts.find((h) => h.id === obj(v.host).id)?.name ?? '') === action.to, ctx);
        // The job says when it is over; the VM's migration.progress how far it is meanwhile.
        await s.migrations.during('engine', id, landed, { to: action.to, ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}) });
        return;
      }
      case 'setAutostart':
        return; // oVirt has no per-VM autostart; VMs are started by the engine's HA policy.
      case 'delete':
        if (bool(vm.delete_protected)) throw new RefusedError(`VM ${action.target.name} has delete protection on the engine; turn it off there first`);
        if (status() !== 'down') {
          await api.call('POST', `/vms/${id}/stop`, { body: {} }).catch((e: unknown) => {
            if (!(e instanceof VkError && e.kind === 'locked')) throw e;
          });
          await waitVm(s, id, 'stop before delete', (v) => v.status === 'down', ctx);
        }
        // A VirtualDisk outlives its VM: detached (kept, floating) before the VM and its own disks go.
        for (const a of attachmentsToKeep(await getVm(s, id))) {
          ctx.onProgress?.({ message: `detaching disk ${String(obj(a.disk).alias ?? a.id)} before removing VM ${action.target.name}` });
          await api.call('DELETE', `/vms/${id}/diskattachments/${String(a.id)}`, { query: { detach_only: 'true' } });
        }
        await api.call('DELETE', `/vms/${id}`);
        return;
    }
  }, ctx);
}

function checkOwner(target: Target, vm: Json): void {
  const have = parseOwner(String(vm.comment ?? ''));
  if (!target.owner || !sameOwner(have, target.owner))
    throw new RefusedError(`VM ${target.name} (${target.providerID}) is not owned by this resource; virtkeeper never changes a VM it did not create`);
}
