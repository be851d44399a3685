// Kubernetes mode's side of removals. A removal is an object being deleted while our finalizer
// holds it; the same gate as directory mode decides (share per hypervisor and fleet, allowance,
// window), reviewed against the informers' caches right before each removal. A namespace or a
// CRD being deleted is a bulk deletion nobody asked of each VM: it orphans, unless the
// Hypervisor says `cascade: Delete`.
import type { Logger } from 'pino';
import { GROUP } from '../../api/common.ts';
import { parseKey } from '../../api/keys.ts';
import { KINDS } from '../../api/kinds.ts';
import type { AnyResource, Hypervisor } from '../../api/types.ts';
import { KubeNotFoundError } from '../../sources/kube-errors.ts';
import type { KubeRest } from '../../sources/kube-rest.ts';
import { FINALIZER, type KubeObject } from '../../sources/kubernetes.ts';
import type { RemovalControl } from '../reconcilers/types.ts';
import { DESTROYING_KINDS, hypervisorsOf, memoryLedger, RemovalGate, type Admission, type RemovalPolicy, type SourceView } from '../removals.ts';

/** The kinds whose removal destroys something on a hypervisor: they carry the finalizer. */
export const FINALIZED_KINDS = DESTROYING_KINDS;

export interface KubernetesRemovalsOptions {
  objects: ReadonlyMap<string, KubeObject>;
  hypervisor: (name: string) => Hypervisor | undefined;
  rest: Pick<KubeRest, 'call'>;
  logger: Logger;
  now: () => number;
  policy?: Partial<RemovalPolicy>;
}

/** What the caches show: objects held by our finalizer that are being deleted, and the rest. */
export function cacheView(objects: ReadonlyMap<string, KubeObject>): SourceView {
  const ours = [...objects].filter(([key, o]) => FINALIZED_KINDS.has(parseKey(key).kind) && (o.metadata?.finalizers ?? []).includes(FINALIZER));
  const item = ([key, o]: [string, KubeObject]) => ({ key, resource: o as unknown as AnyResource });
  return {
    absent: ours.filter(([, o]) => !!o.metadata?.deletionTimestamp).map(item),
    present: ours.filter(([, o]) => !o.metadata?.deletionTimestamp).map(([k]) => k),
    managed: ours.map(item),
  };
}

export class KubernetesRemovals implements RemovalControl {
  readonly gate: RemovalGate;
  private readonly o: KubernetesRemovalsOptions;
  constructor(o: KubernetesRemovalsOptions) {
    this.o = o;
    // An explicit delete needs no second sighting nor keeps the last one; the window lives in
    // memory (a restart forgets it).
    this.gate = new RemovalGate({ now: o.now, ledger: memoryLedger(), policy: { keepLast: false, ...o.policy, graceMs: 0, sightings: 1 } });
  }

  async admit(key: string): Promise<Admission> {
    await this.gate.review(cacheView(this.o.objects));
    const a = this.gate.admit(key);
    if (!a.allowed) this.o.logger.error({ resource: key }, `deletion guard: ${a.message}`);
    return a;
  }

  done(key: string, hypervisors: string[]): Promise<void> {
    return this.gate.done(key, hypervisors);
  }

  async orphanReason(key: string): Promise<string | undefined> {
    const obj = this.o.objects.get(key);
    if (!obj) return undefined;
    const hvs = hypervisorsOf(obj as unknown as AnyResource);
    if (hvs.length > 0 && hvs.every((h) => this.o.hypervisor(h)?.spec.cascade === 'Delete')) return undefined;
    const id = parseKey(key);
    const info = KINDS[id.kind];
    const crd = await this.terminating(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${info.plural}.${GROUP}`);
    if (crd) return `the CustomResourceDefinition ${info.plural}.${GROUP} is being deleted (Hypervisor spec.cascade: Delete removes instead)`;
    if (id.namespace && (await this.terminating(`/api/v1/namespaces/${id.namespace}`))) return `namespace ${id.namespace} is being deleted (Hypervisor spec.cascade: Delete removes instead)`;
    return undefined;
  }

  /**
   * Whether the object at this path is being deleted (a CRD gone counts as being deleted). Any
   * other failure is thrown, so the removal is tried again: an API hiccup must not turn an
   * explicit delete into an orphan for good.
   */
  private async terminating(path: string): Promise<boolean> {
    try {
      const o = await this.o.rest.call<{ metadata?: { deletionTimestamp?: string }; status?: { phase?: string } }>('GET', path);
      return !!o.metadata?.deletionTimestamp || o.status?.phase === 'Terminating';
    } catch (e) {
      if (e instanceof KubeNotFoundError) return true;
      throw e;
    }
  }
}
