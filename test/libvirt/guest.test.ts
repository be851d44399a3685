// A real guest on a real libvirtd: a tiny image (Debian's cloud kernel, busybox and the QEMU
// guest agent; scripts/guest-image/build.sh) imported as a template, a VM cloned from it and
// booted; the agent's address shows in status, and `virtkeeper exec` runs commands in it.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { guestAddresses } from '../../providers/libvirt/provider.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { loadConnector } from '../../providers/registry.ts';

const root = join(import.meta.dirname, '..', '..');
const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
const image = process.env.VK_GUEST_IMAGE ?? '';
const s = Math.random().toString(36).slice(2, 6);
const TPL = `vk-test-guest-${s}`;
const VM = `vk-test-booted-${s}`;

describe('guest agent addresses', () => {
  it.each([
    [
      'loopback and link-local left out, IPv4 first',
      {
        return: [
          { name: 'lo', 'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4' }] },
          {
            name: 'eth0',
            'ip-addresses': [
              { 'ip-address': 'fe80::1', 'ip-address-type': 'ipv6' },
              { 'ip-address': '2001:db8::5', 'ip-address-type': 'ipv6' },
              { 'ip-address': '10.0.0.5', 'ip-address-type': 'ipv4' },
            ],
          },
        ],
      },
      ['10.0.0.5', '2001:db8::5'],
    ],
    ['no interfaces', { return: [] }, []],
  ])('%s', (_name, reply, want) => expect(guestAddresses(JSON.stringify(reply))).toEqual(want));
});

describe.skipIf(!uri || !image)('a booted guest on libvirt', () => {
  let dir: string;
  let opts: ConvergeOptions;
  let pool: HypervisorPool;
  let c: LibvirtConnection;
  const hv = `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: kvm}\nspec: {type: libvirt, hosts: [{name: host1, uri: "${uri}"}]}\n`;
  const docs = (run: string) =>
    [
      hv,
      `apiVersion: virtkeeper.io/v1alpha1\nkind: VMTemplate\nmetadata: {name: ${TPL}}\nspec: {hypervisor: kvm, source: {image: "${image}"}}\n`,
      `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${VM}}\nspec: {hypervisor: kvm, template: ${TPL}, clone: linked, memory: 256Mi, disks: [{name: root, size: 64Mi}], guestAgent: true, runStrategy: ${run}}\n`,
    ].join('---\n');

  beforeAll(async () => {
    // The guest's boot loader trips this machine's nested KVM; TCG boots it in seconds.
    process.env.VK_LIBVIRT_DOMAIN_TYPE = 'qemu';
    dir = await mkdtemp(join(tmpdir(), 'vk-guest-'));
    pool = new HypervisorPool({ loadConnector, credentials: async () => ({ none: true }), logger: pino({ level: 'silent' }), now: Date.now, observeMaxAgeMs: 0 });
    opts = {
      folder: dir,
      statuses: new StateDir(`${dir}-state`),
      hypervisors: pool,
      logger: pino({ level: 'silent' }),
      now: Date.now,
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 500))),
      wait: true,
      timeoutMs: 60_000,
      maxDeleteShare: 1,
    };
    c = await LibvirtConnection.connect(uri);
  });
  afterAll(async () => {
    await writeFile(join(dir, 'all.yaml'), hv);
    await converge(opts).catch(() => undefined);
    if (c.isClosed) c = await LibvirtConnection.connect(uri); // a long, busy test may outlast it
    const vol = await c.lookupVolume(await c.lookupPool('default'), `${TPL}.qcow2`).catch(() => undefined);
    if (vol) await c.deleteVolume(vol);
    await pool.closeAll();
    await c.close();
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-state`, { recursive: true, force: true });
  });

  it('boots a clone of the imported image; its agent address shows in status', async () => {
    await writeFile(join(dir, 'all.yaml'), docs('Always'));
    const r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.plan?.waiting ?? o.key)).toEqual([]);
    // The raw image was converted: the template is a qcow2 volume and the raw upload is gone.
    const p = await c.lookupPool('default');
    await expect(c.lookupVolume(p, `${TPL}.import.raw`)).rejects.toThrow();
    // The agent answers a few seconds after boot; passes pick its address up.
    let ip: unknown;
    for (let i = 0; i < 60 && !ip; i++) {
      await new Promise((res) => setTimeout(res, 500));
      await converge({ ...opts, wait: false });
      ip = (await opts.statuses.read(`VirtualMachine/default/${VM}`))?.status.ip;
    }
    expect(ip).toBe('192.0.2.10');
  }, 120_000);

  it('runs commands in the guest with virtkeeper exec: output, exit code, stdin', async () => {
    const run = (args: string[], input?: string) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        const p = execFile(process.execPath, ['bin/virtkeeper.js', '--state-dir', `${dir}-state`, 'exec', '-f', dir, VM, '--', ...args], { cwd: root, timeout: 60_000 }, (e, out, err) => {
          resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err });
        });
        if (input !== undefined) p.stdin?.end(input);
        else p.stdin?.end();
      });
    const host = await run(['hostname']);
    expect(host, host.err).toMatchObject({ code: 0, out: 'virtkeeper-guest\n' });
    expect((await run(['sh', '-c', 'echo oops >&2; exit 3'])).code).toBe(3);
    expect((await run(['sh', '-c', 'echo oops >&2; exit 3'])).err).toContain('oops');
    expect((await run(['cat'], 'from stdin\n')).out).toBe('from stdin\n');
  }, 120_000);
});
