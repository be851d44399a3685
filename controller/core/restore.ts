// The steps of a VirtualMachineRestore, pure: stop the VM when the hypervisor cannot revert a
// running one (refused under updatePolicy Live: that policy promises no restart), revert, and
// start it again as its runStrategy says (Manual: as it was).
import type { PowerState, RunStrategy, UpdatePolicy } from './model.ts';
import type { Refusal } from './plan.ts';

export type RestoreStep = 'stop' | 'revert' | 'start';

export interface RestoreInput {
  vm: string;
  snapshot: string;
  power: PowerState;
  runStrategy: RunStrategy;
  updatePolicy: UpdatePolicy;
  revertNeedsStop: boolean;
}

export interface RestorePlan {
  steps: RestoreStep[];
  refusal?: Refusal;
}

export function restoreSteps(i: RestoreInput): RestorePlan {
  const running = i.power !== 'stopped';
  const mustStop = running && i.revertNeedsStop;
  if (mustStop && i.updatePolicy === 'Live') {
    return {
      steps: [],
      refusal: {
        code: 'VK_REFUSED_RESTORE_LIVE',
        message: `VM ${i.vm} is ${i.power} under updatePolicy Live, and reverting it to ${i.snapshot} needs it stopped on this hypervisor; set updatePolicy: RestartAllowed, or stop it first (runStrategy: Halted)`,
      },
    };
  }
  const startAfter = i.runStrategy === 'Always' || (i.runStrategy === 'Manual' && running);
  return { steps: [...(mustStop ? (['stop'] as const) : []), 'revert', ...(startAfter ? (['start'] as const) : [])] };
}

/** The steps still to do after those recorded as done (a restore interrupted resumes, never reverts twice). */
export function remainingSteps(steps: readonly RestoreStep[], done: readonly string[]): RestoreStep[] {
  return steps.slice(done.length);
}
