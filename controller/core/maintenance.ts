// Node maintenance: which managed running VMs leave a cordoned node, to where, and how far
// each drain is. Pure: the runtime passes the observation, the desired VMs and the status of
// the last pass, and executes the moves it gets back; the next pass sees where they landed.
import type { MaintenanceEntry, MaintenanceStatus } from '../api/types.ts';
import type { VMAction } from './actions.ts';
import type { DesiredVM, Observation, ObservedNode, ObservedVM } from './model.ts';
import { eligibleNodes, placementScore } from './placement.ts';
import { findObserved } from './plan.ts';

/** A VM this controller reconciles on the Hypervisor. */
export interface ManagedVM {
  key: string;
  desired: DesiredVM;
}

export interface DrainInput {
  entries: readonly MaintenanceEntry[];
  /** The hypervisor's observation, cordons applied or not (applyCordons is idempotent). */
  observation: Observation;
  managed: readonly ManagedVM[];
  liveMigration: boolean;
  /** Migrations in flight at once on this hypervisor (migration.maxConcurrent). */
  maxConcurrent: number;
  /** The status of the last pass (what was moved, what was being moved). */
  previous?: readonly MaintenanceStatus[];
  /** oVirt: whether the provider can put a host in the engine's own maintenance (a NodeClient). */
  hostMaintenance: boolean;
  /** Now (ms), to hold back a move that failed a moment ago. */
  now?: number;
  /** How long a failed move waits before it is tried again (default 60 s). */
  retryAfterMs?: number;
  /** How far each migrating VM (by name on the hypervisor) is, in percent, where known. */
  progress?: ReadonlyMap<string, number>;
}

export interface DrainMove {
  key: string;
  node: string;
  action: Extract<VMAction, { type: 'migrate' }>;
  summary: string;
}

export interface HostMaintenanceStep {
  node: string;
  on: boolean;
}

export interface DrainResult {
  moves: DrainMove[];
  host: HostMaintenanceStep[];
  /** One per entry (and per node whose host maintenance is still being lifted). */
  status: MaintenanceStatus[];
  /** Nothing more to do now: no move in flight or to start, no host step pending. */
  settled: boolean;
}

/** The observation with every node of an entry marked cordoned (nothing is placed there). */
export function applyCordons(obs: Observation, entries: readonly MaintenanceEntry[] | undefined): Observation {
  if (!entries?.length) return obs;
  const reason = new Map(entries.map((e) => [e.node, e.reason ?? '']));
  return { ...obs, nodes: obs.nodes.map((n) => (reason.has(n.name) ? { ...n, cordoned: reason.get(n.name) ?? '' } : n)) };
}

const isRunning = (v: ObservedVM) => v.power === 'running' || v.power === 'paused';
const isMigrating = (v: ObservedVM) => !!v.migration || v.busy === 'migrate' || v.busy === 'migrating';
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The VMs already migrating off the nodes of the entries (a move of an earlier process, or another client's). */
export function migratingOff(obs: Observation, entries: readonly MaintenanceEntry[]): ObservedVM[] {
  const nodes = new Set(entries.map((e) => e.node));
  return obs.vms.filter((v) => !v.isTemplate && v.node !== undefined && nodes.has(v.node) && isMigrating(v));
}

export function planDrain(input: DrainInput): DrainResult {
  const obs = applyCordons(input.observation, input.entries);
  const mine = input.managed.flatMap((m) => {
    const vm = findObserved(obs, m.desired.owner, m.desired.name).mine;
    return vm ? [{ ...m, vm }] : [];
  });
  const prev = new Map((input.previous ?? []).map((p) => [p.node, p]));
  // Memory promised to targets in this pass, so a burst does not overfill one node.
  const promised = new Map<string, number>();
  const planned = new Map<string, number>();
  let slots = Math.max(0, input.maxConcurrent - mine.filter((m) => isMigrating(m.vm)).length);
  const moves: DrainMove[] = [];
  const host: HostMaintenanceStep[] = [];
  const status: MaintenanceStatus[] = [];

  for (const entry of input.entries) {
    const node = obs.nodes.find((n) => n.name === entry.node);
    const before = prev.get(entry.node);
    const on = mine.filter((m) => m.vm.node === entry.node && isRunning(m.vm));
    const foreign = obs.vms.filter((v) => !v.isTemplate && v.node === entry.node && isRunning(v) && !mine.some((m) => m.vm.providerID === v.providerID)).length;
    // Moved: what the last pass was moving (or had moved) that now runs elsewhere.
    const earlier = new Set([...(before?.moved ?? []), ...(before?.migrating ?? [])]);
    const moved = mine.filter((m) => earlier.has(m.vm.name) && m.vm.node !== entry.node).map((m) => m.vm.name);
    const migrating: string[] = [];
    const pinned: string[] = [];
    const waiting: string[] = [];
    // A move that failed is held back a while (the reason stays in status), then tried again.
    const retryAt = (f: { at: string }) => Date.parse(f.at) + (input.retryAfterMs ?? 60_000);
    const failures = (before?.failures ?? []).filter((f) => input.now !== undefined && retryAt(f) > input.now && on.some((m) => m.vm.name === f.vm));
    for (const m of on) {
      const failed = failures.find((f) => f.vm === m.vm.name);
      if (isMigrating(m.vm)) migrating.push(m.vm.name);
      else if (failed) waiting.push(`${m.vm.name} (migration failed: ${failed.message}; tried again after ${new Date(retryAt(failed)).toISOString()})`);
      else if (m.desired.placement.node === entry.node && !entry.evictPinned) pinned.push(m.vm.name);
      else if (!input.liveMigration) waiting.push(`${m.vm.name} (this hypervisor cannot live-migrate)`);
      else if (m.vm.busy) waiting.push(`${m.vm.name} (busy: ${m.vm.busy})`);
      else {
        const to = target(m.desired, m.vm, obs.nodes, planned, promised);
        if (!to)
          waiting.push(
            `${m.vm.name} (no eligible node${m.desired.placement.allowedNodes ? ` among ${m.desired.placement.allowedNodes.join(', ')}` : ''} with ${Math.round(m.desired.memoryBytes / 2 ** 20)} MiB free)`,
          );
        else if (slots === 0) waiting.push(`${m.vm.name} (queued)`);
        else {
          slots--;
          planned.set(to, (planned.get(to) ?? 0) + 1);
          promised.set(to, (promised.get(to) ?? 0) + m.desired.memoryBytes);
          migrating.push(m.vm.name);
          const action: DrainMove['action'] = {
            type: 'migrate',
            target: { providerID: m.vm.providerID, name: m.vm.name, node: entry.node, ...(m.vm.owner ? { owner: m.vm.owner } : {}) },
            to,
          };
          moves.push({ key: m.key, node: entry.node, action, summary: `live-migrate ${m.vm.name} from ${entry.node} to ${to} (node maintenance${entry.reason ? `: ${entry.reason}` : ''})` });
        }
      }
    }
    const movable = on.length - pinned.length;
    const total = moved.length + on.length;
    const empty = on.length === 0;
    const hostWanted = !!entry.hostMaintenance && input.hostMaintenance;
    const inHostMaintenance = node?.state === 'maintenance';
    if (hostWanted && empty && foreign === 0 && !inHostMaintenance) host.push({ node: entry.node, on: true });
    const blocked = waiting.some((w) => !w.endsWith('(queued)'));
    const phase: MaintenanceStatus['phase'] = movable > 0 ? (blocked && migrating.length === 0 ? 'Blocked' : 'Draining') : hostWanted && inHostMaintenance ? 'HostMaintenance' : 'Drained';
    const parts = [
      `${moved.length} of ${plural(total, 'VM')} moved`,
      ...(migrating.length ? [`${migrating.length} migrating${percents(migrating, (n) => input.progress?.get(n) ?? on.find((m) => m.vm.name === n)?.vm.migration?.progress)}`] : []),
      ...(pinned.length ? [`${pinned.length} pinned`] : []),
      ...(waiting.length ? [`waiting: ${waiting.join(', ')}`] : []),
      ...(foreign ? [`${plural(foreign, 'VM')} not managed by virtkeeper still running`] : []),
      ...(hostWanted ? [inHostMaintenance ? 'host in maintenance' : empty && foreign === 0 ? 'host maintenance requested' : 'host maintenance once empty'] : []),
    ];
    status.push({
      node: entry.node,
      ...(entry.reason ? { reason: entry.reason } : {}),
      phase,
      moved,
      remaining: on.length,
      ...(migrating.length ? { migrating } : {}),
      ...(pinned.length ? { pinned } : {}),
      ...(failures.length ? { failures } : {}),
      ...(hostWanted ? { host: inHostMaintenance ? 'maintenance' : empty && foreign === 0 ? 'requested' : 'waiting' } : {}),
      message: `${entry.node}: ${parts.join(', ')}`,
    });
  }

  // A lifted entry (or one that no longer asks for it) whose host we put in maintenance: activate it.
  for (const p of input.previous ?? []) {
    if (!p.host || p.host === 'waiting') continue;
    const still = input.entries.find((e) => e.node === p.node);
    if (still?.hostMaintenance) continue;
    const node = obs.nodes.find((n) => n.name === p.node);
    if (!node || node.state === 'online') continue;
    if (input.hostMaintenance) host.push({ node: p.node, on: false });
    if (!still) status.push({ node: p.node, phase: 'HostMaintenance', host: 'activating', message: `${p.node}: maintenance lifted, host being activated` });
  }

  const inFlight = status.some((s) => s.phase === 'Draining');
  return { moves, host, status, settled: moves.length === 0 && host.length === 0 && !inFlight };
}

/** ` (40 %, 75 %)`: the migrating VMs' progress (what the moves report, else what the list showed), those known. */
function percents(names: readonly string[], progress: (name: string) => number | undefined): string {
  const known = names.flatMap((n) => {
    const p = progress(n);
    return p === undefined ? [] : [`${p} %`];
  });
  return known.length ? ` (${known.join(', ')})` : '';
}

/** Where a VM leaving a cordoned node goes: an eligible node other than its own, with room. */
function target(d: DesiredVM, vm: ObservedVM, nodes: readonly ObservedNode[], planned: Map<string, number>, promised: Map<string, number>): string | undefined {
  const free = (n: ObservedNode) => (n.memoryBytes === undefined ? Number.POSITIVE_INFINITY : n.memoryBytes - (n.memoryUsedBytes ?? 0) - (promised.get(n.name) ?? 0));
  // An evicted pinned VM goes where its other placement rules allow; its pin is the node being drained.
  const { node: _pin, ...rules } = d.placement;
  const unpinned: DesiredVM = { ...d, placement: { ...rules, strategy: rules.strategy === 'Pinned' ? 'LeastLoaded' : rules.strategy } };
  const candidates = eligibleNodes(unpinned, nodes).filter((n) => n.name !== vm.node && free(n) >= d.memoryBytes);
  const score = placementScore(unpinned, planned);
  return [...candidates].sort((a, b) => score(a) - score(b) || a.name.localeCompare(b.name))[0]?.name;
}

/** The Hypervisor's Maintenance condition from the drains' status. */
export function maintenanceCondition(status: readonly MaintenanceStatus[]): { status: 'True' | 'False'; reason: string; message: string } {
  if (status.length === 0) return { status: 'False', reason: 'NoMaintenance', message: 'no node in maintenance' };
  const message = status.map((s) => s.message ?? s.node).join('; ');
  if (status.some((s) => s.phase === 'Blocked')) return { status: 'False', reason: 'Blocked', message };
  if (status.some((s) => s.phase === 'Draining')) return { status: 'False', reason: 'Draining', message };
  if (status.some((s) => s.host === 'requested' || s.host === 'activating')) return { status: 'False', reason: 'HostMaintenancePending', message };
  return { status: 'True', reason: status.some((s) => s.pinned?.length) ? 'DrainedExceptPinned' : 'Drained', message };
}
