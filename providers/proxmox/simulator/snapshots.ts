// /nodes/{node}/qemu/{vmid}/snapshot…: list, create (with the RAM state of a running VM),
// config, rollback and delete, as qemu-server does them. The API call only checks the name;
// every other check runs in the task's worker, so a locked VM or a used name is a failed task
// with the node's text, not an HTTP error. Each task holds the VM lock (`snapshot`,
// `snapshot-delete`, `rollback`) while it runs.
import { ANY, BOOL, PveError, paramError, truthy, type Route } from './http.ts';
import { diskSize, isDataDisk, type SimSnapshot, type SimState, type SimVM } from './model.ts';
import { typedConfig } from './shapes.ts';
import { volumeSizes } from './storage.ts';
import { findVM } from './qemu-common.ts';
import type { Tasks } from './tasks.ts';

export interface SnapshotEnv {
  state: () => SimState;
  tasks: Tasks;
  durations: Record<string, number>;
  now: () => number;
}

const CONFIGID = /^[a-z][a-z0-9_-]+$/i;

/** The schema's `pve-snapshot-name`: format `pve-configid`, at most 40 characters. */
const snapName = (v: string): string | undefined => {
  if (!CONFIGID.test(v)) return `invalid format - invalid configuration ID '${v}'`;
  return v.length > 40 ? 'value may only be 40 characters long' : undefined;
};

/** Keys a snapshot does not copy from the config (__snapshot_copy_config). */
const NOT_COPIED = (k: string) => ['lock', 'digest', 'description'].includes(k) || /^unused\d+$/.test(k);

const volid = (entry: string) => entry.split(',')[0] ?? '';

function snapshots(vm: SimVM): Record<string, SimSnapshot> {
  vm.snapshots ??= {};
  return vm.snapshots;
}

function getSnapshot(vm: SimVM, name: string): SimSnapshot {
  const snap = vm.snapshots?.[name];
  if (!snap) throw new PveError(500, `snapshot '${name}' does not exist`);
  return snap;
}

const checkLock = (vm: SimVM) => {
  if (vm.lock) throw new PveError(500, `VM is locked (${vm.lock})`);
};

/** Whether every disk is on storage that snapshots (lvmthin, or qcow2 on a directory). */
function canSnapshot(s: SimState, vm: SimVM): boolean {
  return Object.entries(vm.config)
    .filter(([k, v]) => isDataDisk(k, v))
    .every(([, v]) => {
      const type = s.storages.find((st) => st.storage === v.split(':')[0])?.type;
      return type === 'lvmthin' || type === 'zfspool' || type === 'rbd' || (type === 'dir' && /\.qcow2(,|$)/.test(v));
    });
}

function pathName(name: string | undefined): string {
  const problem = snapName(name ?? '');
  if (problem) throw paramError({ snapname: problem });
  return name ?? '';
}

export function snapshotRoutes(env: SnapshotEnv): Route[] {
  const s = env.state;
  const dur = (type: string) => env.durations[type] ?? env.durations.default ?? 100;
  /**
   * A worker: `prepare` runs at once (checks, the lock), `work` when the task ends. A check
   * that fails is the task's failure, as in qemu-server's fork_worker. `prepare` may return
   * the task log's first lines.
   */
  const worker = (vm: SimVM, type: string, user: string, prepare: () => string[] | undefined, work: () => void) => {
    let log: string[] | undefined;
    try {
      log = prepare();
    } catch (e) {
      return env.tasks.start({
        node: vm.node,
        type,
        id: String(vm.vmid),
        user,
        durationMs: 0,
        work: () => {
          throw e;
        },
      });
    }
    return env.tasks.start({ node: vm.node, type, id: String(vm.vmid), user, durationMs: dur(type), work, ...(log ? { log } : {}) });
  };

  return [
    {
      method: 'GET',
      pattern: '/nodes/{node}/qemu/{vmid}/snapshot',
      handler: ({ path }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        const list = Object.entries(vm.snapshots ?? {})
          .sort(([, a], [, b]) => a.snaptime - b.snaptime)
          .map(([name, d]) => ({
            name,
            snaptime: d.snaptime,
            vmstate: d.vmstate ? 1 : 0,
            description: d.description ?? '',
            ...(d.parent ? { parent: d.parent } : {}),
            ...(d.snapstate ? { snapstate: d.snapstate } : {}),
          }));
        const current = { name: 'current', running: vm.status === 'running' ? 1 : 0, description: 'You are here!', ...(vm.parent ? { parent: vm.parent } : {}) };
        return [...list, current];
      },
    },
    {
      method: 'POST',
      pattern: '/nodes/{node}/qemu/{vmid}/snapshot',
      required: ['snapname'],
      params: { snapname: snapName, vmstate: BOOL, description: ANY },
      handler: ({ path, params, user }) => {
        const name = params.snapname ?? '';
        if (name === 'current') throw new PveError(500, "unable to use snapshot name 'current' (reserved name)");
        if (name.toLowerCase() === 'pending') throw new PveError(500, "unable to use snapshot name 'pending' (reserved name)");
        const vm = findVM(s(), path.vmid ?? '', path.node);
        let snap: SimSnapshot | undefined;
        return worker(
          vm,
          'qmsnapshot',
          user,
          () => {
            if (vm.template) throw new PveError(500, "you can't take a snapshot if it's a template");
            checkLock(vm);
            if (snapshots(vm)[name]) throw new PveError(500, `snapshot name '${name}' already used`);
            if (!canSnapshot(s(), vm)) throw new PveError(500, 'snapshot feature is not available');
            vm.lock = 'snapshot';
            // A snapshot named as another's parent would make a cycle: that reference goes.
            for (const other of Object.values(snapshots(vm))) if (other.parent === name) delete other.parent;
            const config = Object.fromEntries(Object.entries(vm.config).filter(([k]) => !NOT_COPIED(k)));
            snap = { config, snaptime: Math.floor(env.now() / 1000), snapstate: 'prepare', ...(vm.parent ? { parent: vm.parent } : {}) };
            if (params.description) snap.description = params.description;
            // The RAM is saved only from a running VM; asked of a stopped one, it is not (no error).
            if (truthy(params.vmstate) && vm.status === 'running') {
              const disk = Object.entries(vm.config).find(([k, v]) => isDataDisk(k, v))?.[1];
              const storage = (disk ?? 'local-lvm:').split(':')[0] ?? 'local-lvm';
              snap.vmstate = `${storage}:vm-${vm.vmid}-state-${name}`;
              snap.runningmachine = 'pc-i440fx-10.0+pve0';
              volumeSizes(s())[snap.vmstate] = (Number(vm.config.memory ?? 512) * 2 + 500) * 2 ** 20;
            }
            snapshots(vm)[name] = snap;
            const disks = Object.entries(vm.config).filter(([k, v]) => isDataDisk(k, v));
            return [...(snap.vmstate ? [`saving VM state and RAM using storage '${snap.vmstate.split(':')[0]}'`] : []), ...disks.map(([k, v]) => `snapshotting 'drive-${k}' (${volid(v)})`)];
          },
          () => {
            if (!snap) return;
            delete snap.snapstate;
            delete vm.lock;
            vm.parent = name;
          },
        );
      },
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/qemu/{vmid}/snapshot/{snapname}',
      handler: ({ path }) => {
        findVM(s(), path.vmid ?? '', path.node);
        pathName(path.snapname);
        return [{ cmd: 'rollback' }, { cmd: 'config' }];
      },
    },
    {
      method: 'GET',
      pattern: '/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config',
      handler: ({ path }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        const d = getSnapshot(vm, pathName(path.snapname));
        return {
          ...typedConfig(d.config),
          snaptime: d.snaptime,
          ...(d.description ? { description: d.description } : {}),
          ...(d.parent ? { parent: d.parent } : {}),
          ...(d.vmstate ? { vmstate: d.vmstate, runningmachine: d.runningmachine } : {}),
          ...(d.snapstate ? { snapstate: d.snapstate } : {}),
        };
      },
    },
    {
      method: 'PUT',
      pattern: '/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config',
      params: { description: ANY },
      handler: ({ path, params }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        const name = pathName(path.snapname);
        if (params.description === undefined) return null;
        checkLock(vm);
        getSnapshot(vm, name).description = params.description;
        return null;
      },
    },
    {
      method: 'POST',
      pattern: '/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback',
      params: { start: BOOL },
      handler: ({ path, params, user }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        const name = pathName(path.snapname);
        let snap: SimSnapshot | undefined;
        return worker(
          vm,
          'qmrollback',
          user,
          () => {
            if (vm.template) throw new PveError(500, "you can't rollback if vm is a template");
            snap = getSnapshot(vm, name);
            if (snap.snapstate) throw new PveError(500, `unable to rollback to incomplete snapshot (snapstate = ${snap.snapstate})`);
            checkLock(vm);
            // qemu-server stops a running VM itself (vm_stop) before rolling its disks back.
            vm.status = 'stopped';
            delete vm.startedAt;
            vm.lock = 'rollback';
          },
          () => {
            if (!snap) return;
            const keep = Object.fromEntries(Object.entries(vm.config).filter(([k]) => k === 'description' || /^unused\d+$/.test(k)));
            // Disks made since the snapshot are not in it: they stay, as unused volumes.
            const inSnap = new Set(Object.values(snap.config).map(volid));
            let n = 0;
            for (const [k, v] of Object.entries(vm.config)) {
              if (!isDataDisk(k, v) || inSnap.has(volid(v))) continue;
              while (`unused${n}` in keep) n++;
              keep[`unused${n}`] = volid(v);
              volumeSizes(s())[volid(v)] = diskSize(v);
            }
            vm.config = { ...snap.config, ...keep };
            vm.pending = {};
            vm.pendingDelete = [];
            vm.parent = name;
            delete vm.lock;
            // A snapshot with RAM resumes where it was; otherwise `start` asks for a boot.
            if (snap.vmstate || truthy(params.start)) {
              vm.status = 'running';
              vm.startedAt = Date.now();
            }
          },
        );
      },
    },
    {
      method: 'DELETE',
      pattern: '/nodes/{node}/qemu/{vmid}/snapshot/{snapname}',
      params: { force: BOOL },
      handler: ({ path, user }) => {
        const vm = findVM(s(), path.vmid ?? '', path.node);
        const name = pathName(path.snapname);
        let snap: SimSnapshot | undefined;
        return worker(
          vm,
          'qmdelsnapshot',
          user,
          () => {
            snap = getSnapshot(vm, name);
            checkLock(vm);
            vm.lock = 'snapshot-delete';
            snap.snapstate = 'delete';
          },
          () => {
            if (!snap) return;
            if (snap.vmstate) delete volumeSizes(s())[snap.vmstate];
            // Whatever descended from it now descends from its parent.
            const parent = snap.parent;
            const relink = (o: { parent?: string }) => {
              if (o.parent !== name) return;
              if (parent) o.parent = parent;
              else delete o.parent;
            };
            relink(vm);
            for (const other of Object.values(snapshots(vm))) relink(other);
            delete snapshots(vm)[name];
            delete vm.lock;
          },
        );
      },
    },
  ];
}
