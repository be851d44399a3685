// What `plan` says of a disk or a network: what the provider's read-only observe reports
// (KindObservation), or, where the provider cannot look without acting yet, what the status
// suggests, marked as not checked against the hypervisor.
import { isVkError } from '../../core/errors.ts';
import type { KindObservation } from '../../core/provider.ts';
import type { Intent } from './types.ts';

/** A provider that cannot look at this kind without changing it (NoObservationError). */
export function isNoObservation(e: unknown): boolean {
  return isVkError(e) && e.code === 'VK_NO_OBSERVATION';
}

/** The observation as intents: nothing when up to date; what blocks `ensure` holds back. */
export function observedIntents(o: KindObservation<unknown>, prefix = ''): Intent[] {
  const out: Intent[] = o.upToDate ? [] : o.intents.map((summary) => ({ symbol: o.exists ? '~' : '+', summary: `${prefix}${summary}` }));
  if (o.problem) out.push({ symbol: '~', summary: `${prefix}${o.problem}`, blocking: true });
  return out;
}

/** Intents guessed from status: shown, but said to be unchecked. */
export function unchecked(intents: readonly Intent[]): Intent[] {
  return intents.map((i) => ({ ...i, unchecked: true }));
}
