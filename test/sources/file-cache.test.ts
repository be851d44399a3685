// A long-running folder reader parses only the files that changed, and what it hands out of
// the unchanged ones is a copy, with problems still naming file and line.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VirtualMachine } from '../../controller/api/types.ts';
import { DesiredFolder } from '../../controller/sources/folder.ts';
import { StateDir } from '../../controller/status/state-dir.ts';

const hv = 'apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "https://pve:8006", credentialsRef: {env: PVE}}\n';
const vm = (name: string, memory = '1Gi') => `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: ${name}\nspec:\n  hypervisor: pve\n  template: t\n  memory: ${memory}\n`;

const memoryOf = (f: DesiredFolder, key: string) => (f.store.get(key)?.resource as VirtualMachine | undefined)?.spec.memory;

describe('DesiredFolder file cache', () => {
  let dir: string;
  let folder: DesiredFolder;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vk-fcache-'));
    await writeFile(join(dir, 'hv.yaml'), hv);
    await writeFile(join(dir, 'a.yaml'), `${vm('a1')}---\n${vm('a2')}`);
    await writeFile(join(dir, 'b.yaml'), vm('b1'));
    folder = new DesiredFolder({ path: dir, statuses: new StateDir(`${dir}-state`) });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-state`, { recursive: true, force: true });
  });

  it('parses again only the file that changed, and reports what changed', async () => {
    await folder.read();
    expect(folder.cache.misses).toBe(3);
    const again = await folder.read();
    expect(again.changed.size).toBe(0);
    expect(folder.cache).toMatchObject({ misses: 3, hits: 3 });
    await writeFile(join(dir, 'b.yaml'), vm('b1', '2Gi'));
    const edited = await folder.read();
    expect([...edited.changed]).toEqual(['VirtualMachine/default/b1']);
    expect(folder.cache).toMatchObject({ misses: 4, hits: 5 });
    expect(memoryOf(folder, 'VirtualMachine/default/b1')).toBe('2Gi');
  });

  it('keeps its own copy: a resource changed by a reader is read as the file says next time, and what it hands out again is frozen', async () => {
    await folder.read();
    const a1 = folder.store.get('VirtualMachine/default/a1')?.resource as VirtualMachine | undefined;
    if (a1) a1.spec.memory = '64Gi';
    const again = await folder.read();
    expect(again.changed).toEqual(new Set(['VirtualMachine/default/a1']));
    expect(memoryOf(folder, 'VirtualMachine/default/a1')).toBe('1Gi');
    const cached = folder.store.get('VirtualMachine/default/a1')?.resource as VirtualMachine;
    expect(() => {
      cached.spec.memory = '64Gi';
    }).toThrow(TypeError);
    expect((await folder.read()).changed.size).toBe(0);
  });

  it('names the line of a cached file in a problem found across files', async () => {
    await folder.read();
    // a.yaml is unchanged (cached); the new file clashes with its second document (its name at line 13).
    await writeFile(join(dir, 'c.yaml'), vm('a2'));
    const r = await folder.read();
    expect(folder.cache.hits).toBeGreaterThanOrEqual(3);
    expect(r.problems.join('\n')).toContain('a.yaml:13');
    expect(r.problems.join('\n')).toContain('c.yaml:4');
    // The same lines as a reader without a cache finds.
    const fresh = new DesiredFolder({ path: dir, statuses: new StateDir(`${dir}-state`) });
    expect((await fresh.read()).problems).toEqual(r.problems);
  });

  it('forgets a file that went, and parses it again when it comes back', async () => {
    await folder.read();
    await rm(join(dir, 'b.yaml'));
    expect((await folder.read()).changed).toEqual(new Set(['VirtualMachine/default/b1']));
    await writeFile(join(dir, 'b.yaml'), vm('b1'));
    const misses = folder.cache.misses;
    await folder.read();
    expect(folder.cache.misses).toBe(misses + 1);
    expect(folder.store.get('VirtualMachine/default/b1')).toBeDefined();
  });
});
