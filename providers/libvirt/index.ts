// The libvirt connector: one provider per Hypervisor, one RPC connection per host.
import type { ProviderConnector } from '../../controller/core/provider.ts';
import { LibvirtProvider } from './provider.ts';

export const libvirtConnector: ProviderConnector = {
  type: 'libvirt',
  conventions: { virtualNetworks: 'own' },
  async connect({ spec, logger }) {
    return new LibvirtProvider({
      hosts: spec.hosts ?? [],
      logger,
      ...(spec.defaults ? { defaults: spec.defaults } : {}),
      ...(spec.migration ? { migration: spec.migration } : {}),
      // spec.tls: caBundle is the CA itself (caRef is not resolved for any provider yet).
      ...(spec.tls ? { tls: { ...(spec.tls.caBundle ? { caBundle: spec.tls.caBundle } : {}), ...(spec.tls.insecureSkipVerify ? { insecureSkipVerify: true } : {}) } } : {}),
    });
  },
};
