// Maps a Hypervisor type to its connector, loaded on first use so a folder with only
// Proxmox hypervisors never loads the libvirt RPC code.
import type { HypervisorSpec } from '../controller/api/types.ts';
import { VkError } from '../controller/core/errors.ts';
import type { ProviderConnector } from '../controller/core/provider.ts';

export class UnknownProviderError extends VkError {
  override readonly code = 'VK_PROVIDER_UNAVAILABLE';
  override readonly kind = 'invalid';
}

export type ConnectorLoader = (type: HypervisorSpec['type']) => Promise<ProviderConnector>;

const EXPORTS: Record<HypervisorSpec['type'], string> = { proxmox: 'proxmoxConnector', ovirt: 'ovirtConnector', libvirt: 'libvirtConnector' };

export const loadConnector: ConnectorLoader = async (type) => {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(`./${type}/index.ts`)) as Record<string, unknown>;
  } catch (e) {
    throw new UnknownProviderError(`the ${type} provider could not be loaded: ${(e as Error).message}`);
  }
  const connector = mod[EXPORTS[type]] as ProviderConnector | undefined;
  if (!connector) throw new UnknownProviderError(`the ${type} provider has no ${EXPORTS[type]} export`);
  return connector;
};
