// Leader election with a coordination.k8s.io/v1 Lease: one replica acts, the others wait
// and take over when the holder stops renewing within the lease duration.
import type { Logger } from 'pino';
import { KubeConflictError, KubeNotFoundError } from '../sources/kube-errors.ts';
import type { KubeRest } from '../sources/kube-rest.ts';

export interface LeaderOptions {
  rest: KubeRest;
  namespace: string;
  name?: string;
  identity: string;
  logger: Logger;
  leaseDurationSeconds?: number;
  renewEveryMs?: number;
  retryEveryMs?: number;
  /** The clock (injected, so a test can move it). */
  now?: () => number;
}

interface Lease {
  metadata: { name: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string; acquireTime?: string; leaseTransitions?: number };
}

const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private readonly o: Required<LeaderOptions>;
  private stopped = false;
  isLeader = false;

  constructor(options: LeaderOptions) {
    this.o = { name: 'virtkeeper-controller', leaseDurationSeconds: 15, renewEveryMs: 5000, retryEveryMs: 2000, now: Date.now, ...options };
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.o.namespace}/leases`;
  }

  /** One attempt to acquire or renew; true when this replica holds the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.o.now();
    let lease: Lease | undefined;
    try {
      lease = await this.o.rest.call<Lease>('GET', `${this.path}/${this.o.name}`);
    } catch (e) {
      if (!(e instanceof KubeNotFoundError)) throw e;
    }
    const spec = { holderIdentity: this.o.identity, leaseDurationSeconds: this.o.leaseDurationSeconds, renewTime: microTime(now) };
    try {
      if (!lease) {
        await this.o.rest.call('POST', this.path, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      }
      const held = lease.spec.holderIdentity;
      const expires = Date.parse(lease.spec.renewTime ?? '1970-01-01T00:00:00Z') + (lease.spec.leaseDurationSeconds ?? this.o.leaseDurationSeconds) * 1000;
      if (held && held !== this.o.identity && expires > now) return false;
      const transitions = (lease.spec.leaseTransitions ?? 0) + (held === this.o.identity ? 0 : 1);
      await this.o.rest.call('PUT', `${this.path}/${this.o.name}`, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.o.name, namespace: this.o.namespace, resourceVersion: lease.metadata.resourceVersion },
        spec: { ...spec, acquireTime: held === this.o.identity ? lease.spec.acquireTime : microTime(now), leaseTransitions: transitions },
      });
      return true;
    } catch (e) {
      if (e instanceof KubeConflictError) return false; // someone else wrote first
      throw e;
    }
  }

  /** Resolves once leading; then renews until stopped, calling onLost if a renewal fails past the deadline. */
  async run(onLead: () => void, onLost: () => void): Promise<void> {
    while (!this.stopped) {
      const ok = await this.tryAcquireOrRenew().catch((e: unknown) => {
        this.o.logger.warn({ err: (e as Error).message }, 'lease attempt failed');
        return false;
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, this.o.retryEveryMs));
    }
    if (this.stopped) return;
    this.isLeader = true;
    this.o.logger.info({ identity: this.o.identity, lease: this.o.name }, 'became leader');
    onLead();
    let lastRenew = this.o.now();
    const deadline = this.o.leaseDurationSeconds * 1000 * (2 / 3);
    const tick = async () => {
      if (this.stopped) return;
      const ok = await this.tryAcquireOrRenew().catch(() => false);
      if (ok) lastRenew = this.o.now();
      if (!ok && this.o.now() - lastRenew > deadline) {
        this.isLeader = false;
        this.o.logger.error('lost the lease; stopping work');
        onLost();
        return;
      }
      setTimeout(() => void tick(), this.o.renewEveryMs).unref();
    };
    setTimeout(() => void tick(), this.o.renewEveryMs).unref();
  }

  stop(): void {
    this.stopped = true;
  }
}
