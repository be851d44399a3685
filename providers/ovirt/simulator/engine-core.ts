// What the engine's per-kind functions (engine/{vms,disks,templates}.ts) use of the Engine: its
// state, timers, events, jobs and the few calls across kinds. The Engine implements it; the
// functions take it, so they need not import the class that dispatches to them.
import type { EngineState, SimDisk, SimVM } from './model.ts';
import type { Tree } from './representation.ts';

export interface Timings {
  imageCopyMs: number;
  bootStepMs: number;
  migrateMs: number;
  diskResizeMs: number;
}

export interface EngineCore {
  readonly state: EngineState;
  readonly t: Timings;
  later(ms: number, fn: () => void): void;
  event(code: number, description: string, vm?: string, correlation?: string, severity?: 'normal' | 'warning' | 'error'): void;
  job(description: string, correlation: string | undefined, ms: number, done?: () => void): void;
  /** Refuses `what` while the VM or one of its disks is locked or mid-transition. */
  locked(vm: SimVM, what: string): void;
  newDisk(disk: Tree, fallbackName: string): SimDisk;
  holderOf(diskId: string): SimVM | undefined;
  growFloating(d: SimDisk, size: number, correlation?: string): void;
}
