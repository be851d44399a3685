// The fleet the inventory tests look at: the quickstart's Proxmox simulator and manifests, an
// oVirt engine simulator (the request engine `e15-test`), one VM on each that virtkeeper does not
// manage (made through the hypervisors' own APIs), a libvirt host when VK_LIBVIRT_URI_1 is set,
// and `virtkeeper run -f … --ui 127.0.0.1:0` as a separate process.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOvirtSimulator, type RunningOvirtSimulator } from '../../providers/ovirt/simulator/index.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

import { until } from '../support/until.ts';

export { until };
export const ROOT = join(import.meta.dirname, '..', '..');
export const PREFIX = `vkui${Math.random().toString(36).slice(2, 6)}`;

export interface Fleet {
  pve: RunningProxmoxSimulator;
  ovirt: RunningOvirtSimulator;
  folder: string;
  stateDir: string;
  libvirt?: { uri: string; vm: string };
  unmanaged: { pve: string; ovirt: string };
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

async function pveUnmanaged(pve: RunningProxmoxSimulator, name: string): Promise<void> {
  const { tokenId, tokenSecret } = pve.credentials;
  const res = await fetch(`${pve.url}/api2/json/nodes/pve2/qemu`, {
    method: 'POST',
    headers: { authorization: `PVEAPIToken=${tokenId}=${tokenSecret}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ vmid: '900', name, memory: '1024', cores: '1', start: '1' }),
  });
  if (!res.ok) throw new Error(`cannot make the unmanaged Proxmox VM: ${res.status} ${await res.text()}`);
}

export async function startFleet(): Promise<Fleet> {
  const pve = await startProxmoxSimulator({ nodes: 3, templates: ['ubuntu-24.04', 'redos-8'], taskDurations: { default: 10, qmclone: 30 } });
  const ovirt = await startOvirtSimulator({ name: 'e15-test', hosts: 2, templates: ['centos-9'] });
  const folder = await mkdtemp(join(tmpdir(), `${PREFIX}-fleet-`));
  const stateDir = `${folder}-state`;
  const unmanaged = { pve: `${PREFIX}-legacy-pve`, ovirt: `${PREFIX}-legacy-ovirt` };
  await pveUnmanaged(pve, unmanaged.pve);
  ovirt.sim.engine.createVm({ name: unmanaged.ovirt, cluster: { name: 'Default' }, template: { name: 'Blank' } }, false, undefined);
  const example = join(ROOT, 'examples', 'quickstart');
  for (const f of await readdir(example)) if (f !== 'hypervisor.yaml') await copyFile(join(example, f), join(folder, f));
  const hv = (name: string, body: string) => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${name}}\nspec:\n${body}`;
  await writeFile(
    join(folder, 'hypervisors.yaml'),
    [
      hv('pve-sim', `  type: proxmox\n  endpoint: ${pve.url}\n  credentialsRef: {env: PVE}\n  defaults: {node: pve1, storage: local-lvm, bridge: vmbr0}\n  resyncInterval: 2s\n`),
      hv('e15-test', `  type: ovirt\n  endpoint: ${ovirt.url}\n  credentialsRef: {env: ENGINE}\n  defaults: {cluster: Default, storageDomain: data1, datacenter: Default}\n  resyncInterval: 2s\n`),
    ].join('---\n'),
  );
  let libvirt: Fleet['libvirt'];
  const uri = process.env.VK_LIBVIRT_URI_1;
  if (uri) {
    libvirt = { uri, vm: `${PREFIX}-kvm` };
    await writeFile(
      join(folder, 'libvirt.yaml'),
      `${hv('kvm', `  type: libvirt\n  hosts: [{name: h1, uri: "${uri}"}]\n  resyncInterval: 2s\n`)}---\napiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${libvirt.vm}}\nspec: {hypervisor: kvm, memory: 128Mi, disks: [{name: root, size: 64Mi}], guestAgent: false, runStrategy: Always}\n`,
    );
  }
  // The folder is a git repository: accepted requests are committed.
  execFileSync('git', ['init', '-q', folder]);
  execFileSync('git', ['-C', folder, '-c', 'user.name=t', '-c', 'user.email=t@t', 'add', '.']);
  execFileSync('git', ['-C', folder, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'fleet']);
  await mkdir(stateDir, { recursive: true });
  const env = {
    ...process.env,
    VIRTKEEPER_PVE_TOKEN: `${pve.credentials.tokenId}=${pve.credentials.tokenSecret}`,
    VIRTKEEPER_ENGINE_USERNAME: ovirt.credentials.username,
    VIRTKEEPER_ENGINE_PASSWORD: ovirt.credentials.password,
    VK_LOG_LEVEL: 'info',
  };
  return {
    pve,
    ovirt,
    folder,
    stateDir,
    ...(libvirt ? { libvirt } : {}),
    unmanaged,
    env,
    close: async () => {
      await pve.close();
      await ovirt.close();
      await rm(folder, { recursive: true, force: true });
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

export interface Controller {
  proc: ChildProcess;
  url: string;
  metricsPort: number;
  stderr(): string;
  stop(): Promise<void>;
}

/** `virtkeeper run` with the inventory on a port of its choosing; resolves once it serves. */
export async function startController(fleet: Fleet, extra: string[] = []): Promise<Controller> {
  const proc = spawn(process.execPath, ['bin/virtkeeper.js', '--state-dir', fleet.stateDir, 'run', '-f', fleet.folder, '--metrics-port', '0', '--ui', '127.0.0.1:0', ...extra], {
    cwd: ROOT,
    env: fleet.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const url = await until('the inventory URL in the log', async () => /"url":"(http:[^"]+)"/.exec(err)?.[1], 20_000);
  const metricsPort = Number(await until('the metrics port in the log', async () => /"metrics":(\d+)/.exec(err)?.[1], 20_000));
  return {
    proc,
    url,
    metricsPort,
    stderr: () => err,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      // A last resort: `run` exits on SIGTERM (test/engine/run-stop.test.ts), a hung one must not hang the suite.
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
    },
  };
}
