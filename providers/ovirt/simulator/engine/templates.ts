// Templates made from a VM: the VM must be down; the template is locked while its disks copy.
import type { EngineCore } from '../engine-core.ts';
import { badRequest, conflict } from '../faults.ts';
import { id, type SimTemplate, type SimVM } from '../model.ts';
import type { Tree } from '../representation.ts';

/** `POST /templates` with a VM: the VM must be down; the template is locked while its disks copy. */
export function templateFromVm(e: EngineCore, body: Tree, vm: SimVM, correlation: string | undefined): SimTemplate {
  const name = typeof body.name === 'string' ? body.name : undefined;
  if (!name) throw badRequest('[Template [name] required for add]');
  if (e.state.templates.some((t) => t.name === name)) throw conflict('[Cannot add Template. The given name is already in use. Please choose a unique name and try again.]');
  e.locked(vm, 'add Template');
  if (vm.status !== 'down') throw conflict('[Cannot add Template. VM is not down.]');
  const disks = vm.attachments.map((a) => {
    const d = e.state.disks.find((x) => x.id === a.disk);
    return { alias: d?.name ?? a.id, size: d?.provisioned_size ?? 0, interface: a.interface };
  });
  const t: SimTemplate = {
    id: id(),
    name,
    cluster: vm.cluster,
    memory: vm.config.memory,
    sockets: vm.config.sockets,
    cores: vm.config.cores,
    status: 'locked',
    disks,
    ...(body.description ? { description: String(body.description) } : {}),
  };
  e.state.templates.push(t);
  vm.status = 'image_locked';
  e.job(`Creating Template ${name} from VM ${vm.name}`, correlation, e.t.imageCopyMs, () => {
    t.status = 'ok';
    vm.status = 'down';
    e.event(52, `Creation of Template ${name} from VM ${vm.name} has been completed.`, vm.id);
  });
  return t;
}
