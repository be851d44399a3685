// VMTemplate on libvirt: a small qcow2 made here is imported over the RPC stream as a
// template, validated, and a VM is cloned from it as a linked clone (a backing file).
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { loadConnector } from '../../providers/registry.ts';
import { volumeName } from '../../providers/libvirt/domain-xml.ts';

const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
const s = Math.random().toString(36).slice(2, 6);
const TPL = `vk-test-tpl-${s}`;
const VM = `vk-test-cloned-${s}`;
const TPL2 = `vk-test-tplurl-${s}`;

describe.skipIf(!uri)('VMTemplate on libvirt', () => {
  let dir: string;
  let opts: ConvergeOptions;
  let pool: HypervisorPool;
  let c: LibvirtConnection;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vk-vtpl-'));
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'small.qcow2'), '64M']);
    pool = new HypervisorPool({ loadConnector, credentials: async () => ({ none: true }), logger: pino({ level: 'silent' }), now: Date.now, observeMaxAgeMs: 0 });
    opts = {
      folder: join(dir, 'manifests'),
      statuses: new StateDir(`${dir}-state`),
      hypervisors: pool,
      logger: pino({ level: 'silent' }),
      now: Date.now,
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 200))),
      wait: true,
      timeoutMs: 60_000,
      maxDeleteShare: 1,
    };
    c = await LibvirtConnection.connect(uri);
  });
  afterAll(async () => {
    await writeFile(
      join(dir, 'manifests', 'all.yaml'),
      `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: kvm}\nspec: {type: libvirt, hosts: [{name: host1, uri: "${uri}"}]}\n`,
    ).catch(() => undefined);
    await converge(opts).catch(() => undefined);
    const p = await c.lookupPool('default');
    for (const name of [TPL, TPL2]) {
      const vol = await c.lookupVolume(p, `${name}.qcow2`).catch(() => undefined);
      if (vol) await c.deleteVolume(vol);
    }
    await pool.closeAll();
    await c.close();
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-state`, { recursive: true, force: true });
  });

  it('imports a qcow2 as a template, validates it, and clones a VM from it', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'manifests'));
    await writeFile(
      join(dir, 'manifests', 'all.yaml'),
      [
        `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: kvm}\nspec: {type: libvirt, hosts: [{name: host1, uri: "${uri}"}]}\n`,
        `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: ${TPL}}\nspec: {hypervisor: kvm, source: {image: "${join(dir, 'small.qcow2')}"}, require: {minDisk: 32Mi}}\n`,
        `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${VM}}\nspec: {hypervisor: kvm, template: ${TPL}, clone: linked, memory: 128Mi, disks: [{name: root, size: 128Mi}], guestAgent: false}\n`,
      ].join('---\n'),
    );
    const r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.plan?.waiting ?? o.key)).toEqual([]);
    const st = await opts.statuses.read(`VMTemplate/${TPL}`);
    expect(((st?.status.conditions ?? []) as { type: string; status: string }[]).map((x) => [x.type, x.status])).toEqual([
      ['MinDisk', 'True'],
      ['Ready', 'True'],
    ]);
    const path = await c.volumePath(await c.lookupVolume(await c.lookupPool('default'), volumeName(VM, 'root')));
    const info = JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output', 'json', path]).toString()) as { 'backing-filename'?: string; 'virtual-size': number };
    expect(info['backing-filename']).toMatch(new RegExp(`${TPL}\\.qcow2$`));
    expect(info['virtual-size']).toBe(128 * 2 ** 20);

    // The same volume adopted with a requirement it fails: the condition says which.
    await writeFile(
      join(dir, 'manifests', 'big.yaml'),
      `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: ${TPL}-big}\nspec: {hypervisor: kvm, source: {existing: ${TPL}}, require: {minDisk: 1Gi}}\n`,
    );
    await converge({ ...opts, timeoutMs: 1500 });
    const big = (await opts.statuses.read(`VMTemplate/${TPL}-big`))?.status.conditions as { type: string; status: string; message: string }[];
    expect(big.find((x) => x.type === 'MinDisk')).toMatchObject({ status: 'False', message: 'disk is 64Mi, less than 1Gi' });
    expect(big.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'RequirementsNotMet' });
    await rm(join(dir, 'manifests', 'big.yaml'));
  }, 90_000);

  it('imports an image from a URL as a stream, with its progress in status', async () => {
    // A loopback HTTP server stands in for a cloud-image mirror.
    const image = await readFile(join(dir, 'small.qcow2'));
    const server = createServer((req, res) => {
      if (req.url !== '/small.qcow2') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': image.length });
      res.end(image);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await writeFile(
        join(dir, 'manifests', 'all.yaml'),
        [
          `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: kvm}\nspec: {type: libvirt, hosts: [{name: host1, uri: "${uri}"}]}\n`,
          `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: ${TPL2}}\nspec: {hypervisor: kvm, source: {image: "${url}/small.qcow2"}}\n`,
          `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: ${TPL2}-missing}\nspec: {hypervisor: kvm, source: {image: "${url}/nothing.qcow2"}}\n`,
        ].join('---\n'),
      );
      const events: { type: string; percent?: number }[] = [];
      await converge({ ...opts, timeoutMs: 3000, emit: (e) => events.push(e as { type: string; percent?: number }) });
      const st = await opts.statuses.read(`VMTemplate/${TPL2}`);
      expect(st?.status).toMatchObject({ progress: 100 });
      expect(((st?.status.conditions ?? []) as { type: string; status: string }[]).find((x) => x.type === 'Ready')?.status).toBe('True');
      expect(
        events
          .filter((e) => e.type === 'progress')
          .map((e) => e.percent)
          .at(-1),
      ).toBe(100);
      const vol = await c.lookupVolume(await c.lookupPool('default'), `${TPL2}.qcow2`);
      const path = await c.volumePath(vol);
      const info = JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output', 'json', path]).toString()) as { format: string; 'virtual-size': number };
      expect([info.format, info['virtual-size']]).toEqual(['qcow2', 64 * 2 ** 20]);
      const missing = await opts.statuses.read(`VMTemplate/${TPL2}-missing`);
      expect(JSON.stringify(missing?.status)).toMatch(/cannot download .*nothing\.qcow2: HTTP 404/);
    } finally {
      server.close();
    }
  }, 90_000);
});
