// A Proxmox fleet already running and converged, as a controller meets one: every VM the
// manifests declare is on the simulator, configured as virtkeeper would have made it and
// marked for the given controller instance. One place for the three benchmarks that need it.
import type { Hypervisor, VirtualMachine } from '../../controller/api/types.ts';
import { normaliseVM } from '../../controller/core/desired.ts';
import { configParams } from '../../providers/proxmox/mapping.ts';
import { proxmoxConnector } from '../../providers/proxmox/index.ts';
import type { RunningProxmoxSimulator } from '../../providers/proxmox/simulator/index.ts';

/** The simulator's templates take vmids from 9000: the fleet starts above them. */
const FIRST_VMID = 10_000;

export function seedConvergedFleet(sim: RunningProxmoxSimulator, hv: Hypervisor, docs: readonly VirtualMachine[], options: { instance?: string; nodes?: number } = {}): void {
  const nodes = options.nodes ?? 4;
  const state = sim.dump();
  docs.forEach((d, i) => {
    const desired = normaliseVM(d, {
      hypervisor: hv,
      networks: new Map(),
      templates: new Map(),
      ...(proxmoxConnector.conventions ? { conventions: proxmoxConnector.conventions } : {}),
      ...(options.instance ? { instance: options.instance } : {}),
    });
    const vmid = FIRST_VMID + i;
    state.vms.push({
      vmid,
      node: `pve${(i % nodes) + 1}`,
      template: false,
      status: 'running',
      startedAt: Date.now(),
      pending: {},
      pendingDelete: [],
      config: { ...configParams(desired), scsihw: 'virtio-scsi-single', scsi0: `local-lvm:vm-${vmid}-disk-0,size=8G` },
    });
  });
  sim.load(state);
}
