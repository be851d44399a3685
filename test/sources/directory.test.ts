import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectorySource } from '../../controller/sources/directory.ts';
import { DesiredStore } from '../../controller/runtime/store.ts';
import { StateDir } from '../../controller/status/state-dir.ts';

const vm = (name: string) => `apiVersion: virtkeeper.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}}
spec: {hypervisor: hv, memory: 1Gi}
`;
const hv = 'apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: hv}\nspec: {type: proxmox, endpoint: "http://127.0.0.1:1"}\n';

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('directory source (chokidar)', () => {
  let dir: string;
  let src: DirectorySource;
  let store: DesiredStore;
  let changes: Set<string>[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vk-watch-'));
    await writeFile(join(dir, 'hv.yaml'), hv);
    store = new DesiredStore();
    changes = [];
    src = new DirectorySource({ folder: dir, store, statuses: new StateDir(join(dir, '..', `${dir.split('/').pop()}-state`)), logger: pino({ level: 'silent' }), onChange: (k) => changes.push(k), debounceMs: 200 });
    await src.start();
  });
  afterEach(async () => {
    await src.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a burst of 500 files in nested folders is one pass', async () => {
    const before = src.reloads;
    await mkdir(join(dir, 'team-a', 'web'), { recursive: true });
    await Promise.all(Array.from({ length: 500 }, (_, i) => writeFile(join(dir, 'team-a', 'web', `vm-${i}.yaml`), vm(`vm-${i}`))));
    await until(() => store.keys('VirtualMachine').length === 500);
    expect(src.reloads - before).toBeLessThanOrEqual(2);
  });

  it('sees edits, renames, several documents per file and deletions', async () => {
    await writeFile(join(dir, 'a.yaml'), `${vm('a')}---\n${vm('b')}`);
    await until(() => store.keys('VirtualMachine').length === 2);
    await rename(join(dir, 'a.yaml'), join(dir, 'renamed.yaml'));
    await until(() => store.get('VirtualMachine/default/a')?.source?.file === 'renamed.yaml');
    await writeFile(join(dir, 'renamed.yaml'), vm('a').replace('1Gi', '2Gi'));
    await until(() => store.keys('VirtualMachine').length === 1);
    await unlink(join(dir, 'renamed.yaml'));
    await until(() => store.keys('VirtualMachine').length === 0);
  });

  it('a broken edit holds the resources of that file as they were', async () => {
    await writeFile(join(dir, 'a.yaml'), vm('a'));
    await until(() => store.keys('VirtualMachine').length === 1);
    await writeFile(join(dir, 'a.yaml'), 'spec: [unclosed');
    await until(() => store.broken.has('a.yaml'));
    expect(store.get('VirtualMachine/default/a')?.heldBecause?.[0]).toMatch(/a\.yaml:1: YAML syntax/);
  });
});
