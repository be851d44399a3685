// The Proxmox VirtualDisk fixture the disk-safety tests share: a simulator, a raw client on it,
// a converge folder whose Hypervisor is that simulator, and the manifests they write.
import { diskVolumeName } from '../../controller/core/disk-name.ts';
import { directoryCredentials } from '../../controller/runtime/credentials.ts';
import { ProxmoxClient } from '../../providers/proxmox/client.ts';
import { DISK_OWNER_VMID } from '../../providers/proxmox/disks/index.ts';
import { startProxmoxSimulator, type RunningProxmoxSimulator, type SimState } from '../../providers/proxmox/simulator/index.ts';
import { convergeFolder, type ConvergeFolder } from './converge-folder.ts';

/** The volume id a VirtualDisk gets on local-lvm (named for the owner vmid no VM has). */
export const pveVolid = (ns: string, name: string) => `local-lvm:vm-${DISK_OWNER_VMID}-${diskVolumeName(ns, name)}`;

export const pveVM = (ns: string, name: string, extra = '') =>
  `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: {hypervisor: pve, template: ubuntu-24.04, memory: 1Gi, disks: [{name: root, size: 8Gi}]${extra}}\n`;

/** A 1Gi VirtualDisk on local-lvm; `meta` is added to its metadata (`, labels: {…}`). */
export const pveDisk = (ns: string, name: string, attachTo?: string, meta = '') =>
  `apiVersion: virtkeeper.io/v1alpha1\nkind: VirtualDisk\nmetadata: {name: ${name}, namespace: ${ns}${meta}}\nspec: {hypervisor: pve, size: 1Gi, storage: local-lvm${attachTo ? `, attachTo: {vm: ${attachTo}}` : ''}}\n`;

export interface ProxmoxDiskFixture {
  sim: RunningProxmoxSimulator;
  raw: ProxmoxClient;
  folder: ConvergeFolder;
  /** Replaces the simulator's whole state over its HTTP API. */
  putState(s: SimState): Promise<Response>;
  close(): Promise<void>;
}

export async function proxmoxDiskFixture(o: { prefix: string; nodes: number; defaultNode?: string }): Promise<ProxmoxDiskFixture> {
  const sim = await startProxmoxSimulator({ nodes: o.nodes, templates: ['ubuntu-24.04'], taskDurations: { default: 5 }, agentDelayMs: 0 });
  const token = `${sim.credentials.tokenId}=${sim.credentials.tokenSecret}`;
  const raw = new ProxmoxClient({ endpoint: sim.url, credentials: { token } });
  const defaults = o.defaultNode ? `, defaults: {node: ${o.defaultNode}}` : '';
  const folder = await convergeFolder({
    prefix: o.prefix,
    header: () => `apiVersion: virtkeeper.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: pve}\nspec: {type: proxmox, endpoint: "${sim.url}", credentialsRef: {env: PVE}${defaults}}\n`,
    credentials: directoryCredentials({ VIRTKEEPER_PVE_TOKEN: token }),
    timeoutMs: 20000,
    sleepCapMs: 50,
  });
  return {
    sim,
    raw,
    folder,
    putState: (s) => fetch(`${sim.url.replace(/\/$/, '')}/_sim/state`, { method: 'PUT', body: JSON.stringify(s) }),
    close: async () => {
      await folder.close();
      await raw.close();
      await sim.close();
    },
  };
}
