// What `plan` shows for a VirtualDisk: created, grown, and a move as a detach then an attach.
import { describe, expect, it } from 'vitest';
import type { VirtualDisk } from '../../controller/api/types.ts';
import { diskIntents } from '../../controller/runtime/reconcilers/disk.ts';

const disk = (size: string, vm?: string): VirtualDisk => ({
  apiVersion: 'virtkeeper.io/v1alpha1',
  kind: 'VirtualDisk',
  metadata: { name: 'data', namespace: 'default' },
  spec: { hypervisor: 'pve', size, ...(vm ? { attachTo: { vm } } : {}) },
});

const cases: { name: string; disk: VirtualDisk; known?: VirtualDisk['status']; want?: string; intents: string[] }[] = [
  { name: 'a new disk is created where it is attached', disk: disk('2Gi', 'a'), want: 'a', intents: ['+ create disk data of 2Gi, attached to a'] },
  { name: 'a new unattached disk', disk: disk('2Gi'), intents: ['+ create disk data of 2Gi'] },
  { name: 'nothing to do', disk: disk('2Gi', 'a'), known: { providerID: 'x', attachedTo: 'a', actualSize: '2Gi' }, want: 'a', intents: [] },
  { name: 'a grow', disk: disk('3Gi', 'a'), known: { providerID: 'x', attachedTo: 'a', actualSize: '2Gi' }, want: 'a', intents: ['~ grow disk data from 2Gi to 3Gi'] },
  {
    name: 'a move is a detach then an attach',
    disk: disk('2Gi', 'b'),
    known: { providerID: 'x', attachedTo: 'a', actualSize: '2Gi' },
    want: 'b',
    intents: ['~ detach disk data from a', '~ attach disk data to b'],
  },
  { name: 'a detach', disk: disk('2Gi'), known: { providerID: 'x', attachedTo: 'a', actualSize: '2Gi' }, intents: ['~ detach disk data from a'] },
  { name: 'an attach of an available disk', disk: disk('2Gi', 'b'), known: { providerID: 'x', actualSize: '2Gi' }, want: 'b', intents: ['~ attach disk data to b'] },
];

describe('VirtualDisk plan intents', () => {
  for (const c of cases) {
    it(c.name, () => {
      expect(diskIntents(c.disk, c.known, c.want).map((i) => `${i.symbol} ${i.summary}`)).toEqual(c.intents);
    });
  }
});
