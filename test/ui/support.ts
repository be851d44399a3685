// Shared by the inventory's unit tests.
import type { ObservedVM } from '../../controller/core/model.ts';

export function vm(name: string, over: Partial<ObservedVM> = {}): ObservedVM {
  return {
    providerID: `id-${name}`,
    name,
    node: 'n1',
    power: 'running',
    cpu: { sockets: 1, cores: 2, threads: 1 },
    memoryBytes: 2 * 2 ** 30,
    disks: [{ name: 'root', sizeBytes: 10 * 2 ** 30 }],
    nics: [],
    isTemplate: false,
    ipAddresses: [],
    pendingRestart: false,
    ...over,
  };
}
