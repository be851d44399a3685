// Directory mode's way to one VM for a day-2 command (`console`, `exec`): its record in the
// state directory gives the hypervisor's id for it, the folder its Hypervisor, and the target
// names the resource and instance, so the provider re-reads the VM and acts only if its marker
// says it is that resource's (the id may since belong to another VM).
import type { Logger } from 'pino';
import { parseKey } from '../api/keys.ts';
import type { Hypervisor } from '../api/types.ts';
import { VkError } from '../core/errors.ts';
import type { Target } from '../core/provider.ts';
import { formatProblem, loadFolder } from '../sources/load-folder.ts';
import { makeLogger, stateFor, type GlobalOptions } from './context.ts';
import { directoryInstance } from './instance.ts';

/** The VM, or its Hypervisor, is not where a day-2 command looks: says what to run first. */
export class FolderTargetError extends VkError {
  override readonly code = 'VK_NOT_FOUND';
  override readonly kind = 'not-found';
}

export interface FolderTarget {
  key: string;
  hypervisor: Hypervisor;
  target: Target;
  logger: Logger;
}

export async function folderTarget(vmName: string, o: { filename: string; namespace: string; instance?: string }, g: GlobalOptions): Promise<FolderTarget> {
  const logger = makeLogger(g.logLevel, 'warn');
  const key = `VirtualMachine/${o.namespace}/${vmName}`;
  const state = stateFor(o.filename, g);
  const instance = directoryInstance(o.instance, state.dir);
  const record = await state.read(key);
  const providerID = record?.status.providerID as string | undefined;
  if (!record || !providerID) throw new FolderTargetError(`${key} has no VM on a hypervisor yet; run \`virtkeeper apply -f ${o.filename}\` first`);
  const load = await loadFolder(o.filename);
  const hypervisor = load.resources.find((r) => r.key === `Hypervisor/${record.hypervisor}`)?.resource as Hypervisor | undefined;
  if (!hypervisor) {
    const first = load.problems[0];
    throw new FolderTargetError(`Hypervisor ${record.hypervisor} is not declared in ${o.filename}${first ? ` (${formatProblem(first)})` : ''}`);
  }
  const id = parseKey(key);
  return {
    key,
    hypervisor,
    logger,
    target: {
      providerID,
      name: vmName,
      ...(record.status.node ? { node: String(record.status.node) } : {}),
      owner: { kind: 'VirtualMachine', namespace: id.namespace ?? 'default', name: id.name, instance },
    },
  };
}
