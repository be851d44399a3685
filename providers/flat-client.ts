// The provider shape before the contract was split per kind, and the one adapter from it to
// the per-kind ProviderClient. Transitional: each provider moves to per-kind clients of its
// own and stops using it; the file goes when the last one has.
import type { Target, VMAction } from '../controller/core/actions.ts';
import { VkError } from '../controller/core/errors.ts';
import type { Capabilities, Observation, OwnerRef } from '../controller/core/model.ts';
import type {
  ActionContext,
  DesiredNetwork,
  DesiredStandaloneDisk,
  DiskState,
  ExecOptions,
  ExecResult,
  KindObservation,
  NetworkState,
  ObserveOptions,
  Progress,
  ProviderClient,
  TemplateFacts,
} from '../controller/core/provider.ts';

export interface FlatProviderClient {
  readonly capabilities: Capabilities;
  ensureDisk?(d: DesiredStandaloneDisk, context?: ActionContext): Promise<DiskState>;
  deleteDisk?(d: DesiredStandaloneDisk): Promise<void>;
  inspectTemplate?(name: string): Promise<TemplateFacts>;
  importTemplate?(name: string, image: string, options?: { storage?: string; node?: string; owner?: OwnerRef; onProgress?: (p: Progress) => void }): Promise<TemplateFacts>;
  templateFromVM?(target: Target, name: string, options?: { storage?: string; onProgress?: (p: Progress) => void }): Promise<TemplateFacts>;
  ensureNetwork?(n: DesiredNetwork): Promise<NetworkState>;
  deleteNetwork?(n: DesiredNetwork): Promise<void>;
  exec?(target: Target, command: string[], options?: ExecOptions): Promise<ExecResult>;
  observe(options?: ObserveOptions): Promise<Observation>;
  execute(action: VMAction, context?: ActionContext): Promise<void>;
  watch?(onChange: (providerIDs: string[]) => void): () => void;
  close(): Promise<void>;
}

/** A flat provider has no read-only look at a disk or network: `plan` says so instead of guessing. */
export class NoObservationError extends VkError {
  override readonly code = 'VK_NO_OBSERVATION';
  constructor(what: string) {
    super(`this provider cannot look at a ${what} without changing it yet`);
  }
}

function unobservable<S>(what: string): () => Promise<KindObservation<S>> {
  return () => Promise.reject(new NoObservationError(what));
}

export function perKind(flat: FlatProviderClient, options: { fromVMConsumesVM?: boolean } = {}): ProviderClient {
  const { ensureDisk, deleteDisk, ensureNetwork, deleteNetwork, inspectTemplate, importTemplate, templateFromVM, exec, watch } = flat;
  return {
    capabilities: flat.capabilities,
    vms: { observe: (o) => flat.observe(o), execute: (a, c) => flat.execute(a, c) },
    ...(ensureDisk && deleteDisk ? { disks: { observe: unobservable<DiskState>('disk'), ensure: (d, c) => ensureDisk.call(flat, d, c), delete: (d) => deleteDisk.call(flat, d) } } : {}),
    ...(ensureNetwork && deleteNetwork ? { networks: { observe: unobservable<NetworkState>('network'), ensure: (n) => ensureNetwork.call(flat, n), delete: (n) => deleteNetwork.call(flat, n) } } : {}),
    ...(inspectTemplate
      ? {
          templates: {
            inspect: (name) => inspectTemplate.call(flat, name),
            ...(importTemplate ? { import: (name: string, image: string, o?: Parameters<typeof importTemplate>[2]) => importTemplate.call(flat, name, image, o) } : {}),
            ...(templateFromVM ? { fromVM: (t: Target, name: string, o?: Parameters<typeof templateFromVM>[2]) => templateFromVM.call(flat, t, name, o) } : {}),
            ...(options.fromVMConsumesVM ? { fromVMConsumesVM: true } : {}),
          },
        }
      : {}),
    ...(exec ? { guest: { exec: (t, cmd, o) => exec.call(flat, t, cmd, o) } } : {}),
    ...(watch ? { watch: (cb) => watch.call(flat, cb) } : {}),
    close: () => flat.close(),
  };
}
