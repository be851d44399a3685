// Planning a declared VM when no VM carries its marker: finish a create cut short, adopt a VM
// of its name (a pass of its own: it only marks), refuse one owned elsewhere, or create it.
import { describeId, parseKey } from '../api/keys.ts';
import { formatBytes } from '../api/quantity.ts';
import type { FieldChange, PlannedStep, Target, VMAction } from './actions.ts';
import { describeOwner, type DesiredVM, type ObservedVM } from './model.ts';
import { planExisting } from './plan-existing.ts';
import { constrained, duplicateRefusal, findObserved, unreadable } from './plan-observed.ts';
import { cpuText, nicText, step, targetOf, unlisted, unlistedCondition } from './plan-steps.ts';
import type { PlanInput, PlanResult } from './plan-types.ts';
import { chooseNode, pinnedToCordoned } from './placement.ts';
import { adoptionRefusal, poolGrantee, poolGrantRefusal } from './tenancy.ts';

export function planDesired(d: DesiredVM, input: PlanInput): PlanResult {
  const obs = input.observation;
  const { mine, clash, duplicates } = findObserved(obs, d.owner, d.name);
  const mk = (action: VMAction, extra: Partial<PlannedStep> & Pick<PlannedStep, 'summary'>) => step(d.key, d.hypervisor, action, extra);
  if (duplicates) return { steps: [], refusals: [duplicateRefusal(d.name, duplicates)] };
  // A create cut short (a crash, a timeout) is finished where it began, never started again elsewhere.
  if (mine?.incomplete) {
    const steps = [mk({ type: 'create', vm: d, ...(mine.node ? { node: mine.node } : {}) }, { summary: `finish creating VM ${d.name}${mine.node ? ` on ${mine.node}` : ''}` })];
    if (d.runStrategy === 'Always') steps.push(mk({ type: 'start', target: { ...targetOf(mine), providerID: '' } }, { summary: `start VM ${d.name}` }));
    return { steps, refusals: [], observed: mine };
  }

  if (!mine && clash?.ownerUnknown) return { steps: [], refusals: [], waiting: `the marker of VM ${d.name} (${clash.providerID}) could not be read in this pass; looking again` };
  const resuming = input.pendingCreate?.name === d.name && input.pendingCreate.hypervisor === d.hypervisor ? input.pendingCreate : undefined;
  const unfinished = resuming ? (mine ?? (clash && !clash.owner ? clash : undefined)) : undefined;
  if (resuming && unfinished) {
    // Our own create, interrupted after the VM appeared: finish it (mark, configure), once.
    if (unfinished.busy)
      return {
        steps: [],
        refusals: [],
        waiting: `VM ${d.name} is busy (${unfinished.busy})${unfinished.busySince ? ` since ${unfinished.busySince}` : ''}; its creation is finished after that`,
        observed: unfinished,
      };
    const steps = [
      mk(
        { type: 'create', vm: d, ...(unfinished.node ? { node: unfinished.node } : {}), resume: targetOf(unfinished) },
        { summary: `finish creating VM ${d.name} (${unfinished.providerID}), asked at ${resuming.requestedAt}` },
      ),
    ];
    if (d.runStrategy === 'Always' && unfinished.power !== 'running')
      steps.push(mk({ type: 'start', target: { providerID: '', name: d.name, ...(unfinished.node ? { node: unfinished.node } : {}), owner: d.owner } }, { summary: `start VM ${d.name}` }));
    return { steps, refusals: [], ...(mine ? { observed: mine } : {}) };
  }
  if (!mine) {
    // Missing may only mean on a host that did not answer: creating it would make a second one.
    const blind = unreadable(obs, d.name);
    if (blind) return { steps: [], refusals: [], waiting: blind };
    if (clash) {
      if (clash.owner) {
        const elsewhere =
          clash.owner.instance && d.owner.instance && clash.owner.instance !== d.owner.instance
            ? `; another controller (another folder or cluster) manages it: choose another name, or run with --instance ${clash.owner.instance} if that controller is this one`
            : '; choose another name';
        return { steps: [], refusals: [{ code: 'VK_REFUSED_OWNED_ELSEWHERE', message: `a VM named ${d.name} exists and is owned by ${describeOwner(clash.owner)}${elsewhere}` }] };
      }
      if (!d.adopt) {
        return {
          steps: [],
          refusals: [
            {
              code: 'VK_REFUSED_FOREIGN',
              field: 'spec.name',
              message: `a VM named ${d.name} already exists on ${d.hypervisor} and is not managed by virtkeeper; set spec.adopt: true to take it over, or choose another name`,
            },
          ],
        };
      }
      if (input.rights && !input.rights.adopt) return { steps: [], refusals: [adoptionRefusal(describeId(parseKey(d.key)), d.name, d.hypervisor, d.owner.namespace ?? 'default')] };
      // Adoption is a pass of its own: it only marks the VM (and says what the spec leaves out).
      // Every change, and any pruning, is planned on the next pass against the marked VM.
      const seen: ObservedVM = { ...clash, disks: clash.disks.filter((x) => !x.standalone), adopted: true };
      const u = unlisted(d, seen);
      const changes: FieldChange[] = [
        ...u.disks.map((x) => ({ field: `disk ${x.name}`, from: formatBytes(x.sizeBytes), to: 'kept, not in the spec' })),
        ...u.nics.map((n) => ({ field: `nic ${n.name}`, from: nicText(n), to: 'kept, not in the spec' })),
      ];
      const adopt = mk({ type: 'adopt', target: targetOf(clash), owner: d.owner, vm: d }, { summary: `adopt existing VM ${d.name} (${clash.providerID}); nothing else changes in this pass`, changes });
      return { steps: [adopt], refusals: [], conditions: [unlistedCondition(d, seen)] };
    }
    const grantee = input.capabilities.poolAcls ? poolGrantee(d) : undefined;
    if (grantee && d.pool && input.rights && !input.rights.grantPools) {
      return { steps: [], refusals: [poolGrantRefusal(describeId(parseKey(d.key)), grantee, d.pool, d.hypervisor, d.owner.namespace ?? 'default')] };
    }
    if (d.template && input.capabilities.listsTemplates !== false && !obs.templates.some((t) => t.name === d.template)) {
      return { steps: [], refusals: [], waiting: `template ${d.template} is not present on ${d.hypervisor}` };
    }
    const cordoned = pinnedToCordoned(d, obs.nodes);
    if (cordoned) return { steps: [], refusals: [], waiting: cordoned };
    const node = chooseNode({ vm: d, nodes: obs.nodes, ...(input.planned ? { planned: input.planned } : {}) });
    if (!node && obs.nodes.length > 0) return { steps: [], refusals: [{ code: 'VK_REFUSED_NO_NODE', field: 'spec.placement', message: `no online node matches the placement of ${d.name}` }] };
    const changes: FieldChange[] = [
      ...(d.template ? [{ field: 'template', to: `${d.template} (${d.clone} clone)` }] : []),
      ...(node ? [{ field: 'node', to: node }] : []),
      { field: 'cpu', to: cpuText(d.cpu) },
      { field: 'memory', to: formatBytes(d.memoryBytes) },
      ...d.disks.map((x) => ({ field: `disk ${x.name}`, to: formatBytes(x.sizeBytes) })),
      ...d.nics.map((n) => ({ field: `nic ${n.name}`, to: nicText(n) })),
    ];
    const steps = [mk({ type: 'create', vm: d, ...(node ? { node } : {}) }, { summary: `create VM ${d.name}${node ? ` on ${node}` : ''}`, changes })];
    if (d.runStrategy === 'Always') {
      // The node goes with the start only where it constrains (a hypervisor that places at start, oVirt, decides otherwise).
      const startOn = node && constrained(d, obs.nodes) ? node : undefined;
      const pending: Target = { providerID: '', name: d.name, ...(startOn ? { node: startOn } : {}), owner: d.owner };
      steps.push(mk({ type: 'start', target: pending }, { summary: `start VM ${d.name}` }));
    }
    return { steps, refusals: [] };
  }
  const rest = planExisting(d, mine, input);
  if (d.owner.instance && mine.owner && !mine.owner.instance && rest.refusals.length === 0 && !rest.waiting) {
    // A marker from before instances: still ours, and made to name this instance, first.
    return {
      ...rest,
      steps: [
        mk({ type: 'mark', target: targetOf(mine), owner: d.owner }, { summary: `mark VM ${d.name} with controller instance ${d.owner.instance} (its marker predates instances)`, live: true }),
        ...rest.steps,
      ],
    };
  }
  return rest;
}
