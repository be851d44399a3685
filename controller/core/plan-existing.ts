// Planning a VM that is there: refuse a shrink, change CPU and memory (live where the
// hypervisor can, else per updatePolicy), disks and NICs, placement, autostart and power.
import { formatBytes } from '../api/quantity.ts';
import type { FieldChange, PlannedStep, VMAction } from './actions.ts';
import type { DesiredVM, ObservedVM } from './model.ts';
import { constrained, unreadable } from './plan-observed.ts';
import { cpuText, nicDiffers, nicText, step, targetOf, unlistedCondition, vcpus } from './plan-steps.ts';
import type { PlanInput, PlanResult, Refusal } from './plan-types.ts';
import { chooseNode } from './placement.ts';

export function planExisting(d: DesiredVM, observedVM: ObservedVM, input: PlanInput): PlanResult {
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
    // A VM that is on no node while stopped (oVirt) starts where placement says, never on a node in maintenance.
    const startOn = vm.node || !constrained(d, input.observation.nodes) ? undefined : chooseNode({ vm: d, nodes: input.observation.nodes });
    steps.push(mk({ type: 'start', target: startOn ? { ...target, node: startOn } : target }, { summary: `start VM ${d.name}${startOn ? ` on ${startOn}` : ''}` }));
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
