// The provider contract against a real libvirtd (scripts/provision/libvirt.sh).
import { pino } from 'pino';
import { LibvirtProvider } from '../../providers/libvirt/provider.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { describeProviderContract } from '../contract/provider-contract.ts';

const uri = process.env.VK_LIBVIRT_URI_1;

describeProviderContract('libvirt (real libvirtd)', async () => {
  const provider = new LibvirtProvider({ hosts: [{ name: 'host1', uri: uri ?? '' }], logger: pino({ level: 'silent' }) });
  const raw = await LibvirtConnection.connect(uri ?? '');
  const foreign: string[] = [];
  return {
    client: provider,
    removeTemplate: async (name) => {
      const vol = await raw.lookupVolume(await raw.lookupPool('default'), `${name}.qcow2`).catch(() => undefined);
      if (vol) await raw.deleteVolume(vol);
    },
    createForeignVM: async (name) => {
      foreign.push(name);
      await raw.defineXML(`<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>`);
    },
    close: async () => {
      for (const n of foreign) {
        const d = await raw.lookupDomain(n).catch(() => undefined);
        if (d) await raw.undefine(d);
      }
      await raw.close();
      await provider.close();
    },
  };
}, { skip: !uri });
