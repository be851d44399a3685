import { MemoryProvider } from '../support/memory-provider.ts';
import { describeSnapshotContract } from './snapshot-contract.ts';

describeSnapshotContract('memory (test double)', async () => {
  const client = new MemoryProvider();
  return { client, template: 'ubuntu-24.04', createForeignVM: async (name) => void client.plant({ name }), close: async () => {} };
});
