// Live drain progress on the two real libvirt hosts: a booted guest with 48 MiB of random data
// in its memory is drained off host1 with the migration bandwidth held to 2 MiB/s, so the move
// takes seconds; while it runs, the VM's status carries the source daemon's job info (percent,
// bytes, start) in steps, and the Hypervisor's Maintenance condition says "1 migrating (N %)".
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VirtualMachineStatus } from '../../controller/api/types.ts';
import { converge } from '../../controller/runtime/converge.ts';
import type { StatusRecord } from '../../controller/status/writer.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';
import { until } from '../support/until.ts';
import { recordingStatuses } from '../support/recording-statuses.ts';

const run = promisify(execFile);
const uri1 = process.env.VK_LIBVIRT_URI_1 ?? '';
const uri2 = process.env.VK_LIBVIRT_URI_2 ?? '';
const image = process.env.VK_GUEST_IMAGE ?? '';
const suffix = Math.random().toString(36).slice(2, 6);
const POOL = `vkprog-${suffix}`;
const SHARED = `/var/lib/virtkeeper-prog-${suffix}`;
const HV = `kvm-prog-${suffix}`;
const TPL = `vk-prog-tpl-${suffix}`;
const VM = `vk-prog-${suffix}`;

describe.skipIf(!uri1 || !uri2 || !image)('libvirt: a drain shows the migration as it moves (two real hosts)', () => {
  let f: ConvergeFolder;
  let maintenance = '';
  const hv = () =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${HV}}\nspec:\n  type: libvirt\n  hosts: [{name: host1, uri: "${uri1}"}, {name: host2, uri: "${uri2}"}]\n  defaults: {storagePool: ${POOL}}\n  migration: {sharedStorage: true, maxConcurrent: 1, bandwidth: 2}\n${maintenance}`;
  const tpl = `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: ${TPL}}\nspec: {hypervisor: ${HV}, source: {image: "${image}"}}\n`;
  const vm = (pin?: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${VM}}\nspec:\n  hypervisor: ${HV}\n  template: ${TPL}\n  clone: linked\n  memory: 256Mi\n  disks: [{name: root, size: 64Mi}]\n  guestAgent: true\n${pin ? `  placement: {node: ${pin}}\n` : ''}`;

  beforeAll(async () => {
    // The guest's boot loader trips this machine's nested KVM; TCG boots it in seconds (as test/libvirt/guest.test.ts).
    process.env.VK_LIBVIRT_DOMAIN_TYPE = 'qemu';
    await mkdir(SHARED, { recursive: true });
    for (const uri of [uri1, uri2]) {
      await run('virsh', ['-c', uri, 'pool-define-as', POOL, 'dir', '--target', SHARED]);
      await run('virsh', ['-c', uri, 'pool-start', POOL]);
    }
    f = await convergeFolder({ prefix: 'vk-lv-prog-', header: hv, timeoutMs: 120_000 });
  }, 60_000);
  afterAll(async () => {
    maintenance = '';
    await f?.write();
    await converge(f.opts).catch(() => undefined);
    for (const uri of [uri1, uri2]) {
      const c = await LibvirtConnection.connect(uri).catch(() => undefined);
      const d = await c?.lookupDomain(VM).catch(() => undefined);
      if (c && d) {
        await c.destroy(d).catch(() => undefined);
        await c.undefine(d).catch(() => undefined);
      }
      await c?.close();
      await run('virsh', ['-c', uri, 'pool-destroy', POOL]).catch(() => undefined);
      await run('virsh', ['-c', uri, 'pool-undefine', POOL]).catch(() => undefined);
    }
    await rm(SHARED, { recursive: true, force: true });
    await f?.close();
  }, 120_000);

  it('writes the job info in steps and the Hypervisor’s drain while the domain migrates', async () => {
    await f.write(tpl, vm('host1'));
    const r0 = await converge(f.opts);
    expect(r0.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.plan?.waiting ?? o.key)).toEqual([]);
    // Memory the guest really uses, which QEMU must send page by page (zero pages cost nothing).
    const conn = (await f.pool.connections()).find((c) => c.name === HV);
    const domain = (await conn?.client.vms.observe())?.vms.find((v) => v.name === VM);
    if (!conn?.client.guest || !domain) throw new Error('not observed');
    const target = { providerID: domain.providerID, name: VM, ...(domain.node ? { node: domain.node } : {}), ...(domain.owner ? { owner: domain.owner } : {}) };
    const guest = conn.client.guest;
    await until(
      'the guest agent to fill 48 MiB of /run',
      async () => (await guest.exec(target, ['dd', 'if=/dev/urandom', 'of=/run/fill', 'bs=1M', 'count=48'], { timeoutMs: 60_000 })).exitCode === 0,
      90_000,
      1000,
    );

    const writes: StatusRecord[] = [];
    const statuses = recordingStatuses(f.opts.statuses, (rec) => {
      writes.push(structuredClone(rec));
    });
    maintenance = '  maintenance: [{node: host1, reason: libvirt upgrade}]\n';
    await f.write(tpl, vm());
    const started = Date.now();
    const r = await converge({ ...f.opts, statuses });
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    const tookMs = Date.now() - started;

    const during = writes.filter((w) => w.key === `VirtualMachine/default/${VM}` && w.status.phase === 'Migrating').map((w) => (w.status as VirtualMachineStatus).migration);
    const mid = during.filter((m) => (m?.progress ?? 0) > 0);
    expect(mid.length, `writes while migrating: ${JSON.stringify(during)} (drain took ${tookMs} ms)`).toBeGreaterThan(0);
    expect(mid[0]).toMatchObject({ from: 'host1', to: 'host2', phase: 'active', startedAt: expect.stringMatching(/^\d{4}-/) });
    expect(mid[0]?.bytesTotal).toBeGreaterThanOrEqual(256 * 2 ** 20);
    expect(during.length).toBeLessThanOrEqual(12);
    const drain = writes
      .filter((w) => w.key === `Hypervisor/${HV}`)
      .map((w) => (w.status as { conditions?: { type: string; message: string }[] }).conditions?.find((c) => c.type === 'Maintenance')?.message ?? '');
    // (Others' domains on the shared host1 are reported after, as not managed by virtkeeper.)
    expect(
      drain.some((m) => /^host1: 0 of 1 VM moved, 1 migrating \([1-9]\d? %\)/.test(m)),
      drain.join('\n'),
    ).toBe(true);
    expect(drain.at(-1)).toMatch(/^host1: 1 of 1 VM moved(,|$)/);
    expect((await f.opts.statuses.read(`VirtualMachine/default/${VM}`))?.status.node).toBe('host2');
  }, 240_000);
});
