import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectorySource } from '../../controller/sources/directory.ts';
import { loadFolder } from '../../controller/sources/load-folder.ts';
import { DesiredStore } from '../../controller/sources/store.ts';
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
    src = new DirectorySource({
      folder: dir,
      store,
      statuses: new StateDir(join(dir, '..', `${dir.split('/').pop()}-state`)),
      logger: pino({ level: 'silent' }),
      onChange: (k) => changes.push(k),
      debounceMs: 200,
    });
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

  it('the first change to a quiet folder is read at once; what follows is coalesced', async () => {
    // A quiet period far longer than the wait: only the leading edge can make it in time.
    const own = new DesiredStore();
    const slow = new DirectorySource({ folder: dir, store: own, statuses: new StateDir(`${dir}-slow-state`), logger: pino({ level: 'silent' }), onChange: () => undefined, debounceMs: 4000 });
    await slow.start();
    try {
      const before = slow.reloads;
      const t0 = Date.now();
      await writeFile(join(dir, 'first.yaml'), vm('first'));
      await until(() => !!own.get('VirtualMachine/default/first'), 2000);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(slow.reloads - before).toBe(1);
      // Changes right after it wait for the quiet period: one more reload for all of them.
      for (let i = 0; i < 5; i++) await writeFile(join(dir, `next-${i}.yaml`), vm(`next-${i}`));
      await until(() => own.keys('VirtualMachine').length === 6, 8000);
      expect(slow.reloads - before).toBe(2);
    } finally {
      await slow.stop();
      await rm(`${dir}-slow-state`, { recursive: true, force: true });
    }
  }, 15_000);

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

/** 101 aliases in one document: one past the yaml library's limit. */
const aliasBomb = `a: &x [1]\n${Array.from({ length: 101 }, (_, i) => `b${i}: *x`).join('\n')}\n`;

describe('one file never fails the folder load', () => {
  let dir: string;
  let outside: string;
  let src: DirectorySource;
  let store: DesiredStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vk-files-'));
    outside = await mkdtemp(join(tmpdir(), 'vk-outside-'));
    await writeFile(join(dir, 'hv.yaml'), hv);
    await writeFile(join(dir, 'a.yaml'), vm('a'));
    await writeFile(join(dir, 'b.yaml'), vm('b'));
    store = new DesiredStore();
    src = new DirectorySource({ folder: dir, store, statuses: new StateDir(`${dir}-state`), logger: pino({ level: 'silent' }), onChange: () => undefined, debounceMs: 100 });
    await src.start();
    expect(store.keys('VirtualMachine')).toHaveLength(2);
  });
  afterEach(async () => {
    await src.stop();
    await Promise.all([dir, outside, `${dir}-state`].map((d) => rm(d, { recursive: true, force: true })));
  });

  it('a file over the alias limit is a problem of that file: its VM is held, the others load', async () => {
    await writeFile(join(dir, 'a.yaml'), aliasBomb);
    await writeFile(join(dir, 'c.yaml'), vm('c'));
    await until(() => store.isBroken('a.yaml') && !!store.get('VirtualMachine/default/c'));
    expect(store.broken.get('a.yaml')?.[0]).toMatch(/a\.yaml:\d+: .*alias.*at most 100 aliases per document/);
    expect(store.get('VirtualMachine/default/a')?.heldBecause).toBeDefined();
    expect(store.get('VirtualMachine/default/b')?.heldBecause).toBeUndefined();
  });

  it('a manifest turned into a link outside the folder is held and reported, not deleted', async () => {
    await writeFile(join(outside, 'a.yaml'), vm('a'));
    await unlink(join(dir, 'a.yaml'));
    await symlink(join(outside, 'a.yaml'), join(dir, 'a.yaml'));
    await until(() => store.isBroken('a.yaml'));
    expect(store.broken.get('a.yaml')?.[0]).toMatch(/symbolic link to a path outside the folder/);
    expect(store.get('VirtualMachine/default/a')?.heldBecause).toBeDefined();
  });

  it('a link that stays inside the folder is followed, and a linked file is loaded once', async () => {
    // The target sits where the walk does not look (a hidden folder): only the link brings it in.
    await mkdir(join(dir, '.versions'));
    await writeFile(join(dir, '.versions', 'c-v2.yaml'), vm('c'));
    await symlink(join('.versions', 'c-v2.yaml'), join(dir, 'c.yaml'));
    await unlink(join(dir, 'a.yaml'));
    await mkdir(join(dir, 'real'));
    await writeFile(join(dir, 'real', 'a.yaml'), vm('a'));
    await symlink('real', join(dir, 'linked'));
    await until(() => !!store.get('VirtualMachine/default/c') && !!store.get('VirtualMachine/default/a'));
    expect(store.broken.size).toBe(0);
    expect(store.get('VirtualMachine/default/c')?.source?.file).toBe('c.yaml');
    expect(store.get('VirtualMachine/default/a')?.source?.file).toBe(join('real', 'a.yaml'));
  });

  it('a folder that became a link to nothing holds everything that came from below it', async () => {
    await mkdir(join(dir, 'team'));
    await writeFile(join(dir, 'team', 'd.yaml'), vm('d'));
    await until(() => !!store.get('VirtualMachine/default/d'));
    await rm(join(dir, 'team'), { recursive: true });
    await symlink(join(outside, 'gone'), join(dir, 'team'));
    await until(() => store.isBroken('team/d.yaml'));
    expect(store.get('VirtualMachine/default/d')?.heldBecause?.[0]).toMatch(/^team\/:1: symbolic link to nothing/);
  });
});

describe('loadFolder', () => {
  it('a file over the size cap is reported with the limit, and the others load', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vk-big-'));
    try {
      await writeFile(join(dir, 'hv.yaml'), hv);
      await writeFile(join(dir, 'a.yaml'), vm('a'));
      await writeFile(join(dir, 'big.yaml'), `${vm('big')}# ${'x'.repeat(5 * 2 ** 20)}\n`);
      const load = await loadFolder(dir);
      expect(load.resources.map((r) => r.key)).toContain('VirtualMachine/default/a');
      expect(load.problems).toEqual([expect.objectContaining({ file: 'big.yaml', message: expect.stringMatching(/5 MiB, over the size limit \(the limit is 4 MiB per file\)/) })]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a pipe named like a manifest is reported, never read (it would block the load)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vk-fifo-'));
    try {
      await writeFile(join(dir, 'hv.yaml'), hv);
      execFileSync('mkfifo', [join(dir, 'pipe.yaml'), join(dir, 'pipe')]);
      await symlink('pipe', join(dir, 'linked.yaml'));
      const load = await loadFolder(dir);
      expect(load.problems.map((p) => [p.file, p.message])).toEqual([
        ['linked.yaml', expect.stringMatching(/not a regular file/)],
        ['pipe.yaml', expect.stringMatching(/not a regular file/)],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a folder that does not exist is a problem, not a rejection', async () => {
    const load = await loadFolder(join(tmpdir(), 'vk-no-such-folder-4242'));
    expect(load.problems).toEqual([expect.objectContaining({ file: './' })]);
  });

  it('files that vanish while the folder is read (a checkout mid-switch) never fail the load', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vk-churn-'));
    try {
      await writeFile(join(dir, 'hv.yaml'), hv);
      await Promise.all(Array.from({ length: 40 }, (_, i) => writeFile(join(dir, `s-${i}.yaml`), vm(`s-${i}`))));
      let stop = false;
      // Files appear and disappear as fast as the file system allows, racing readdir → read.
      const churn = (async () => {
        for (let i = 0; !stop; i++) {
          const f = join(dir, `t-${i % 20}.yaml`);
          await writeFile(f, vm(`t-${i % 20}`));
          await unlink(f);
        }
      })();
      let vanished = 0;
      try {
        for (let i = 0; i < 150; i++) {
          const load = await loadFolder(dir);
          expect(load.resources.filter((r) => r.key.startsWith('VirtualMachine/default/s-'))).toHaveLength(40);
          vanished += load.problems.filter((p) => /vanished/.test(p.message)).length;
          for (const p of load.problems) expect(p.message).toMatch(/vanished|empty file|no YAML documents/);
        }
      } finally {
        stop = true;
        await churn;
      }
      expect(vanished).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
