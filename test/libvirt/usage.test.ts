// Usage from the observation's own bulk stats call: CPU as a ratio between two observations,
// memory, disk and network counters, with no call per domain; and the arithmetic on its own.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageOf } from '../../providers/libvirt/observe.ts';
import { LibvirtProvider } from '../../providers/libvirt/provider.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';

const run = promisify(execFile);
const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
const s = Math.random().toString(36).slice(2, 6);

describe('usageOf', () => {
  const p = (entries: [string, number | bigint][]) => new Map<string, number | bigint>(entries);
  it('CPU is the busy share of the vCPUs between two observations; none the first time or after a reset', () => {
    const now = p([['cpu.time', 3_000_000_000n]]);
    expect(usageOf(now, { cpuNs: 2_000_000_000, at: 10_000 }, 12_000, 2).cpuRatio).toBeCloseTo(0.25);
    expect(usageOf(now, undefined, 12_000, 2).cpuRatio).toBeUndefined();
    expect(usageOf(now, { cpuNs: 9_000_000_000, at: 10_000 }, 12_000, 2).cpuRatio).toBeUndefined();
  });
  it('memory is what the guest says it uses, else what QEMU holds; disks and NICs are summed', () => {
    const stats = p([
      ['balloon.current', 1048576],
      ['balloon.rss', 300000],
      ['block.count', 2],
      ['block.0.rd.bytes', 100n],
      ['block.0.wr.bytes', 10n],
      ['block.1.rd.bytes', 5n],
      ['net.count', 1],
      ['net.0.rx.bytes', 7n],
      ['net.0.tx.bytes', 9n],
    ]);
    expect(usageOf(stats, undefined, 0, 1)).toEqual({ memoryUsedBytes: 300000 * 1024, diskReadBytes: 105, diskWriteBytes: 10, networkReceiveBytes: 7, networkTransmitBytes: 9 });
    stats.set('balloon.available', 1000000);
    stats.set('balloon.unused', 600000);
    expect(usageOf(stats, undefined, 0, 1).memoryUsedBytes).toBe(400000 * 1024);
  });
});

describe.skipIf(!uri)('libvirt usage on a real host', () => {
  let p: LibvirtProvider;
  let c: LibvirtConnection;
  const name = `vk-usage-${s}`;
  const image = `/var/lib/libvirt/images/${name}.qcow2`;

  beforeAll(async () => {
    p = new LibvirtProvider({ hosts: [{ name: 'host1', uri }], logger: pino({ level: 'silent' }) });
    c = await LibvirtConnection.connect(uri);
    await run('qemu-img', ['create', '-f', 'qcow2', image, '16M']);
    // No OS: the firmware reads the disk, then tries the network (a tap libvirt makes, no bridge needed).
    const d = await c.defineXML(
      `<domain type='${process.env.VK_LIBVIRT_DOMAIN_TYPE ?? 'qemu'}'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type><boot dev='hd'/><boot dev='network'/></os><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${image}'/><target dev='vda' bus='virtio'/></disk><interface type='ethernet'><model type='virtio'/></interface><memballoon model='virtio'/></devices></domain>`,
    );
    await c.create(d);
  }, 60_000);
  afterAll(async () => {
    const d = await c.lookupDomain(name).catch(() => undefined);
    if (d) {
      await c.destroy(d).catch(() => undefined);
      await c.undefine(d).catch(() => undefined);
    }
    await run('rm', ['-f', image]);
    await p.close();
    await c.close();
  }, 60_000);

  it('fills usage from the list calls alone: a steady observation is two calls for the host', async () => {
    // Until the firmware has read the boot sector.
    for (let i = 0; i < 60; i++) {
      const seen = (await p.vms.observe()).vms.find((v) => v.name === name);
      if ((seen?.usage?.diskReadBytes ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 500));
    const conn = await p.conn('host1');
    const before = conn.calls;
    const vm = (await p.vms.observe()).vms.find((v) => v.name === name);
    expect(conn.calls - before).toBe(2);
    const u = vm?.usage;
    expect(u?.cpuRatio).toBeGreaterThan(0);
    expect(u?.cpuRatio).toBeLessThanOrEqual(1);
    expect(u?.memoryUsedBytes).toBeGreaterThan(0);
    expect(u?.diskReadBytes).toBeGreaterThan(0);
    expect(u?.networkReceiveBytes).toBeGreaterThanOrEqual(0);
    expect(u?.networkTransmitBytes).toBeGreaterThanOrEqual(0);
    // A stopped domain reports none.
    await c.destroy(await c.lookupDomain(name));
    expect((await p.vms.observe()).vms.find((v) => v.name === name)?.usage).toBeUndefined();
  }, 60_000);
});
