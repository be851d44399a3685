// plan(desired, observed) → steps: the pure heart of the reconciler. No I/O, no clock. A VM
// not there (create, adopt, finish a create) is plan-missing.ts, one that is there
// plan-existing.ts; a removed one is deleted here.
import { describeId, parseKey } from '../api/keys.ts';
import { planDesired } from './plan-missing.ts';
import { duplicateRefusal, findObserved, unreadable } from './plan-observed.ts';
import { step, targetOf } from './plan-steps.ts';
import type { PlanInput, PlanResult, Removed } from './plan-types.ts';
import type { Observation } from './model.ts';
import { namespaceRefusal } from './tenancy.ts';

export type { PlanCondition, PlanInput, PlanResult, Refusal, Removed } from './plan-types.ts';
export { findObserved } from './plan-observed.ts';

export function plan(input: PlanInput): PlanResult {
  const subject = input.desired ?? input.removed;
  // A namespace the Hypervisor does not allow touches nothing there, not even its own VMs.
  if (subject && input.rights && !input.rights.use) {
    return { steps: [], refusals: [namespaceRefusal(describeId(parseKey(subject.key)), subject.hypervisor, subject.owner.namespace ?? 'default')] };
  }
  if (input.desired) return planDesired(input.desired, input);
  if (input.removed) return planRemoval(input.removed, input.observation);
  return { steps: [], refusals: [] };
}

function planRemoval(r: Removed, obs: Observation): PlanResult {
  const { mine, duplicates } = findObserved(obs, r.owner, r.name);
  if (duplicates) return { steps: [], refusals: [duplicateRefusal(r.name, duplicates)] };
  const blind = r.deletionPolicy === 'Delete' ? unreadable(obs, r.name) : undefined;
  if (blind) return { steps: [], refusals: [], waiting: blind, ...(mine ? { observed: mine } : {}) };
  if (!mine) return { steps: [], refusals: [] };
  if (r.deletionPolicy === 'Orphan') return { steps: [], refusals: [], observed: mine };
  if (r.protection) {
    return {
      steps: [],
      refusals: [{ code: 'VK_REFUSED_PROTECTED', message: `VM ${mine.name} has protection: true; set protection: false before removing it, or deletionPolicy: Orphan to leave it` }],
      observed: mine,
    };
  }
  const summary = `delete VM ${mine.name} (${mine.providerID})${mine.power === 'running' ? ', stopping it first' : ''}`;
  return { steps: [step(r.key, r.hypervisor, { type: 'delete', target: targetOf(mine) }, { summary })], refusals: [], observed: mine };
}
