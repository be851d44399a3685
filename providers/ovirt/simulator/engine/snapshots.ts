// Snapshots as the engine keeps them (vms/{id}/snapshots): the `active` snapshot is the VM
// itself; a regular one records the configuration and every disk's size, and the memory when
// asked of a running VM. Creating, removing and restoring lock the snapshot and the VM's disks
// for a while; restore (preview and commit in one) puts the recorded sizes and memory back and
// drops the snapshots taken after it. Fault texts are the engine's (AppErrors).
import { badRequest, conflict, type Engine, Fault, notFound } from '../engine.ts';
import { id, type SimSnapshot, type SimVM } from '../model.ts';
import { bool, obj, type Tree } from '../representation.ts';
import { API } from '../views/common.ts';

const link = (kind: string, x: string) => ({ id: x, href: `${API}/${kind}/${x}` });
const activeId = (vm: SimVM) => `${vm.id.slice(0, 24)}a0715e000000`;

export function snapshotView(vm: SimVM, s: SimSnapshot) {
  const base = `${API}/vms/${vm.id}/snapshots/${s.id}`;
  return {
    id: s.id,
    href: base,
    actions: { link: ['restore'].map((r) => ({ rel: r, href: `${base}/${r}` })) },
    description: s.description,
    date: s.date,
    snapshot_type: 'regular',
    snapshot_status: s.status,
    persist_memorystate: s.persist_memorystate,
    memory: s.config.memory,
    cpu: { topology: { sockets: s.config.sockets, cores: s.config.cores, threads: s.config.threads } },
    link: ['cdroms', 'disks', 'nics'].map((r) => ({ rel: r, href: `${base}/${r}` })),
    vm: link('vms', vm.id),
  };
}

function activeView(vm: SimVM) {
  return {
    id: activeId(vm),
    href: `${API}/vms/${vm.id}/snapshots/${activeId(vm)}`,
    description: 'Active VM',
    date: vm.creation_time,
    snapshot_type: 'active',
    snapshot_status: 'ok',
    persist_memorystate: false,
    vm: link('vms', vm.id),
  };
}

/** What the engine refuses while something else holds the VM (the first reason wins). */
function busy(e: Engine, vm: SimVM, what: string): void {
  if (vm.status === 'image_locked' || vm.attachments.some((a) => e.state.disks.find((d) => d.id === a.disk)?.status === 'locked'))
    throw conflict(`[Cannot ${what}: VM is locked. Please try again in a few minutes.]`);
  if ((vm.snapshots ?? []).some((s) => s.status === 'locked'))
    throw conflict(`[Cannot ${what}. The VM is performing an operation on a Snapshot. Please wait for the operation to finish, and try again.]`);
  if (['migrating', 'wait_for_launch', 'powering_up', 'powering_down', 'saving_state', 'restoring_state'].includes(vm.status))
    throw conflict(`[Cannot ${what}. Related operation is currently in progress. Please try again later.]`);
}

/** Locks the VM's disks (and a VM that is down) for `ms`, then runs `done`. */
function hold(e: Engine, vm: SimVM, ms: number, done: () => void): void {
  const disks = vm.attachments.flatMap((a) => e.state.disks.filter((d) => d.id === a.disk));
  for (const d of disks) d.status = 'locked';
  const wasDown = vm.status === 'down';
  if (wasDown) vm.status = 'image_locked';
  e.later(ms, () => {
    for (const d of disks) d.status = 'ok';
    if (wasDown && vm.status === 'image_locked') vm.status = 'down';
    done();
  });
}

const snapshotMs = (e: Engine, memory: boolean) => e.t.diskResizeMs * 2 + (memory ? e.t.bootStepMs * 2 : 0);

export function createSnapshot(e: Engine, vm: SimVM, body: Tree): SimSnapshot {
  if (typeof body.description !== 'string' || !body.description) throw badRequest('[Snapshot [description] required for add]');
  if (vm.in_preview) throw conflict('[Cannot create Snapshot. VM is previewing a Snapshot.]');
  busy(e, vm, 'create Snapshot');
  // As the engine: memory is saved unless asked not to, and only a running VM has any.
  const memory = (bool(body.persist_memorystate) ?? true) && vm.status === 'up';
  const s: SimSnapshot = {
    id: id(),
    description: body.description,
    date: Date.now(),
    status: 'locked',
    persist_memorystate: memory,
    config: { ...vm.config },
    disks: vm.attachments.flatMap((a) => {
      const d = e.state.disks.find((x) => x.id === a.disk);
      return d ? [{ disk: d.id, provisioned_size: d.provisioned_size, actual_size: d.actual_size, interface: a.interface, bootable: a.bootable }] : [];
    }),
    ...(memory ? { memory: vm.config.memory } : {}),
  };
  vm.snapshots = [...(vm.snapshots ?? []), s];
  e.event(45, `Snapshot '${s.description}' creation for VM '${vm.name}' was initiated by admin@internal-authz.`, vm.id);
  hold(e, vm, snapshotMs(e, memory), () => {
    s.status = 'ok';
    e.event(68, `Snapshot '${s.description}' creation for VM '${vm.name}' has been completed.`, vm.id);
  });
  return s;
}

function find(vm: SimVM, sid: string): SimSnapshot {
  const s = (vm.snapshots ?? []).find((x) => x.id === sid);
  if (!s) throw notFound();
  return s;
}

export function removeSnapshot(e: Engine, vm: SimVM, sid: string): void {
  if (sid === activeId(vm)) throw conflict('[Cannot remove Snapshot. The Snapshot type is Active while the operation is supported for Snapshots of the following type(s): Regular.]');
  const s = find(vm, sid);
  if (vm.in_preview) throw conflict('[Cannot remove Snapshot. VM is previewing a Snapshot.]');
  busy(e, vm, 'remove Snapshot');
  s.status = 'locked';
  e.event(342, `Snapshot '${s.description}' deletion for VM '${vm.name}' was initiated by admin@internal-authz.`, vm.id);
  // A running VM's snapshot is merged live; the disks are locked meanwhile.
  hold(e, vm, snapshotMs(e, false), () => {
    vm.snapshots = (vm.snapshots ?? []).filter((x) => x !== s);
    e.event(356, `Snapshot '${s.description}' deletion for VM '${vm.name}' has been completed.`, vm.id);
  });
}

/** Puts the VM back as the snapshot has it: configuration, disk sizes, disks added since detached. */
function apply(e: Engine, vm: SimVM, s: SimSnapshot, restoreMemory: boolean): void {
  vm.config = { ...s.config, comment: vm.config.comment, description: vm.config.description };
  delete vm.next_run;
  const kept = new Set(s.disks.map((d) => d.disk));
  vm.attachments = vm.attachments.filter((a) => kept.has(a.disk));
  for (const rec of s.disks) {
    const d = e.state.disks.find((x) => x.id === rec.disk);
    if (!d) continue;
    d.provisioned_size = rec.provisioned_size;
    d.actual_size = rec.actual_size;
    if (!vm.attachments.some((a) => a.disk === rec.disk)) vm.attachments.push({ id: rec.disk, disk: rec.disk, interface: rec.interface, bootable: rec.bootable, active: true });
  }
  if (restoreMemory && s.memory) vm.resume_memory = { from: s.id, bytes: s.memory };
  else delete vm.resume_memory;
}

function validateRevert(e: Engine, vm: SimVM, s: SimSnapshot, what: string): void {
  busy(e, vm, what);
  if (vm.status !== 'down') throw conflict(`[Cannot ${what}. At least one of the VMs is not down.]`);
  if (s.status !== 'ok') throw conflict(`[Cannot ${what}. The VM is performing an operation on a Snapshot. Please wait for the operation to finish, and try again.]`);
}

/** `snapshots/{id}/restore`: preview and commit in one; the snapshots taken after it are dropped. */
export function restoreSnapshot(e: Engine, vm: SimVM, sid: string, body: Tree): void {
  const s = find(vm, sid);
  if (vm.in_preview && vm.in_preview !== sid) throw conflict('[Cannot revert to Snapshot. VM is previewing a Snapshot.]');
  validateRevert(e, vm, s, 'revert to Snapshot');
  s.status = 'locked';
  e.event(95, `Snapshot-Preview ${s.description} for VM ${vm.name} was initiated by admin@internal-authz.`, vm.id);
  hold(e, vm, snapshotMs(e, s.persist_memorystate), () => {
    apply(e, vm, s, bool(body.restore_memory) ?? s.persist_memorystate);
    s.status = 'ok';
    delete vm.in_preview;
    vm.snapshots = (vm.snapshots ?? []).filter((x) => x.date <= s.date);
    e.event(99, `VM ${vm.name} restored from Snapshot.`, vm.id);
  });
}

/** `vms/{id}/previewsnapshot`, `commitsnapshot`, `undosnapshot`, as the engine's two-step restore. */
export function snapshotAction(e: Engine, vm: SimVM, action: string, body: Tree): boolean {
  if (action === 'previewsnapshot') {
    const sid = String(obj(body.snapshot).id ?? '');
    if (!sid) throw badRequest('[Action [snapshot.id] required for previewSnapshot]');
    if (vm.in_preview) throw conflict('[Cannot preview Snapshot. VM is previewing a Snapshot.]');
    const s = find(vm, sid);
    validateRevert(e, vm, s, 'preview Snapshot');
    // What the VM was, kept to undo the preview.
    const before = createHidden(e, vm);
    s.status = 'locked';
    hold(e, vm, snapshotMs(e, s.persist_memorystate), () => {
      apply(e, vm, s, bool(body.restore_memory) ?? false);
      s.status = 'in_preview';
      vm.in_preview = sid;
      vm.preview_before = before;
    });
    return true;
  }
  if (action === 'commitsnapshot' || action === 'undosnapshot') {
    const sid = vm.in_preview;
    if (!sid) throw conflict(`[Cannot ${action === 'commitsnapshot' ? 'commit' : 'undo'} Snapshot. VM is not in preview mode.]`);
    if (vm.status !== 'down') throw conflict(`[Cannot ${action === 'commitsnapshot' ? 'commit' : 'undo'} Snapshot. At least one of the VMs is not down.]`);
    const s = find(vm, sid);
    if (action === 'undosnapshot') {
      if (vm.preview_before) apply(e, vm, vm.preview_before, false);
    } else vm.snapshots = (vm.snapshots ?? []).filter((x) => x.date <= s.date);
    s.status = 'ok';
    delete vm.in_preview;
    delete vm.preview_before;
    return true;
  }
  return false;
}

/** The state before a preview (the engine's `preview` snapshot), kept aside for undo. */
function createHidden(e: Engine, vm: SimVM): SimSnapshot {
  return {
    id: id(),
    description: 'Active VM before the preview',
    date: Date.now(),
    status: 'ok',
    persist_memorystate: false,
    config: { ...vm.config },
    disks: vm.attachments.flatMap((a) => {
      const d = e.state.disks.find((x) => x.id === a.disk);
      return d ? [{ disk: d.id, provisioned_size: d.provisioned_size, actual_size: d.actual_size, interface: a.interface, bootable: a.bootable }] : [];
    }),
  };
}

/** The routes under vms/{id}/snapshots: [status, root, value], as the server sends them. */
export function snapshotRoute(e: Engine, method: string, vm: SimVM, sid: string | undefined, action: string | undefined, body: Tree): [number, string, unknown] {
  if (!sid) {
    if (method === 'POST') return [202, 'snapshot', snapshotView(vm, createSnapshot(e, vm, body))];
    if (method === 'GET') return [200, 'snapshots', { snapshot: [activeView(vm), ...(vm.snapshots ?? []).map((s) => snapshotView(vm, s))] }];
    throw new Fault(405, 'Method Not Allowed', '');
  }
  if (action === 'restore' && method === 'POST') {
    restoreSnapshot(e, vm, sid, body);
    return [200, 'action', { status: 'complete', snapshot: link(`vms/${vm.id}/snapshots`, sid) }];
  }
  if (action) throw notFound();
  if (method === 'DELETE') {
    removeSnapshot(e, vm, sid);
    return [200, 'action', { status: 'complete' }];
  }
  if (method === 'GET') return [200, 'snapshot', sid === activeId(vm) ? activeView(vm) : snapshotView(vm, find(vm, sid))];
  throw new Fault(405, 'Method Not Allowed', '');
}
