// The provider contract against a real libvirtd (scripts/provision/libvirt.sh).
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { LibvirtProvider } from '../../providers/libvirt/provider.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { describeProviderContract } from '../contract/provider-contract.ts';

const uri = process.env.VK_LIBVIRT_URI_1;

describeProviderContract(
  'libvirt (real libvirtd)',
  async () => {
    // A small raw image the contract imports as a template.
    const imageDir = await mkdtemp(join(tmpdir(), 'vk-contract-img-'));
    const imageFile = join(imageDir, 'tiny.raw');
    await writeFile(imageFile, '');
    await truncate(imageFile, 8 * 2 ** 20);
    const provider = new LibvirtProvider({ hosts: [{ name: 'host1', uri: uri ?? '' }], logger: pino({ level: 'silent' }) });
    const raw = await LibvirtConnection.connect(uri ?? '');
    const foreign: string[] = [];
    return {
      client: provider,
      imageFile,
      networkExists: (name) =>
        raw.lookupNetwork(name).then(
          () => true,
          () => false,
        ),
      diskExists: async (providerID) =>
        raw.lookupVolume(await raw.lookupPool('default'), providerID.split('/').pop() ?? '').then(
          () => true,
          () => false,
        ),
      removeTemplate: async (name) => {
        const vol = await raw.lookupVolume(await raw.lookupPool('default'), `${name}.qcow2`).catch(() => undefined);
        if (vol) await raw.deleteVolume(vol);
      },
      createForeignVM: async (name) => {
        foreign.push(name);
        await raw.defineXML(`<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>`);
      },
      close: async () => {
        await rm(imageDir, { recursive: true, force: true });
        for (const n of foreign) {
          const d = await raw.lookupDomain(n).catch(() => undefined);
          if (d) await raw.undefine(d);
        }
        await raw.close();
        await provider.close();
      },
    };
  },
  { skip: !uri, covers: ['disks', 'networks', 'templatesFromVM', 'imageImport'] },
);
