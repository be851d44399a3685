// Two simulated engines, reconciled at once, over real HTTP; and the old requests converted.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertRequestFile } from '../../controller/convert/index.ts';
import { converge, type ConvergeOptions } from '../../controller/runtime/converge.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { HypervisorPool } from '../../controller/runtime/hypervisors.ts';
import { StateDir } from '../../controller/status/state-dir.ts';
import { loadTexts } from '../../controller/sources/load-folder.ts';
import { stringify } from 'yaml';
import { loadConnector } from '../../providers/registry.ts';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';

const root = join(import.meta.dirname, '..', '..');
const GiB = 2 ** 30;

describe('oVirt end to end on two engines', () => {
  const sims: Record<string, RunningOvirtSimulator> = {};
  let dir: string;
  let opts: ConvergeOptions;
  let pool: HypervisorPool;

  const hv = (name: string) =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${name}}\nspec:\n  type: ovirt\n  endpoint: ${sims[name]?.url}\n  credentialsRef: {env: ${name.replace(/-/g, '_').toUpperCase()}}\n  defaults: {cluster: Default, storageDomain: data1}\n`;
  const vm = (name: string, engine: string, extra = '') =>
    `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}}\nspec:\n  hypervisor: ${engine}\n  template: centos-9\n  cpu: {sockets: 1, cores: 2}\n  memory: 2Gi\n  maxMemory: 8Gi\n  disks: [{name: root, size: 20Gi, interface: virtio-scsi}]\n${extra}`;
  const write = (text: string) => writeFile(join(dir, 'all.yaml'), text);
  const vmsOn = (engine: string) => sims[engine]?.dump().vms ?? [];

  beforeAll(async () => {
    for (const name of ['e15-test', 'n32']) sims[name] = await startOvirtSimulator({ name, hosts: 2, templates: ['centos-9'], imageCopyMs: 100, bootStepMs: 20, migrateMs: 80, diskResizeMs: 30 });
    dir = await mkdtemp(join(tmpdir(), 'vk-ovirt-'));
    const env = Object.fromEntries(
      Object.entries(sims).flatMap(([n, s]) => [
        [`VIRTKEEPER_${n.replace(/-/g, '_').toUpperCase()}_USERNAME`, s.credentials.username],
        [`VIRTKEEPER_${n.replace(/-/g, '_').toUpperCase()}_PASSWORD`, s.credentials.password],
      ]),
    );
    const logger = pino({ level: 'silent' });
    pool = new HypervisorPool({ loadConnector, credentials: directoryCredentials(env), logger, now: Date.now, observeMaxAgeMs: 0 });
    opts = {
      folder: dir,
      statuses: new StateDir(`${dir}-state`),
      hypervisors: pool,
      logger,
      now: Date.now,
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 100))),
      wait: true,
      timeoutMs: 30_000,
    };
  });
  afterAll(async () => {
    await pool.closeAll();
    for (const s of Object.values(sims)) await s.close();
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-state`, { recursive: true, force: true });
  });

  it('creates on both engines, edits live and next-run, grows a disk, migrates, stops and deletes', async () => {
    await write([hv('e15-test'), hv('n32'), vm('app-1', 'e15-test'), vm('app-2', 'n32', '  updatePolicy: NextBoot\n')].join('---\n'));
    let r = await converge(opts);
    expect(r.outcomes.filter((o) => !o.ready).map((o) => o.error ?? o.key)).toEqual([]);
    expect(vmsOn('e15-test').map((v) => [v.name, v.status])).toEqual([['app-1', 'up']]);
    expect(vmsOn('n32').map((v) => [v.name, v.status])).toEqual([['app-2', 'up']]);

    // Live: +256 MiB steps and sockets; next run: cores; grow; pin app-1 to the other host.
    const app1Host = vmsOn('e15-test')[0]?.host;
    const other = sims['e15-test']?.dump().hosts.find((h) => h.id !== app1Host)?.name ?? 'host2';
    await write(
      [
        hv('e15-test'),
        hv('n32'),
        vm('app-1', 'e15-test', `  placement: {node: ${other}}\n`).replace('memory: 2Gi', 'memory: 3Gi').replace('sockets: 1', 'sockets: 2').replace('size: 20Gi', 'size: 30Gi'),
        vm('app-2', 'n32', '  updatePolicy: NextBoot\n').replace('cores: 2', 'cores: 4'),
      ].join('---\n'),
    );
    r = await converge(opts);
    const a1 = vmsOn('e15-test')[0];
    expect([a1?.config.memory, a1?.config.sockets, a1?.status]).toEqual([3 * GiB, 2, 'up']);
    expect(sims['e15-test']?.dump().hosts.find((h) => h.id === a1?.host)?.name).toBe(other);
    expect(sims['e15-test']?.dump().disks.find((d) => d.id === a1?.attachments[0]?.disk)?.provisioned_size).toBe(30 * GiB);
    const a2 = vmsOn('n32')[0];
    expect([a2?.config.cores, a2?.next_run?.cores]).toEqual([2, 4]);
    const st = await opts.statuses.read('VirtualMachine/default/app-2');
    expect(((st?.status.conditions ?? []) as { type: string; status: string; reason: string }[]).find((c) => c.type === 'RestartRequired')).toMatchObject({ status: 'True', reason: 'PendingChanges' });

    await write(
      [
        hv('e15-test'),
        hv('n32'),
        vm('app-1', 'e15-test', `  placement: {node: ${other}}\n  runStrategy: Halted\n`).replace('memory: 2Gi', 'memory: 3Gi').replace('sockets: 1', 'sockets: 2').replace('size: 20Gi', 'size: 30Gi'),
      ].join('---\n'),
    );
    r = await converge({ ...opts, maxDeleteShare: 1 });
    expect(vmsOn('e15-test').map((v) => v.status)).toEqual(['down']);
    expect(vmsOn('n32')).toEqual([]);
  });

  it('shows why a VM stuck in image_locked is waiting, and never touches a foreign VM', async () => {
    const slow = await startOvirtSimulator({ name: 'k45', templates: ['centos-9'], imageCopyMs: 60_000 });
    sims.k45 = slow;
    const env = { VIRTKEEPER_K45_USERNAME: slow.credentials.username, VIRTKEEPER_K45_PASSWORD: slow.credentials.password };
    const p2 = new HypervisorPool({ loadConnector, credentials: directoryCredentials(env), logger: pino({ level: 'silent' }), now: Date.now, observeMaxAgeMs: 0 });
    const b = await fetch(`${slow.url}/vms`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${slow.credentials.username}:${slow.credentials.password}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'foreign', cluster: { name: 'Default' }, template: { name: 'Blank' } }),
    });
    expect(b.status).toBe(202);
    await write([hv('k45'), vm('stuck', 'k45'), vm('foreign', 'k45')].join('---\n'));
    const r = await converge({ ...opts, hypervisors: p2, wait: false });
    await converge({ ...opts, hypervisors: p2, wait: false });
    const stuck = await opts.statuses.read('VirtualMachine/default/stuck');
    const ready = ((stuck?.status.conditions ?? []) as { type: string; message: string }[]).find((c) => c.type === 'Ready');
    expect(ready?.message).toMatch(/busy \(image_locked\) since \d{4}-/);
    const first = r.outcomes.find((o) => o.key === 'VirtualMachine/default/stuck');
    expect(first?.error?.message).toMatch(/still image_locked: the engine has been copying its disks since/);
    expect(r.outcomes.find((o) => o.key === 'VirtualMachine/default/foreign')?.error?.code).toBe('VK_REFUSED_FOREIGN');
    expect(slow.dump().vms.find((v) => v.name === 'foreign')?.config.comment).toBe('');
    await p2.closeAll();
  }, 60_000);

  it('converts the old JSON request and an .xlsx sheet into manifests that validate and converge', async () => {
    const fromJson = await convertRequestFile(join(root, 'examples/requests/request.json'));
    expect(fromJson.problems).toEqual([]);
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('requests');
    ws.addRow(['name', 'engine', 'cluster', 'storage_domain', 'cores', 'RAM', 'disks_gb', 'template', 'nic', 'ip', 'netmask', 'gateway', 'dns', 'vlan_name', 'vlan_id', 'system']);
    ws.addRow(['sheet-vm-1', 'e15-test', 'Default', 'data1', 2, 4, '20,50', 'centos-9', 'eth0', '10.20.0.41', '255.255.255.0', '10.20.0.1', '10.20.0.2', 'vlan120', 120, 'billing']);
    ws.addRow(['sheet-vm-2', 'e15-test', 'Default', 'data1', 'two', 4, '20', 'centos-9', 'eth0', '10.20.0.42', '255.255.255.0', '10.20.0.1', '', 'vlan120', 120, 'billing']);
    const xlsx = join(dir, '..', `${dir.split('/').pop()}.xlsx`);
    await wb.xlsx.writeFile(xlsx);
    const fromSheet = await convertRequestFile(xlsx, { columnMap: { 'vm.memory': 'RAM' } });
    expect(fromSheet.problems).toEqual([{ row: 2, column: 'vm.cores', message: 'expected a whole number of cores, got "two"' }]);
    expect(fromSheet.documents).toHaveLength(2); // the VLAN and the good row
    await rm(xlsx);

    // The engine has the VLAN network an administrator made (VirtualNetwork reconciliation is separate).
    const e = sims['e15-test'];
    const auth = { authorization: `Basic ${Buffer.from(`${e?.credentials.username}:${e?.credentials.password}`).toString('base64')}`, 'content-type': 'application/json', accept: 'application/json' };
    await fetch(`${e?.url}/networks`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'vlan120', data_center: { name: 'Default' }, vlan: { id: 120 } }) });
    const texts = new Map([
      ['hv.yaml', hv('e15-test')],
      ['converted.yaml', fromJson.documents.map((d) => stringify(d)).join('---\n')],
    ]);
    expect(loadTexts(texts).problems).toEqual([]);
    await write([...texts.values()].join('---\n'));
    const r = await converge({ ...opts, maxDeleteShare: 1 });
    // The earlier test's VM on k45, whose Hypervisor left the folder, is held (kept), not forgotten.
    expect(r.outcomes.filter((o) => !o.ready && o.error?.code !== 'VK_HYPERVISOR_GONE').map((o) => o.error ?? o.key)).toEqual([]);
    expect(r.outcomes.filter((o) => o.error?.code === 'VK_HYPERVISOR_GONE').map((o) => o.key)).toEqual(['VirtualMachine/default/stuck']);
    const made = vmsOn('e15-test').filter((v) => v.name.startsWith('billing'));
    expect(made.map((v) => v.name).sort()).toEqual(['billing-app-01', 'billing-db-01']);
    const app = made.find((v) => v.name === 'billing-app-01');
    expect(app?.initialization).toMatchObject({
      host_name: 'billing-app-01.example.org',
      nic_configurations: { nic_configuration: [{ name: 'eth0', boot_protocol: 'static', ip: { address: '10.20.0.31', netmask: '255.255.255.0', gateway: '10.20.0.1' } }] },
    });
    const profile = e?.dump().vnicprofiles.find((p) => p.name === 'vlan120');
    expect(app?.nics[0]?.vnic_profile).toBe(profile?.id);
  });
});
