// A VM read again (with its disks and NICs) until it reaches a state.
import { ProviderLockedError, ProviderTransientError } from '../../../controller/core/errors.ts';
import type { ActionContext } from '../../../controller/core/provider.ts';
import { arr, obj, type Json } from '../client.ts';
import type { OvirtSession } from '../session.ts';
import { pollUntil } from '../../kit/index.ts';

export function getVm(s: OvirtSession, id: string): Promise<Json> {
  return s.api.get(`/vms/${id}`, { follow: 'disk_attachments.disk,nics' });
}

export const disksReady = (vm: Json) => arr(obj(vm.disk_attachments).disk_attachment).every((a) => obj(a.disk).status !== 'locked');

/** Waits until the VM satisfies `done`, reporting progress; throws with the reason if it takes too long. */
export function waitVm(s: OvirtSession, id: string, what: string, done: (vm: Json) => boolean, ctx: ActionContext, timeoutMs = 600_000): Promise<Json> {
  const since = s.now();
  return pollUntil({
    what,
    read: () => getVm(s, id),
    done,
    describe: (vm) => String(vm.status),
    intervalMs: s.o.pollMs ?? 100,
    timeoutMs,
    now: s.now,
    onTimeout: (vm, ms) => new ProviderLockedError(`VM ${String(vm.name)} is still ${String(vm.status)} after ${Math.round(ms / 1000)}s (since ${new Date(since).toISOString()}) waiting to ${what}`),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
  });
}

/**
 * After a write sent with `correlation`: waits for its jobs on the session's job watch (one
 * jobs search per tick for every wait in flight), then reads the VM once; only an engine that
 * made no job for it, or a VM not there yet, is polled.
 */
export async function afterJob(s: OvirtSession, correlation: string, id: string, what: string, done: (vm: Json) => boolean, ctx: ActionContext, timeoutMs = 600_000): Promise<Json> {
  const outcome = await s.jobs.wait(correlation, what, ctx, timeoutMs);
  const vm = await getVm(s, id);
  if (done(vm)) return vm;
  if (outcome === 'failed') throw new ProviderTransientError(`VM ${String(vm.name)}: the engine's job to ${what} failed; the VM is ${String(vm.status)}`);
  return waitVm(s, id, what, done, ctx, timeoutMs);
}
