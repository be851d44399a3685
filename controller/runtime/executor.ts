// Runs a plan's steps in order against one hypervisor: each step announced, its progress
// passed on, the shared observation invalidated after it, and the run stopped by a signal
// between steps (a step in flight is the provider's to abort: it gets the signal too).
import type { Logger } from 'pino';
import type { PlannedStep, Target } from '../core/actions.ts';
import { VkError, safeError } from '../core/errors.ts';
import { findObserved } from '../core/plan.ts';
import type { EventSink } from './events.ts';
import type { Connected } from './hypervisors.ts';
import { HypervisorUnavailableError } from './reconcilers/types.ts';

export class ExecutionAbortedError extends VkError {
  override readonly code = 'VK_ABORTED';
  override readonly kind = 'transient';
}

export interface ExecuteOptions {
  /** The resource the steps belong to (events name it). */
  key: string;
  conn: Connected;
  steps: readonly PlannedStep[];
  emit: EventSink;
  logger: Logger;
  /** Stops the run before the next step (and is handed to the step in flight). */
  signal?: AbortSignal;
}

/**
 * Runs the steps; resolves with the last one done (`reconfigure (live)`), for status. A step
 * after `create` acts on the VM the create says it made, or else finds it in a fresh observation.
 */
export async function executeSteps(o: ExecuteOptions): Promise<string | undefined> {
  const { key, conn, emit } = o;
  let last: string | undefined;
  let made: Target | undefined;
  for (const s of o.steps) {
    if (o.signal?.aborted) throw new ExecutionAbortedError(`stopped before ${s.summary}${last ? ` (after ${last})` : ''}`);
    const action = await resolveTarget(conn, s.action, made);
    emit({ type: 'action', key, phase: 'start', action: action.type, summary: s.summary });
    o.logger.info({ resource: key, action: action.type }, s.summary);
    try {
      const result = await conn.limit(() =>
        conn.client.vms.execute(action, {
          ...(o.signal ? { signal: o.signal } : {}),
          onProgress: (p) => emit({ type: 'progress', key, action: action.type, ...(p.percent !== undefined ? { percent: p.percent } : {}), ...(p.message ? { message: p.message } : {}) }),
        }),
      );
      if (action.type === 'create' && result?.made?.providerID) made = result.made;
    } catch (e) {
      emit({ type: 'action', key, phase: 'failed', action: action.type, summary: s.summary, message: safeError(e).message });
      throw e;
    }
    if ('target' in action) conn.observer.invalidate([action.target.providerID]);
    else conn.observer.invalidate();
    emit({ type: 'action', key, phase: 'done', action: action.type, summary: s.summary });
    last = `${action.type}${s.live ? ' (live)' : ''}`;
  }
  return last;
}

/** A step planned before its VM existed (empty providerID) gets the id the VM has now. */
async function resolveTarget(conn: Connected, action: PlannedStep['action'], made: Target | undefined): Promise<PlannedStep['action']> {
  if (!('target' in action) || action.target.providerID !== '') return action;
  if (made && made.name === action.target.name) {
    const owner = made.owner ?? action.target.owner;
    const node = made.node ?? action.target.node;
    return { ...action, target: { providerID: made.providerID, name: made.name, ...(node ? { node } : {}), ...(owner ? { owner } : {}) } } as typeof action;
  }
  conn.observer.invalidate();
  const obs = await conn.observer.get({ maxAgeMs: 0 });
  const owner = action.target.owner;
  const found = owner ? findObserved(obs, owner, action.target.name).mine : undefined;
  if (!found) throw new HypervisorUnavailableError(`VM ${action.target.name} was created but is not visible yet`);
  // A VM on no node yet (oVirt, stopped) keeps the node placement chose for it.
  const node = found.node ?? action.target.node;
  const target: Target = { providerID: found.providerID, name: found.name, ...(node ? { node } : {}), ...(found.owner ? { owner: found.owner } : {}) };
  return { ...action, target } as typeof action;
}
