import { MemoryProvider } from '../support/memory-provider.ts';
import { describeProviderContract } from './provider-contract.ts';

describeProviderContract(
  'memory (test double)',
  async () => {
    const client = new MemoryProvider();
    return {
      client: client,
      template: 'ubuntu-24.04',
      createForeignVM: async (name) => void client.plant({ name }),
      close: async () => {},
    };
  },
  { covers: ['templatesFromVM'] },
);
