// Kubernetes as the source of desired state: informers (list, then watch from the last
// resourceVersion, relist on 410) for every kind and for credentials Secrets. Events only
// enqueue keys; the reconciler reads the current object. An object being deleted is absent
// from the desired state, so its removal is planned, and its finalizer is released after.
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { Informer, type Listed } from './kube-informer.ts';
import type { KubeRest } from './kube-rest.ts';
import type { Logger } from 'pino';
import { GROUP, VERSION } from '../api/common.ts';
import { keyOf } from '../api/keys.ts';
import { KINDS, type KindInfo } from '../api/kinds.ts';
import type { AnyResource } from '../api/types.ts';
import { validateDocuments } from '../api/validate.ts';
import { formatProblem } from './load-folder.ts';
import { checkMembers } from '../core/vmset.ts';
import type { DesiredStore } from './store.ts';
import { desiredValue, slim, worthAPass } from './kube-slim.ts';
import type { ValidationResult } from '../api/validate.ts';

export const FINALIZER = 'virtkeeper.io/finalizer';

/** An object from the API has no lines: every problem is on its first. One function for all, not a closure each. */
const firstLine = () => 1;

export type KubeObject = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

export interface KubernetesSourceOptions {
  rest: KubeRest;
  store: DesiredStore;
  logger: Logger;
  /** Namespace of the credentials Secrets (and the controller). */
  namespace: string;
  hypervisorSelector?: string;
  onChange: (keys: Set<string>) => void;
  /** Called when a Secret changes, with its name, so Hypervisors using it reconnect. */
  onSecret?: (name: string) => void;
}

export class KubernetesSource {
  readonly objects = new Map<string, KubeObject>();
  readonly secrets = new Map<string, V1Secret>();
  private readonly informers: { start(): Promise<void>; stop(): Promise<void> }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private pending = new Set<string>();
  synced = false;
  private readonly o: KubernetesSourceOptions;

  constructor(options: KubernetesSourceOptions) {
    this.o = options;
  }

  keyOf(info: KindInfo, obj: KubeObject): string {
    return keyOf({ kind: info.kind, name: obj.metadata?.name ?? '', ...(info.scope === 'Namespaced' ? { namespace: obj.metadata?.namespace ?? 'default' } : {}) });
  }

  async start(): Promise<void> {
    const { rest, logger } = this.o;
    for (const info of Object.values(KINDS)) {
      const selector = info.kind === 'Hypervisor' ? this.o.hypervisorSelector : undefined;
      const put = (obj: KubeObject) => {
        const key = this.keyOf(info, obj);
        const old = this.objects.get(key);
        this.objects.set(key, slim(obj));
        if (worthAPass(old, obj)) this.touch(key);
        else this.revalidated(key, obj);
      };
      const remove = (obj: Listed) => {
        const key = this.keyOf(info, obj);
        this.objects.delete(key);
        this.touch(key);
      };
      this.informers.push(
        new Informer<KubeObject>({ rest, logger, path: `/apis/${GROUP}/${VERSION}/${info.plural}`, ...(selector ? { labelSelector: selector } : {}), handlers: { put, delete: remove } }),
      );
    }
    const putSecret = (s: V1Secret) => {
      const name = s.metadata?.name ?? '';
      const old = this.secrets.get(name);
      this.secrets.set(name, slim(s));
      if (old?.metadata?.resourceVersion !== s.metadata?.resourceVersion) this.o.onSecret?.(name);
    };
    const removeSecret = (s: Listed) => void this.secrets.delete(s.metadata?.name ?? '');
    this.informers.push(new Informer<V1Secret>({ rest, logger, path: `/api/v1/namespaces/${this.o.namespace}/secrets`, handlers: { put: putSecret, delete: removeSecret } }));
    await Promise.all(this.informers.map((i) => i.start()));
    this.synced = true;
    this.flush();
  }

  /**
   * A flush rebuilds the desired state of every object, so at 10,000 objects a burst of updates
   * (the finalizers a first pass adds, one watch event each) would keep the process doing little
   * else: the next flush waits at least twice as long as the last one took.
   */
  private touch(key: string): void {
    this.pending.add(key);
    if (!this.synced || this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        const t0 = performance.now();
        this.flush();
        this.flushMs = performance.now() - t0;
      },
      Math.max(20, 2 * this.flushMs),
    );
  }

  private flushMs = 0;

  /** One object validated, kept while the cache holds that object or one that differs only in status. */
  private readonly validated = new Map<string, { obj: KubeObject; result: ValidationResult }>();

  private validate(key: string, obj: KubeObject): ValidationResult {
    const hit = this.validated.get(key);
    if (hit && (hit.obj === obj || !worthAPass(hit.obj, obj))) {
      hit.obj = obj;
      return hit.result;
    }
    const result = validateDocuments([{ source: { file: `kubernetes:${key}`, line: 1, lineOf: firstLine }, value: desiredValue(obj) }]);
    this.validated.set(key, { obj, result });
    // Said once, when found: a flush repeats every object's result, and would repeat the log.
    for (const p of result.problems) this.o.logger.error({ resource: p.resource }, `invalid object: ${formatProblem(p)}`);
    return result;
  }

  /**
   * A status-only update (the controller's own writes, most updates) validates the same: the
   * result is kept for the new object, and the old one (with its old status) is let go now.
   */
  private revalidated(key: string, obj: KubeObject): void {
    const hit = this.validated.get(key);
    if (hit) hit.obj = obj;
  }

  /** The duplicate-name problems logged last flush: each is logged when it appears. */
  private memberProblems = new Set<string>();

  /** Rebuilds the desired state from the caches (validating only what changed) and reports what changed. */
  private flush(): void {
    const v: ValidationResult = { resources: [], problems: [] };
    for (const key of this.validated.keys()) if (!this.objects.has(key)) this.validated.delete(key);
    for (const [key, o] of this.objects) {
      if (o.metadata?.deletionTimestamp) continue;
      const r = this.validate(key, o);
      v.resources.push(...r.resources);
      v.problems.push(...r.problems);
    }
    // A set member with the name of another VM: both are held as they were, neither replaces the other.
    const members = checkMembers(v.resources);
    const said = new Set<string>();
    for (const p of members.problems) {
      const text = formatProblem(p);
      said.add(text);
      if (!this.memberProblems.has(text)) this.o.logger.error({ resource: p.resource }, text);
    }
    this.memberProblems = said;
    const changed = this.o.store.update({ resources: members.accepted, problems: members.problems, brokenFiles: new Set(members.problems.map((p) => p.file)) }, formatProblem);
    for (const k of this.pending) changed.add(k);
    this.pending = new Set();
    if (changed.size > 0) this.o.onChange(changed);
  }

  object(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.all(this.informers.map((i) => i.stop().catch(() => undefined)));
  }
}

export function pathOf(info: KindInfo, obj: KubeObject, sub = ''): string {
  const ns = info.scope === 'Namespaced' ? `/namespaces/${obj.metadata?.namespace ?? 'default'}` : '';
  return `/apis/${GROUP}/${VERSION}${ns}/${info.plural}/${obj.metadata?.name ?? ''}${sub}`;
}

export function asResource(obj: KubeObject): AnyResource {
  return obj as unknown as AnyResource;
}
