// Events (events.k8s.io/v1) for every action and failure, de-duplicated: the same reason and
// note on the same object within ten minutes bumps the Event's series instead of adding one.
import type { Logger } from 'pino';
import { API_VERSION } from '../api/common.ts';
import { parseKey } from '../api/keys.ts';
import type { ReconcileEvent } from '../runtime/events.ts';
import type { KubeRest } from '../sources/kube-rest.ts';
import type { KubernetesSource } from '../sources/kubernetes.ts';

interface Sent {
  name: string;
  namespace: string;
  count: number;
  at: number;
}

const WINDOW_MS = 10 * 60_000;

export class KubeEventRecorder {
  private readonly sent = new Map<string, Sent>();
  private readonly o: { rest: KubeRest; source: KubernetesSource; logger: Logger; instance: string; now: () => number };
  constructor(options: { rest: KubeRest; source: KubernetesSource; logger: Logger; instance: string; now?: () => number }) {
    this.o = { now: Date.now, ...options };
  }

  /** The reconciler's event sink: what is worth an Event becomes one. */
  readonly sink = (e: ReconcileEvent): void => {
    const m =
      e.type === 'action'
        ? {
            type: e.phase === 'failed' ? 'Warning' : 'Normal',
            reason: `${e.action[0]?.toUpperCase()}${e.action.slice(1)}${e.phase === 'start' ? 'Started' : e.phase === 'done' ? 'Succeeded' : 'Failed'}`,
            note: e.message ? `${e.summary}: ${e.message}` : e.summary,
            action: e.action,
          }
        : e.type === 'refused'
          ? { type: 'Warning', reason: 'Refused', note: `${e.message} [${e.code}]`, action: 'Reconcile' }
          : e.type === 'error'
            ? { type: 'Warning', reason: e.retrying ? 'ReconcileError' : 'ReconcileFailed', note: `${e.message} [${e.code}]`, action: 'Reconcile' }
            : undefined;
    if (m) void this.record(e.key, m).catch((err: unknown) => this.o.logger.debug({ err: (err as Error).message }, 'event not recorded'));
  };

  private async record(key: string, m: { type: string; reason: string; note: string; action: string }): Promise<void> {
    const obj = this.o.source.object(key);
    if (!obj) return;
    const id = parseKey(key);
    const namespace = id.namespace ?? 'default';
    const note = m.note.slice(0, 1000);
    const dedup = `${key}|${m.reason}|${note}`;
    const now = this.o.now();
    const prev = this.sent.get(dedup);
    const time = new Date(now).toISOString().replace(/\.\d+Z$/, '.000000Z');
    if (prev && now - prev.at < WINDOW_MS) {
      prev.count++;
      prev.at = now;
      await this.o.rest.call(
        'PATCH',
        `/apis/events.k8s.io/v1/namespaces/${prev.namespace}/events/${prev.name}`,
        { series: { count: prev.count, lastObservedTime: time } },
        'application/merge-patch+json',
      );
      return;
    }
    const created = await this.o.rest.call<{ metadata: { name: string } }>('POST', `/apis/events.k8s.io/v1/namespaces/${namespace}/events`, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${id.name}.${now.toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`, namespace },
      eventTime: time,
      reportingController: 'virtkeeper.io/controller',
      reportingInstance: this.o.instance,
      action: m.action,
      reason: m.reason,
      note,
      type: m.type,
      regarding: {
        apiVersion: API_VERSION,
        kind: id.kind,
        name: id.name,
        ...(id.namespace ? { namespace: id.namespace } : {}),
        uid: obj.metadata?.uid,
        resourceVersion: obj.metadata?.resourceVersion,
      },
    });
    this.sent.set(dedup, { name: created.metadata.name, namespace, count: 1, at: now });
    this.forgetOld(now);
  }

  private sweptAt = 0;

  /** What is older than the window bumps nothing any more: dropped, so a long run's map stays the size of ten minutes' Events. */
  private forgetOld(now: number): void {
    if (now - this.sweptAt < WINDOW_MS) return;
    this.sweptAt = now;
    for (const [k, s] of this.sent) if (now - s.at >= WINDOW_MS) this.sent.delete(k);
  }

  /** How many Events are remembered for de-duplication (for tests). */
  get remembered(): number {
    return this.sent.size;
  }
}
