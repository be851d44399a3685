// plan(desired, observed) → steps: the pure heart of the reconciler. No I/O, no clock.
import type { FieldChange, PlannedStep, Target, VMAction } from './actions.ts';
import {
  describeOwner,
  sameOwnerRef,
  type Capabilities,
  type CpuTopology,
  type DesiredNic,
  type DesiredVM,
  type Observation,
  type ObservedDisk,
  type ObservedNic,
  type ObservedVM,
  type OwnerRef,
  type PendingCreate,
} from './model.ts';
import { chooseNode, pinnedToCordoned } from './placement.ts';
import { formatBytes } from '../api/quantity.ts';
import { describeId, parseKey } from '../api/keys.ts';
import { adoptionRefusal, namespaceRefusal, poolGrantee, poolGrantRefusal, type NamespaceRights } from './tenancy.ts';

export interface Refusal {
  /** Stable code, e.g. VK_REFUSED_SHRINK. */
  code: string;
  message: string;
  field?: string;
}

/** What is left of a resource that was removed from its source, enough to delete its VM. */
export interface Removed {
  key: string;
  hypervisor: string;
  owner: OwnerRef;
  name: string;
  deletionPolicy: 'Delete' | 'Orphan';
  protection: boolean;
}

export interface PlanInput {
  desired?: DesiredVM;
  removed?: Removed;
  observation: Observation;
  capabilities: Capabilities;
  planned?: ReadonlyMap<string, number>;
  /** What the VM's namespace may do on its Hypervisor (default: everything). */
  rights?: NamespaceRights;
  /** This resource's create that was asked and not yet seen finished (from its status). */
  pendingCreate?: PendingCreate;
}

/** A condition the plan sets on the VM's status (e.g. UnlistedDevices on an adopted VM). */
export interface PlanCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface PlanResult {
  steps: PlannedStep[];
  refusals: Refusal[];
  /** Set when the VM is busy (a lock, a copy, a migration) and the pass should come back later. */
  waiting?: string;
  restartRequired?: { reason: string; message: string };
  observed?: ObservedVM;
  conditions?: PlanCondition[];
}

/**
 * The VM carrying this owner's marker: this instance's, or one from before instances (another
 * instance's never matches). Two carrying it are `duplicates` and neither is `mine`: which one
 * is the VM is a person's call, never the order hosts answered in.
 */
export function findObserved(obs: Observation, owner: OwnerRef, name: string): { mine?: ObservedVM; clash?: ObservedVM; duplicates?: ObservedVM[] } {
  const candidates = obs.vms.filter((v) => !v.isTemplate);
  const marked = candidates.filter((v) => sameOwnerRef(v.owner, owner));
  if (marked.length > 1) return { duplicates: marked };
  const mine = marked[0];
  if (mine) return { mine };
  const clash = candidates.find((v) => v.name === name);
  return clash ? { clash } : {};
}

function duplicateRefusal(name: string, vms: ObservedVM[]): Refusal {
  const where = vms.map((v) => `${v.providerID}${v.node ? ` on ${v.node}` : ''}`).join(', ');
  return { code: 'VK_REFUSED_DUPLICATE', message: `${vms.length} VMs carry the marker of ${name} (${where}); virtkeeper changes neither until one is removed or renamed by hand` };
}

/** Why nothing may be created or deleted: nodes that could hold the VM did not answer. */
function unreadable(obs: Observation, name: string): string | undefined {
  const nodes = obs.unreachable ?? [];
  return nodes.length
    ? `node${nodes.length > 1 ? 's' : ''} ${nodes.join(', ')} cannot be read and may hold VM ${name}; nothing is created, moved or deleted for it until ${nodes.length > 1 ? 'they answer' : 'it answers'}`
    : undefined;
}

function targetOf(vm: ObservedVM): Target {
  return { providerID: vm.providerID, name: vm.name, ...(vm.node ? { node: vm.node } : {}), ...(vm.owner ? { owner: vm.owner } : {}) };
}

const vcpus = (c: CpuTopology) => c.sockets * c.cores * c.threads;
const cpuText = (c: CpuTopology) => `${c.sockets}x${c.cores}x${c.threads}`;

function step(resource: string, hypervisor: string, action: VMAction, extra: Partial<PlannedStep> & Pick<PlannedStep, 'summary'>): PlannedStep {
  const symbol = action.type === 'create' ? '+' : action.type === 'delete' ? '-' : ['start', 'stop', 'restart', 'migrate'].includes(action.type) ? '>' : '~';
  return {
    resource,
    hypervisor,
    action,
    symbol,
    changes: [],
    disruptive: ['stop', 'restart', 'delete'].includes(action.type),
    live: false,
    ...extra,
  };
}

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

/** The disks and NICs of a VM beyond those its spec lists: what pruning would detach. */
function unlisted(d: DesiredVM, vm: ObservedVM): { disks: ObservedDisk[]; nics: ObservedNic[] } {
  return {
    disks: d.disks.length > 0 ? vm.disks.filter((x) => !x.standalone).slice(d.disks.length) : [],
    nics: d.nics.length > 0 ? vm.nics.slice(d.nics.length) : [],
  };
}

function unlistedText(u: ReturnType<typeof unlisted>, verb: string): string {
  return [...u.disks.map((x) => `disk ${x.name} (${formatBytes(x.sizeBytes)})`), ...u.nics.map((n) => `nic ${n.name} (${nicText(n)})`)].map((t) => `${t} is not in the spec; ${verb}`).join('; ');
}

/** On an adopted VM: which devices the spec leaves out, kept unless pruning is asked. */
function unlistedCondition(d: DesiredVM, vm: ObservedVM): PlanCondition {
  const u = unlisted(d, vm);
  const prune = d.adopt !== false && d.adopt.prune;
  if (u.disks.length + u.nics.length === 0) return { type: 'UnlistedDevices', status: 'False', reason: 'AllListed', message: `every disk and NIC of ${d.name} is in the spec` };
  return prune
    ? { type: 'UnlistedDevices', status: 'True', reason: 'Pruning', message: unlistedText(u, 'detached (adopt.prune: true)') }
    : { type: 'UnlistedDevices', status: 'True', reason: 'Kept', message: `${unlistedText(u, 'kept')}; list them in the spec, or set spec.adopt: {prune: true} to detach them` };
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

function planDesired(d: DesiredVM, input: PlanInput): PlanResult {
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
      const pending: Target = { providerID: '', name: d.name, ...(node ? { node } : {}), owner: d.owner };
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

function nicText(n: { network?: string; vlan?: number; model?: string }): string {
  return `${n.model ?? 'virtio'} on ${n.network ?? 'default'}${n.vlan ? ` vlan ${n.vlan}` : ''}`;
}

function nicDiffers(want: DesiredNic, have: ObservedNic): boolean {
  return (
    (want.network !== undefined && want.network !== have.network) ||
    (want.vlan ?? undefined) !== (have.vlan ?? undefined) ||
    (want.mac !== undefined && want.mac !== have.mac?.toLowerCase()) ||
    (have.model !== undefined && want.model !== have.model)
  );
}

function planExisting(d: DesiredVM, observedVM: ObservedVM, input: PlanInput): PlanResult {
  // Disks that are VirtualDisks of their own are theirs to manage, not this VM's.
  const vm: ObservedVM = { ...observedVM, disks: observedVM.disks.filter((x) => !x.standalone) };
  const caps = input.capabilities;
  const steps: PlannedStep[] = [];
  const refusals: Refusal[] = [];
  const target = targetOf(vm);
  const mk = (action: VMAction, extra: Partial<PlannedStep> & Pick<PlannedStep, 'summary'>) => step(d.key, d.hypervisor, action, extra);
  if (vm.busy) return { steps, refusals, waiting: `VM ${vm.name} is busy (${vm.busy})${vm.busySince ? ` since ${vm.busySince}` : ''}`, observed: vm };

  const running = vm.power === 'running';
  // An adopted VM keeps the disks and NICs its spec does not list, unless pruning is asked.
  const keepUnlisted = !!vm.adopted && !(d.adopt !== false && d.adopt.prune);
  let restartRequired: PlanResult['restartRequired'];
  let waiting: string | undefined;
  let needsRestart = false;

  // Disks first: a shrink refuses the whole VM before anything is touched.
  if (d.disks.length > 0) {
    d.disks.forEach((want, i) => {
      const have = vm.disks[i];
      if (have && have.sizeBytes > want.sizeBytes * 1.01) {
        refusals.push({
          code: 'VK_REFUSED_SHRINK',
          field: `spec.disks[${i}].size`,
          message: `disk ${want.name} is ${formatBytes(have.sizeBytes)} on the hypervisor and the spec asks ${formatBytes(want.sizeBytes)}: disks only grow`,
        });
      }
    });
    if (refusals.length > 0) return { steps: [], refusals, observed: vm };
  }

  // CPU and memory: live when the hypervisor can, else per updatePolicy. What is already
  // staged for the next boot counts as done: it is not staged again on every pass.
  const next = { cpu: vm.pending?.cpu ?? vm.cpu, memoryBytes: vm.pending?.memoryBytes ?? vm.memoryBytes, maxMemoryBytes: vm.pending?.maxMemoryBytes ?? vm.maxMemoryBytes };
  const cpuChanged = vcpus(d.cpu) !== vcpus(next.cpu) || (caps.cpuTopology !== false && (d.cpu.sockets !== next.cpu.sockets || d.cpu.cores !== next.cpu.cores));
  const memChanged = d.memoryBytes !== next.memoryBytes;
  const maxChanged = d.maxMemoryBytes !== undefined && next.maxMemoryBytes !== undefined && d.maxMemoryBytes !== next.maxMemoryBytes;
  if (cpuChanged || memChanged || maxChanged) {
    const cpuLive =
      cpuChanged &&
      running &&
      caps.liveCpu &&
      (vcpus(d.cpu) >= vcpus(vm.cpu) || caps.liveCpuDecrease) &&
      (!caps.liveCpuSocketsOnly || (d.cpu.cores === vm.cpu.cores && d.cpu.threads === vm.cpu.threads));
    const ceiling = vm.maxMemoryBytes ?? 0;
    const memLive =
      memChanged &&
      running &&
      caps.liveMemory &&
      d.memoryBytes > vm.memoryBytes &&
      d.memoryBytes <= ceiling &&
      (!caps.liveMemoryStepBytes || (d.memoryBytes - vm.memoryBytes) % caps.liveMemoryStepBytes === 0);
    const live: FieldChange[] = [];
    const cold: FieldChange[] = [];
    const cpuChange = { field: 'cpu', from: cpuText(vm.cpu), to: cpuText(d.cpu) };
    const memChange = { field: 'memory', from: formatBytes(vm.memoryBytes), to: formatBytes(d.memoryBytes) };
    if (cpuChanged) (cpuLive ? live : cold).push(cpuChange);
    if (memChanged) (memLive ? live : cold).push(memChange);
    if (maxChanged) cold.push({ field: 'maxMemory', from: formatBytes(vm.maxMemoryBytes ?? 0), to: formatBytes(d.maxMemoryBytes ?? 0) });
    if (!running) {
      steps.push(
        mk(
          {
            type: 'reconfigure',
            target,
            ...(cpuChanged ? { cpu: d.cpu } : {}),
            ...(memChanged ? { memoryBytes: d.memoryBytes } : {}),
            ...(maxChanged ? { maxMemoryBytes: d.maxMemoryBytes } : {}),
            mode: 'offline',
          },
          { summary: `reconfigure ${d.name} (stopped)`, changes: [...live, ...cold] },
        ),
      );
    } else {
      if (live.length > 0) {
        steps.push(
          mk(
            { type: 'reconfigure', target, ...(cpuLive ? { cpu: d.cpu } : {}), ...(memLive ? { memoryBytes: d.memoryBytes } : {}), mode: 'live' },
            { summary: `change ${live.map((c) => c.field).join(' and ')} of ${d.name} live`, changes: live, live: true },
          ),
        );
      }
      if (cold.length > 0) {
        const fields = cold.map((c) => c.field).join(', ');
        if (d.updatePolicy === 'Live') {
          restartRequired = { reason: 'LiveUpdateNotPossible', message: `${fields} cannot change while ${d.name} runs; set updatePolicy: RestartAllowed or NextBoot, or stop the VM` };
        } else {
          steps.push(
            mk(
              {
                type: 'reconfigure',
                target,
                ...(cpuChanged && !cpuLive ? { cpu: d.cpu } : {}),
                ...(memChanged && !memLive ? { memoryBytes: d.memoryBytes } : {}),
                ...(maxChanged ? { maxMemoryBytes: d.maxMemoryBytes } : {}),
                mode: 'staged',
              },
              { summary: `stage ${fields} of ${d.name} for the next boot`, changes: cold },
            ),
          );
          if (d.updatePolicy === 'RestartAllowed') needsRestart = true;
          else restartRequired = { reason: 'PendingNextBoot', message: `${fields} staged; applied at the next reboot of ${d.name}` };
        }
      }
    }
  }

  if (d.disks.length > 0) {
    d.disks.forEach((want, i) => {
      const have = vm.disks[i];
      if (!have) {
        steps.push(
          mk(
            { type: 'attachDisk', target, disk: want, index: i },
            { summary: `add disk ${want.name} to ${d.name}`, changes: [{ field: `disk ${want.name}`, to: formatBytes(want.sizeBytes) }], live: running },
          ),
        );
      } else if (want.sizeBytes > have.sizeBytes) {
        if (!caps.diskGrow) refusals.push({ code: 'VK_REFUSED_UNSUPPORTED', field: `spec.disks[${i}].size`, message: `this hypervisor cannot grow disks` });
        else
          steps.push(
            mk(
              { type: 'growDisk', target, disk: have.name, index: i, sizeBytes: want.sizeBytes },
              { summary: `grow disk ${want.name} of ${d.name}`, changes: [{ field: `disk ${want.name}`, from: formatBytes(have.sizeBytes), to: formatBytes(want.sizeBytes) }], live: running },
            ),
          );
      }
    });
    if (!keepUnlisted)
      vm.disks.slice(d.disks.length).forEach((have, j) => {
        const index = d.disks.length + j;
        steps.push(
          mk(
            { type: 'detachDisk', target, disk: have.name, index },
            { summary: `detach disk ${have.name} from ${d.name}`, changes: [{ field: `disk ${have.name}`, from: formatBytes(have.sizeBytes) }], live: running },
          ),
        );
      });
  }

  if (d.nics.length > 0) {
    d.nics.forEach((want, i) => {
      const have = vm.nics[i];
      if (!have)
        steps.push(
          mk({ type: 'attachNic', target, nic: want, index: i }, { summary: `add nic ${want.name} to ${d.name}`, changes: [{ field: `nic ${want.name}`, to: nicText(want) }], live: running }),
        );
      else if (nicDiffers(want, have))
        steps.push(
          mk(
            { type: 'updateNic', target, nic: want, index: i },
            { summary: `change nic ${want.name} of ${d.name}`, changes: [{ field: `nic ${want.name}`, from: nicText(have), to: nicText(want) }], live: running },
          ),
        );
    });
    if (!keepUnlisted)
      vm.nics.slice(d.nics.length).forEach((have, j) => {
        steps.push(
          mk(
            { type: 'detachNic', target, nic: have.name, index: d.nics.length + j },
            { summary: `remove nic ${have.name} from ${d.name}`, changes: [{ field: `nic ${have.name}`, from: nicText(have) }], live: running },
          ),
        );
      });
  }

  // Placement: a pinned node that differs, or a node no longer allowed, means migration.
  const wantNode = d.placement.node ?? (vm.node && d.placement.allowedNodes && !d.placement.allowedNodes.includes(vm.node) ? chooseNode({ vm: d, nodes: input.observation.nodes }) : undefined);
  const blind = wantNode && vm.node && wantNode !== vm.node ? unreadable(input.observation, d.name) : undefined;
  if (blind) waiting = blind;
  // A node in maintenance takes nothing: a pinned VM a drain evicted returns once the entry is removed.
  else if (wantNode && vm.node && wantNode !== vm.node && !input.observation.nodes.some((n) => n.name === wantNode && n.cordoned !== undefined)) {
    if (running && !caps.liveMigration) refusals.push({ code: 'VK_REFUSED_UNSUPPORTED', field: 'spec.placement.node', message: `this hypervisor cannot migrate a running VM; stop ${d.name} first` });
    else
      steps.push(
        mk(
          { type: 'migrate', target, to: wantNode },
          { summary: `${running ? 'live-' : ''}migrate ${d.name} from ${vm.node} to ${wantNode}`, changes: [{ field: 'node', from: vm.node, to: wantNode }], live: running },
        ),
      );
  }

  if (d.autostart !== undefined && vm.autostart !== undefined && d.autostart !== vm.autostart) {
    steps.push(
      mk(
        { type: 'setAutostart', target, enabled: d.autostart },
        { summary: `${d.autostart ? 'enable' : 'disable'} autostart of ${d.name}`, changes: [{ field: 'autostart', from: String(vm.autostart), to: String(d.autostart) }], live: true },
      ),
    );
  }

  if (vm.pendingRestart && d.updatePolicy === 'RestartAllowed') needsRestart = true;
  else if (vm.pendingRestart && !restartRequired && running) restartRequired = { reason: 'PendingChanges', message: `${d.name} has configuration waiting for a restart` };

  if (d.runStrategy === 'Always' && vm.power !== 'running' && vm.power !== 'starting') {
    steps.push(mk({ type: 'start', target }, { summary: `start VM ${d.name}` }));
  } else if (d.runStrategy === 'Halted' && (vm.power === 'running' || vm.power === 'paused')) {
    steps.push(mk({ type: 'stop', target }, { summary: `stop VM ${d.name}` }));
  } else if (needsRestart && running) {
    steps.push(mk({ type: 'restart', target }, { summary: `restart ${d.name} to apply staged changes (updatePolicy: RestartAllowed)` }));
  }
  const result: PlanResult = { steps: refusals.length > 0 ? [] : steps, refusals, observed: vm };
  if (restartRequired) result.restartRequired = restartRequired;
  if (vm.adopted) result.conditions = [unlistedCondition(d, vm)];
  if (waiting) result.waiting = waiting;
  return result;
}
