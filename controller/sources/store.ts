// The desired state as the sources last delivered it, with what could not be read held as
// it was. Sources (directory, Kubernetes) update it; the reconciler reads it by key.
import { keyOf } from '../api/keys.ts';
import type { ManifestProblem } from '../api/manifest.ts';
import type { AnyResource, Hypervisor, VirtualMachine, VirtualNetwork, VMTemplate } from '../api/types.ts';
import type { ValidResource } from '../api/validate.ts';
import { expandSet } from '../core/vmset.ts';

export interface Entry {
  key: string;
  resource: AnyResource;
  source?: { file: string; line: number };
  /** Set when the entry is held from an earlier read because its file is broken now. */
  heldBecause?: string[];
}

export interface StoreUpdate {
  resources: ValidResource[];
  problems: ManifestProblem[];
  brokenFiles: ReadonlySet<string>;
}

export class DesiredStore {
  private entries = new Map<string, Entry>();
  /** The entries by kind, built once per update: a pass over N VMs asks for the networks and templates N times. */
  private byKind: Map<string, Entry[]> | undefined;
  /** Entries the last update dropped: held by the next one if their file is broken by then. */
  private vanished = new Map<string, Entry>();
  /** Files that could not be read in the last update, with their problems. */
  broken = new Map<string, string[]>();
  /** Resources (`Kind ns/name`, as problems name them) declared only in a file that does not validate. */
  brokenResources = new Map<string, string[]>();

  /** Replaces the desired state; returns the keys whose entry changed, appeared or vanished. */
  update(u: StoreUpdate, format: (p: ManifestProblem) => string): Set<string> {
    const next = new Map<string, Entry>();
    this.broken = new Map();
    this.brokenResources = new Map();
    for (const p of u.problems) this.broken.set(p.file, [...(this.broken.get(p.file) ?? []), format(p)]);
    for (const p of u.problems) if (p.resource) this.brokenResources.set(p.resource, [...(this.brokenResources.get(p.resource) ?? []), format(p)]);
    for (const r of u.resources) {
      const source = { file: r.source.file, line: r.source.line };
      next.set(r.key, { key: r.key, resource: r.resource, source });
      if (r.resource.kind === 'VirtualMachineSet') {
        for (const m of expandSet(r.resource)) {
          const key = keyOf({ kind: 'VirtualMachine', namespace: m.metadata.namespace ?? 'default', name: m.metadata.name });
          const { user: _user, ...vm } = m;
          next.set(key, { key, resource: vm, source });
        }
      }
    }
    // Hold what came from a file that is broken now: never treat it as deleted. What vanished
    // on the read before counts too: a folder replaced in two steps (removed, then a link put
    // in its place) may be read in between, and what was there is still held after.
    for (const [key, e] of [...this.vanished, ...this.entries]) {
      const because = e.source && this.brokenFor(e.source.file);
      if (!next.has(key) && because) next.set(key, { ...e, heldBecause: because });
    }
    this.vanished = new Map([...this.entries].filter(([k]) => !next.has(k)));
    const changed = new Set<string>();
    for (const [k, e] of next) {
      const old = this.entries.get(k);
      // The same object is the same resource (a cached file, the Kubernetes source's validated object): only others are compared.
      if (!old || (old.resource !== e.resource && JSON.stringify(old.resource) !== JSON.stringify(e.resource)) || !!old.heldBecause !== !!e.heldBecause) changed.add(k);
    }
    for (const k of this.entries.keys()) if (!next.has(k)) changed.add(k);
    this.entries = next;
    this.byKind = undefined;
    return changed;
  }

  /** Whether a file is untrusted now (its own problem or its folder's): what came from it is held, never deleted. */
  isBroken(file: string): boolean {
    return this.brokenFor(file) !== undefined;
  }

  /** The problems that make a file untrusted now: its own, or its folder's (`dir/`, `./` for all). */
  private brokenFor(file: string): string[] | undefined {
    const own = this.broken.get(file);
    if (own) return own;
    for (const [k, problems] of this.broken) if (k.endsWith('/') && (k === './' || file.startsWith(k))) return problems;
    return undefined;
  }

  get(key: string): Entry | undefined {
    return this.entries.get(key);
  }

  /** The resource under key, when it is of this kind. */
  resource<K extends AnyResource['kind']>(kind: K, key: string): Extract<AnyResource, { kind: K }> | undefined {
    const r = this.entries.get(key)?.resource;
    return r?.kind === kind ? (r as Extract<AnyResource, { kind: K }>) : undefined;
  }

  all(): Entry[] {
    return [...this.entries.values()];
  }

  keys(kind?: AnyResource['kind']): string[] {
    return [...this.entries.values()].filter((e) => !kind || e.resource.kind === kind).map((e) => e.key);
  }

  hypervisor(name: string): Hypervisor | undefined {
    const e = this.entries.get(`Hypervisor/${name}`);
    return e?.resource.kind === 'Hypervisor' ? e.resource : undefined;
  }

  private ofKind(kind: AnyResource['kind']): Entry[] {
    if (!this.byKind) {
      const by = new Map<string, Entry[]>();
      for (const e of this.entries.values()) {
        const list = by.get(e.resource.kind);
        if (list) list.push(e);
        else by.set(e.resource.kind, [e]);
      }
      this.byKind = by;
    }
    return this.byKind.get(kind) ?? [];
  }

  hypervisors(): Hypervisor[] {
    return this.ofKind('Hypervisor').flatMap((e) => (e.resource.kind === 'Hypervisor' ? [e.resource] : []));
  }

  networks(): Map<string, VirtualNetwork> {
    return new Map(this.ofKind('VirtualNetwork').flatMap((e) => (e.resource.kind === 'VirtualNetwork' ? [[e.resource.metadata.name, e.resource] as const] : [])));
  }

  templates(): Map<string, VMTemplate> {
    return new Map(this.ofKind('VMTemplate').flatMap((e) => (e.resource.kind === 'VMTemplate' ? [[e.resource.metadata.name, e.resource] as const] : [])));
  }

  vms(): VirtualMachine[] {
    return this.ofKind('VirtualMachine').flatMap((e) => (e.resource.kind === 'VirtualMachine' ? [e.resource] : []));
  }
}
