// The engine's behaviour: VM lifecycle with its asynchrony (image_locked while disks copy,
// wait_for_launch → powering_up → up, migrating), hot-plug rules and next-run staging,
// disk growth, jobs and events. The state, timers, jobs and events live here; what each kind
// does lives in engine/{vms,disks,templates}.ts, called through the methods below.
import type { EngineCore, Timings } from './engine-core.ts';
import * as disks from './engine/disks.ts';
import * as templates from './engine/templates.ts';
import * as vms from './engine/vms.ts';
import { id, type EngineState, type SimDisk, type SimTemplate, type SimVM } from './model.ts';
import type { Tree } from './representation.ts';
import { conflict, notFound } from './faults.ts';

export { badRequest, conflict, Fault, notFound } from './faults.ts';

export type { EngineCore, Timings } from './engine-core.ts';

export class Engine implements EngineCore {
  state: EngineState;
  readonly t: Timings;
  private readonly timers = new Set<NodeJS.Timeout>();
  constructor(state: EngineState, timings: Timings) {
    this.state = state;
    this.t = timings;
  }

  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
  }

  event(code: number, description: string, vm?: string, correlation?: string, severity: 'normal' | 'warning' | 'error' = 'normal'): void {
    const s = this.state;
    s.events.push({ id: String(s.nextEvent), index: s.nextEvent++, code, severity, time: Date.now(), description, ...(vm ? { vm } : {}), ...(correlation ? { correlation_id: correlation } : {}) });
    if (s.events.length > 5000) s.events.splice(0, s.events.length - 5000);
  }

  job(description: string, correlation: string | undefined, ms: number, done?: () => void): void {
    const j = { id: id(), description, status: 'started' as 'started' | 'finished' | 'failed', start_time: Date.now(), ...(correlation ? { correlation_id: correlation } : {}) };
    this.state.jobs.push(j);
    this.later(ms, () => {
      j.status = 'finished';
      Object.assign(j, { end_time: Date.now() });
      done?.();
    });
  }

  vm(vmId: string): SimVM {
    const v = this.state.vms.find((x) => x.id === vmId);
    if (!v) throw notFound();
    return v;
  }

  /** Refuses `what` while the VM or one of its disks is locked or mid-transition. */
  locked(vm: SimVM, what: string): void {
    if (vm.status === 'image_locked' || vm.attachments.some((a) => this.state.disks.find((d) => d.id === a.disk)?.status === 'locked')) {
      throw conflict(`[Cannot ${what}. VM is locked. Please try again in a few minutes.]`);
    }
    if (['migrating', 'wait_for_launch', 'powering_up', 'powering_down'].includes(vm.status)) throw conflict(`[Cannot ${what}. Related operation is currently in progress. Please try again later.]`);
  }

  createVm(body: Tree, clone: boolean, correlation: string | undefined): SimVM {
    return vms.createVm(this, body, clone, correlation);
  }
  /** Edits a VM: live where the hot-plug rules allow, the rest in the next-run configuration. */
  updateVm(vm: SimVM, body: Tree, nextRunOnly: boolean): void {
    vms.updateVm(this, vm, body, nextRunOnly);
  }
  action(vm: SimVM, name: string, body: Tree, correlation: string | undefined): void {
    vms.action(this, vm, name, body, correlation);
  }
  deleteVm(vm: SimVM, options: { detachOnly?: boolean } = {}): void {
    vms.deleteVm(this, vm, options);
  }
  growDisk(vm: SimVM, attachmentId: string, size: number, correlation?: string): void {
    disks.growDisk(this, vm, attachmentId, size, correlation);
  }
  newDisk(disk: Tree, fallbackName: string): SimDisk {
    return disks.newDisk(this, disk, fallbackName);
  }
  holderOf(diskId: string): SimVM | undefined {
    return disks.holderOf(this, diskId);
  }
  updateDisk(d: SimDisk, change: { alias?: string; description?: string }): void {
    disks.updateDisk(d, change);
  }
  /** Grows a disk, attached or not; its job carries the request's correlation id, as the engine's do. */
  growFloating(d: SimDisk, size: number, correlation?: string): void {
    disks.growFloating(this, d, size, correlation);
  }
  removeDisk(d: SimDisk): void {
    disks.removeDisk(this, d);
  }
  addDisk(vm: SimVM, body: Tree): SimVM['attachments'][number] {
    return disks.addDisk(this, vm, body);
  }
  templateFromVm(body: Tree, vm: SimVM, correlation: string | undefined): SimTemplate {
    return templates.templateFromVm(this, body, vm, correlation);
  }
}
