// A VirtualMachineSnapshotSchedule on a real libvirtd: every minute with keep {last: 2}, three
// runs (the injected clock, as the simulator suites drive it) leave exactly two of its real
// internal snapshots; a snapshot an admin made by hand on that domain (through the RPC, not by
// virtkeeper) is listed but never pruned, and stays after the schedule is removed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge } from '../../controller/runtime/converge.ts';
import { LibvirtConnection } from '../../providers/libvirt/rpc/connection.ts';
import { convergeFolder, type ConvergeFolder } from '../support/converge-folder.ts';

const uri = process.env.VK_LIBVIRT_URI_1 ?? '';
const s = Math.random().toString(36).slice(2, 6);
const HV = `kvm-sched-${s}`;
const VM = `vk-sched-${s}`;
const BY_HAND = 'admin-before-upgrade';

describe.skipIf(!uri)('snapshot schedule on a real libvirtd', () => {
  let f: ConvergeFolder;
  let c: LibvirtConnection;
  let clock = Date.parse('2026-12-01T10:00:30Z');
  const vm = `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${VM}}\nspec: {hypervisor: ${HV}, memory: 64Mi, disks: [{name: root, size: 16Mi}], guestAgent: false, runStrategy: Halted}\n`;
  const schedule = `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachineSnapshotSchedule\nmetadata: {name: minutely-${s}}\nspec: {vms: [${VM}], schedule: "* * * * *", keep: {last: 2}}\n`;
  const onDomain = async () => (await c.listSnapshots(await c.lookupDomain(VM))).map((x) => x.name).sort();
  const notReady = async () => (await converge(f.opts)).outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key);

  beforeAll(async () => {
    c = await LibvirtConnection.connect(uri);
    f = await convergeFolder({
      prefix: 'vk-lv-sched-',
      header: () => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${HV}}\nspec: {type: libvirt, hosts: [{name: host1, uri: "${uri}"}]}\n`,
    });
    f.opts.now = () => clock;
  });
  afterAll(async () => {
    await f.write();
    await converge(f.opts).catch(() => undefined);
    const d = await c.lookupDomain(VM).catch(() => undefined);
    if (d) await c.undefine(d, 0).catch(() => undefined);
    await f.close();
    await c.close();
  }, 60_000);

  it('three runs leave exactly two of its snapshots; one made by hand is never pruned', async () => {
    await f.write(vm);
    expect(await notReady()).toEqual([]);
    // An admin's snapshot, made on the domain directly: no marker in its description.
    await c.createSnapshot(await c.lookupDomain(VM), `<domainsnapshot><name>${BY_HAND}</name><description>taken by hand before the upgrade</description><memory snapshot='no'/></domainsnapshot>`, 0);

    await f.write(vm, schedule);
    expect(await notReady()).toEqual([]);
    for (const minute of [1, 2, 3]) {
      clock = Date.parse(`2026-12-01T10:0${minute}:02Z`);
      expect(await notReady()).toEqual([]);
    }
    expect(await onDomain()).toEqual([BY_HAND, `vks-minutely-${s}-20261201-1002`, `vks-minutely-${s}-20261201-1003`].sort());
    const st = (await f.opts.statuses.read(`VirtualMachineSnapshotSchedule/default/minutely-${s}`))?.status;
    expect(st).toMatchObject({ lastRunTime: '2026-12-01T10:03:00.000Z', pruned: 1 });
    expect(((st?.snapshots ?? []) as { name: string }[]).map((x) => x.name).sort()).toEqual([`vks-minutely-${s}-20261201-1002`, `vks-minutely-${s}-20261201-1003`]);

    // The provider lists the admin's snapshot, as no one's.
    const conn = (await f.pool.connections()).find((x) => x.name === HV);
    const observed = (await conn?.client.vms.observe())?.vms.find((v) => v.name === VM);
    if (!observed || !conn?.client.snapshots) throw new Error('not observed');
    const listed = await conn.client.snapshots.list({
      providerID: observed.providerID,
      name: VM,
      ...(observed.node ? { node: observed.node } : {}),
      ...(observed.owner ? { owner: observed.owner } : {}),
    });
    expect(listed.find((x) => x.name === BY_HAND)).toMatchObject({ name: BY_HAND, state: 'ready' });
    expect(listed.find((x) => x.name === BY_HAND)?.owner).toBeUndefined();

    // Removing the schedule leaves every snapshot (its own too, per deletionPolicy) but never touches the admin's.
    await f.write(vm);
    expect(await notReady()).toEqual([]);
    expect(await onDomain()).toContain(BY_HAND);
  }, 120_000);
});
