// What the /nodes/{node}/qemu route files share: their environment, the VM lookup, the lock
// check and starting a task. Apart from qemu.ts so storage, snapshots and console can find a VM
// without importing the qemu routes (no cycle).
import { PveError, truthy, type Params } from './http.ts';
import type { SimState, SimVM } from './model.ts';
import type { Tasks } from './tasks.ts';

export interface QemuEnv {
  state: () => SimState;
  tasks: Tasks;
  durations: Record<string, number>;
  /** Seconds a started VM needs before its guest agent answers. */
  agentDelayMs: number;
}

export function findVM(s: SimState, vmid: string, node?: string): SimVM {
  const vm = s.vms.find((v) => String(v.vmid) === vmid);
  if (!vm || (node && vm.node !== node)) throw new PveError(500, `Configuration file 'nodes/${node ?? 'localhost'}/qemu-server/${vmid}.conf' does not exist`);
  return vm;
}

export function checkLock(vm: SimVM, params: Params): void {
  if (vm.lock && !truthy(params.skiplock)) throw new PveError(500, `VM is locked (${vm.lock})`);
}

export type StartTask = (node: string, type: string, vmid: number | string, user: string, work: () => void) => string;

/** Starts a task of `type` taking its configured duration, as a real node's worker. */
export function taskStarter(env: QemuEnv): StartTask {
  const dur = (type: string) => env.durations[type] ?? env.durations.default ?? 200;
  return (node, type, vmid, user, work) => env.tasks.start({ node, type, id: String(vmid), user, durationMs: dur(type), work });
}
