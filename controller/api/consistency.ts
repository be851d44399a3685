// Checks across the whole set of resources: duplicates, references, and changes that are
// refused against the last applied spec (a disk never shrinks, the hypervisor never moves).
import { describeId } from './keys.ts';
import type { ManifestProblem } from './manifest.ts';
import { parseQuantity } from './quantity.ts';
import type { AnyResource } from './types.ts';
import type { ValidResource } from './validate.ts';

export interface ConsistencyOptions {
  /** The spec last applied per resource key, to refuse shrinks and immutable changes. */
  lastApplied?: ReadonlyMap<string, AnyResource['spec']>;
}

function at(r: ValidResource, path: string, message: string): ManifestProblem {
  return {
    file: r.source.file,
    line: r.source.lineOf(path),
    resource: describeId(r.id),
    path: path
      .split('/')
      .filter(Boolean)
      .join('.')
      .replace(/\.(\d+)/g, '[$1]'),
    message,
  };
}

function hypervisorRefs(r: AnyResource): { path: string; name: string }[] {
  switch (r.kind) {
    case 'VirtualMachine':
    case 'VirtualDisk':
    case 'VMTemplate':
      return [{ path: '/spec/hypervisor', name: r.spec.hypervisor }];
    case 'VirtualMachineSet':
      return [{ path: '/spec/template/hypervisor', name: r.spec.template.hypervisor }];
    case 'VirtualNetwork':
      return r.spec.hypervisors.map((b, i) => ({ path: `/spec/hypervisors/${i}/hypervisor`, name: b.hypervisor }));
    default:
      return [];
  }
}

function shrinkProblems(r: ValidResource, last: AnyResource['spec'] | undefined): ManifestProblem[] {
  if (!last) return [];
  const out: ManifestProblem[] = [];
  const res = r.resource;
  if (res.kind === 'VirtualMachine') {
    const prev = last as typeof res.spec;
    if (prev.hypervisor && prev.hypervisor !== res.spec.hypervisor) out.push(at(r, '/spec/hypervisor', `is immutable: was "${prev.hypervisor}"; create a new VirtualMachine instead`));
    (res.spec.disks ?? []).forEach((d, i) => {
      const old = prev.disks?.find((p) => p.name === d.name);
      if (old && parseQuantity(d.size) < parseQuantity(old.size)) out.push(at(r, `/spec/disks/${i}/size`, `disk "${d.name}" cannot shrink from ${old.size} to ${d.size}: disks only grow`));
    });
  } else if (res.kind === 'VirtualDisk') {
    const prev = last as typeof res.spec;
    if (prev.size && parseQuantity(res.spec.size) < parseQuantity(prev.size)) out.push(at(r, '/spec/size', `cannot shrink from ${prev.size} to ${res.spec.size}: disks only grow`));
  }
  return out;
}

/** Returns the resources that pass and one problem per refusal; a refused resource is left out. */
export function checkConsistency(resources: ValidResource[], options: ConsistencyOptions = {}): { accepted: ValidResource[]; problems: ManifestProblem[] } {
  const problems: ManifestProblem[] = [];
  const refused = new Set<ValidResource>();
  const byKey = new Map<string, ValidResource[]>();
  for (const r of resources) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  for (const group of byKey.values()) {
    if (group.length < 2) continue;
    for (const r of group) {
      refused.add(r);
      const others = group.filter((o) => o !== r).map((o) => `${o.source.file}:${o.source.lineOf('/metadata/name')}`);
      problems.push(at(r, '/metadata/name', `duplicate name: also defined at ${others.join(', ')}`));
    }
  }
  const hypervisors = new Set(resources.filter((r) => r.resource.kind === 'Hypervisor').map((r) => r.id.name));
  for (const r of resources) {
    if (refused.has(r)) continue;
    const mine: ManifestProblem[] = [];
    for (const ref of hypervisorRefs(r.resource)) {
      if (!hypervisors.has(ref.name)) mine.push(at(r, ref.path, `unknown Hypervisor "${ref.name}": expected one of ${[...hypervisors].join(', ') || '(none defined)'}`));
    }
    mine.push(...shrinkProblems(r, options.lastApplied?.get(r.key)));
    if (mine.length > 0) {
      refused.add(r);
      problems.push(...mine);
    }
  }
  return { accepted: resources.filter((r) => !refused.has(r)), problems };
}
