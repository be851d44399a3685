// A plan as people read Terraform's: `+ ~ - >` per resource, field old → new, and a
// summary line. Pure: returns text.
import type { PlannedStep } from '../core/actions.ts';
import { describeId, parseKey } from '../api/keys.ts';
import type { KeyOutcome } from '../runtime/converge.ts';
import type { Style } from './style.ts';

export interface PlanSummary {
  create: number;
  changeLive: number;
  needsRestart: number;
  delete: number;
  power: number;
  refused: number;
  waiting: number;
  /** Snapshots to make, snapshots to prune or delete, restores to apply (the snapshot kinds). */
  snapshots?: number;
  prunes?: number;
  restores?: number;
}

const SNAPSHOT_KINDS = new Set(['VirtualMachineSnapshot', 'VirtualMachineSnapshotSchedule', 'VirtualMachineRestore']);

/** The snapshot kinds count what they make, prune and revert, not as VMs do. */
function countSnapshotKind(s: PlanSummary, o: KeyOutcome): void {
  const intents = o.intents ?? [];
  if (parseKey(o.key).kind === 'VirtualMachineRestore') {
    if (intents.length > 0) s.restores = (s.restores ?? 0) + 1;
  } else {
    s.snapshots = (s.snapshots ?? 0) + intents.filter((i) => i.symbol === '+').length;
    s.prunes = (s.prunes ?? 0) + intents.filter((i) => i.symbol === '-').length;
  }
  if ((o.plan?.refusals.length ?? 0) > 0 || (o.error && !o.plan)) s.refused++;
}

export function summarize(outcomes: readonly KeyOutcome[]): PlanSummary {
  const s: PlanSummary = { create: 0, changeLive: 0, needsRestart: 0, delete: 0, power: 0, refused: 0, waiting: 0 };
  for (const o of outcomes) {
    if (SNAPSHOT_KINDS.has(parseKey(o.key).kind)) {
      countSnapshotKind(s, o);
      continue;
    }
    const steps = o.plan?.steps ?? [];
    // Networks, disks and templates count as VMs do: made, changed, removed, or holding back.
    const intents = o.intents ?? [];
    if (intents.some((i) => i.blocking)) s.waiting++;
    else if (intents.some((i) => i.symbol === '+')) s.create++;
    else if (intents.some((i) => i.symbol === '-')) s.delete++;
    else if (intents.some((i) => i.symbol === '~')) s.changeLive++;
    if (steps.some((x) => x.action.type === 'create')) s.create++;
    else if (steps.some((x) => x.action.type === 'delete')) s.delete++;
    else if (steps.some((x) => x.action.type === 'restart' || (x.action.type === 'reconfigure' && x.action.mode === 'staged')) || o.plan?.restartRequired) s.needsRestart++;
    else if (steps.some((x) => x.symbol === '~' || x.action.type === 'migrate')) s.changeLive++;
    else if (steps.some((x) => x.symbol === '>')) s.power++;
    if ((o.plan?.refusals.length ?? 0) > 0 || (o.error && !o.plan)) s.refused++;
    if (o.plan?.waiting) s.waiting++;
  }
  return s;
}

export function summaryLine(s: PlanSummary): string {
  const parts = [`${s.create} to create`, `${s.changeLive} to change live`, `${s.needsRestart} needs restart`, `${s.delete} to delete`];
  if (s.power) parts.push(`${s.power} to power on/off`);
  if (s.snapshots) parts.push(`${s.snapshots} snapshot${s.snapshots === 1 ? '' : 's'} to make`);
  if (s.prunes) parts.push(`${s.prunes} snapshot${s.prunes === 1 ? '' : 's'} to remove`);
  if (s.restores) parts.push(`${s.restores} restore${s.restores === 1 ? '' : 's'} to apply`);
  if (s.waiting) parts.push(`${s.waiting} waiting`);
  if (s.refused) parts.push(`${s.refused} refused`);
  return `Plan: ${parts.join(', ')}.`;
}

/** Said of what a provider that cannot look without acting yet would do (derived from status). */
export const UNCHECKED = 'not checked against the hypervisor';

const COLORS = { '+': 'green', '~': 'yellow', '-': 'red', '>': 'cyan' } as const;

function stepLines(step: PlannedStep, st: Style): string[] {
  const head = `  ${st.paint(COLORS[step.symbol], step.symbol)} ${step.summary}${step.disruptive ? st.paint('red', ' (disruptive)') : ''}`;
  const mode = step.action.type === 'reconfigure' ? step.action.mode : step.live ? 'live' : undefined;
  const fields = step.changes.map((c) => {
    const arrow = c.from !== undefined && c.to !== undefined ? `${c.from} → ${c.to}` : c.to !== undefined ? c.to : `${c.from} → (removed)`;
    return `      ${c.field}: ${arrow}${mode && step.symbol === '~' ? st.paint('gray', ` (${mode === 'staged' ? 'needs restart' : mode})`) : ''}`;
  });
  return [head, ...fields];
}

export function renderPlan(outcomes: readonly KeyOutcome[], st: Style): string {
  const out: string[] = [];
  for (const o of outcomes) {
    const steps = o.plan?.steps ?? [];
    const refusals = o.plan?.refusals ?? [];
    if (steps.length === 0 && refusals.length === 0 && !o.plan?.waiting && !o.plan?.restartRequired && !o.error && !o.intents?.length) continue;
    out.push(st.paint('bold', `# ${describeId(parseKey(o.key))}${steps[0] ? ` (${steps[0].hypervisor})` : ''}`));
    for (const i of o.intents ?? []) out.push(`  ${st.paint(COLORS[i.symbol], i.symbol)} ${i.summary}`);
    if (o.intents?.some((i) => i.unchecked)) out.push(`  ${st.paint('gray', `… ${UNCHECKED}: its provider cannot look without acting yet`)}`);
    for (const s of steps) out.push(...stepLines(s, st));
    for (const r of refusals) out.push(`  ${st.paint('red', '!')} refused: ${r.message} [${r.code}]`);
    if (o.error && refusals.length === 0) out.push(`  ${st.paint('red', '!')} ${o.error.message} [${o.error.code}]`);
    if (o.plan?.waiting) out.push(`  ${st.paint('gray', '…')} waiting: ${o.plan.waiting}`);
    if (o.plan?.restartRequired) out.push(`  ${st.paint('yellow', '!')} restart required: ${o.plan.restartRequired.message}`);
    out.push('');
  }
  if (out.length === 0) out.push('No changes. The hypervisors match the manifests.', '');
  out.push(st.paint('bold', summaryLine(summarize(outcomes))));
  return out.join('\n');
}

/** The machine-readable plan: `{actions: [...]}`. */
export function planJson(outcomes: readonly KeyOutcome[]): { actions: object[]; refusals: object[]; summary: PlanSummary } {
  return {
    actions: outcomes.flatMap((o) => [
      ...(o.intents ?? []).map((i) => ({ resource: o.key, type: 'ensure', symbol: i.symbol, summary: i.summary, ...(i.unchecked ? { checked: false } : {}) })),
      ...(o.plan?.steps ?? []).map((s) => ({
        resource: s.resource,
        hypervisor: s.hypervisor,
        type: s.action.type,
        symbol: s.symbol,
        summary: s.summary,
        changes: s.changes,
        live: s.live,
        disruptive: s.disruptive,
      })),
    ]),
    refusals: outcomes.flatMap((o) => [...(o.plan?.refusals ?? []).map((r) => ({ resource: o.key, ...r })), ...(o.error && !o.plan ? [{ resource: o.key, ...o.error }] : [])]),
    summary: summarize(outcomes),
  };
}
