// VMTemplate source.existing on the Proxmox simulator: adopted and validated, a condition per
// requirement; a VM on a template that fails one waits with the reason. source.image (an
// image file imported with import-from) and source.fromVirtualMachine (converted in place).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { loadConnector } from '../../providers/registry.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

describe('VMTemplate (existing) on Proxmox', () => {
  let sim: RunningProxmoxSimulator;
  let dir: string;
  let pool: HypervisorPool;
  beforeAll(async () => {
    sim = await startProxmoxSimulator({ nodes: 1, templates: ['ubuntu-24.04'], taskDurations: { default: 5 } });
    dir = await mkdtemp(join(tmpdir(), 'vk-tpl-'));
    pool = new HypervisorPool({
      loadConnector,
      credentials: directoryCredentials({ VIRTKEEPER_PVE_TOKEN: `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}` }),
      logger: pino({ level: 'silent' }),
      now: Date.now,
      observeMaxAgeMs: 0,
    });
  });
  afterAll(async () => {
    await pool.closeAll();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-state`, { recursive: true, force: true });
  });

  it('validates each requirement and holds back VMs on a template that fails one', async () => {
    const tpl = (name: string, minDisk: string) =>
      `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: ${name}}\nspec: {hypervisor: pve, name: ubuntu-24.04, source: {existing: ubuntu-24.04}, require: {guestAgent: true, cloudInit: true, minDisk: ${minDisk}}}\n`;
    const vm = (name: string, template: string) => `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec: {hypervisor: pve, template: ${template}, memory: 1Gi}\n`;
    await writeFile(
      join(dir, 'all.yaml'),
      [
        `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n`,
        tpl('ubuntu-small', '5Gi'),
        tpl('ubuntu-big', '20Gi'),
        vm('ok-vm', 'ubuntu-small'),
        vm('held-vm', 'ubuntu-big'),
      ].join('---\n'),
    );
    const statuses = new StateDir(`${dir}-state`);
    const r = await converge({ folder: dir, statuses, hypervisors: pool, logger: pino({ level: 'silent' }), now: Date.now, sleep: async () => {} });
    const small = (await statuses.read('VMTemplate/ubuntu-small'))?.status.conditions as { type: string; status: string; message: string }[];
    expect(small.map((c) => [c.type, c.status])).toEqual([
      ['CloudInit', 'True'],
      ['GuestAgent', 'True'],
      ['MinDisk', 'True'],
      ['Ready', 'True'],
    ]);
    const big = (await statuses.read('VMTemplate/ubuntu-big'))?.status.conditions as { type: string; status: string; message: string }[];
    expect(big.find((c) => c.type === 'MinDisk')).toMatchObject({ status: 'False', message: 'disk is 8Gi, less than 20Gi' });
    expect(big.find((c) => c.type === 'Ready')?.status).toBe('False');
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/held-vm')?.plan?.waiting).toMatch(/VMTemplate ubuntu-big is not Ready \(template ubuntu-24.04: disk smaller than 20Gi\)/);
    expect(
      sim
        .dump()
        .vms.filter((v) => !v.template)
        .map((v) => v.config.name),
    ).toEqual(['ok-vm']);

    // Adopted on a named node: the template is on pve1, so asking for pve2 says so.
    await writeFile(
      join(dir, 'all.yaml'),
      [
        `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n`,
        `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: elsewhere}\nspec: {hypervisor: pve, node: pve2, source: {existing: ubuntu-24.04}}\n`,
      ].join('---\n'),
    );
    await converge({ folder: dir, statuses, hypervisors: pool, logger: pino({ level: 'silent' }), now: Date.now, sleep: async () => {} });
    const elsewhere = (await statuses.read('VMTemplate/elsewhere'))?.status.conditions as { type: string; status: string; message: string }[];
    expect(elsewhere.find((c) => c.type === 'Node')).toMatchObject({ status: 'False', message: 'template ubuntu-24.04 is on pve1, not pve2' });
    expect(elsewhere.find((c) => c.type === 'Ready')?.status).toBe('False');
  });

  it('imports an image made here as a template, makes a template from a stopped VM, and clones from both', async () => {
    // A qcow2 when qemu-img is here, else a sparse raw image: both are what import-from takes.
    let image = join(dir, 'small.raw');
    let size = 64 * 2 ** 20;
    try {
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'small.qcow2'), '96M']);
      image = join(dir, 'small.qcow2');
      size = 96 * 2 ** 20;
    } catch {
      await truncate(image, size).catch(async () => {
        await writeFile(image, '');
        await truncate(image, size);
      });
    }
    const hv = `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n`;
    const vm = (name: string, template: string, extra = '') =>
      `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec: {hypervisor: pve, template: ${template}, memory: 1Gi${extra}}\n`;
    const imported = `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: cloud}\nspec: {hypervisor: pve, storage: local-lvm, source: {image: "${image}"}, require: {cloudInit: true, guestAgent: true}}\n`;
    const golden = `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: golden}\nspec: {hypervisor: pve, source: {fromVirtualMachine: builder}}\n`;
    const write = (...docs: string[]) => writeFile(join(dir, 'all.yaml'), [hv, ...docs].join('---\n'));
    const statuses = new StateDir(`${dir}-state2`);
    const run = () =>
      converge({
        folder: dir,
        statuses,
        hypervisors: pool,
        logger: pino({ level: 'silent' }),
        now: Date.now,
        sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
        wait: true,
        timeoutMs: 20_000,
      });

    await write(imported, vm('builder', 'cloud', ', runStrategy: Halted'), golden, vm('web', 'golden'));
    const r = await run();
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    const guests = sim.dump().vms;
    const cloud = guests.find((v) => v.config.name === 'cloud');
    expect(cloud?.template).toBe(true);
    expect(cloud?.config.scsi0).toMatch(new RegExp(`^local-lvm:base-${cloud?.vmid}-disk-0,size=${size / 2 ** 20}M`));
    expect(cloud?.config.ide2).toMatch(/cloudinit/);
    expect((await statuses.read('VMTemplate/cloud'))?.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'True' })]));
    // The builder became the golden template in place, and is not made again; web is its clone.
    expect(guests.filter((v) => v.config.name === 'builder')).toHaveLength(0);
    const gold = guests.find((v) => v.config.name === 'golden');
    expect(gold?.template).toBe(true);
    expect(gold?.config.description).toMatch(/virtkeeper.io\/owner=VirtualMachine\/default\/builder/);
    expect(guests.find((v) => v.config.name === 'web')?.template).toBe(false);
    expect(
      guests
        .filter((v) => v.template)
        .map((v) => v.config.name)
        .sort(),
    ).toEqual(['cloud', 'golden', 'ubuntu-24.04']);
    // Another pass changes nothing: the converted builder is reported, not re-created.
    await run();
    expect(sim.dump().vms.length).toBe(guests.length);
    expect((await statuses.read('VirtualMachine/default/builder'))?.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Ready', reason: 'ConvertedToTemplate' })]));
    await rm(`${dir}-state2`, { recursive: true, force: true });
  });

  it('imports an image from a URL: the node downloads it once into its import store, then import-from', async () => {
    const image = Buffer.alloc(32);
    image.writeUInt32BE(0x514649fb, 0); // a qcow2 header declaring 2 GiB
    image.writeUInt32BE(3, 4);
    image.writeBigUInt64BE(2n * 2n ** 30n, 24);
    let downloads = 0;
    const server = createServer((req, res) => {
      if (req.url !== '/images/noble.qcow2') return void res.writeHead(404).end();
      downloads++;
      res.writeHead(200, { 'content-length': image.length }).end(image);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/images/noble.qcow2`;
    const statuses = new StateDir(`${dir}-state3`);
    try {
      await writeFile(
        join(dir, 'all.yaml'),
        [
          `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n`,
          `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: noble}\nspec: {hypervisor: pve, storage: local-lvm, source: {image: "${url}"}, require: {minDisk: 2Gi}}\n`,
        ].join('---\n'),
      );
      const run = () =>
        converge({
          folder: dir,
          statuses,
          hypervisors: pool,
          logger: pino({ level: 'silent' }),
          now: Date.now,
          sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
          wait: true,
          timeoutMs: 20_000,
        });
      const r = await run();
      expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
      const t = sim.dump().vms.find((v) => v.config.name === 'noble');
      expect(t?.template).toBe(true);
      expect(t?.config.scsi0).toMatch(/^local-lvm:base-\d+-disk-0,size=2G/);
      expect(sim.dump().importImages).toEqual({ 'local:import/noble.qcow2': 2 * 2 ** 30 });
      await run();
      expect(downloads).toBe(1);

      // A download that fails fails its task, and the template says why.
      await writeFile(
        join(dir, 'all.yaml'),
        [
          `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}}\n`,
          `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: gone}\nspec: {hypervisor: pve, source: {image: "${url.replace('noble', 'gone')}"}}\n`,
        ].join('---\n'),
      );
      await converge({ folder: dir, statuses, hypervisors: pool, logger: pino({ level: 'silent' }), now: Date.now, sleep: async () => {}, wait: true, timeoutMs: 1500 });
      expect(JSON.stringify((await statuses.read('VMTemplate/gone'))?.status)).toMatch(/download failed: 404/);
    } finally {
      server.close();
      await rm(`${dir}-state3`, { recursive: true, force: true });
    }
  });
});
