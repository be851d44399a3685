// Per-VM and per-node usage on the controller's /metrics, read from the inventory at scrape
// time (what the list calls returned; no call of their own).
import type { Metrics } from '../runtime/metrics.ts';
import type { VMUsage } from '../core/model.ts';
import type { Inventory, InventoryVM } from './inventory.ts';

const VM_GAUGES: [name: string, field: keyof VMUsage, help: string][] = [
  ['virtkeeper_vm_cpu_ratio', 'cpuRatio', 'CPU in use, 0..1 of the VM’s vCPUs, as the list call reports it.'],
  ['virtkeeper_vm_memory_used_bytes', 'memoryUsedBytes', 'Memory the VM uses.'],
  ['virtkeeper_vm_disk_read_bytes_total', 'diskReadBytes', 'Bytes the VM read from its disks since it started.'],
  ['virtkeeper_vm_disk_write_bytes_total', 'diskWriteBytes', 'Bytes the VM wrote to its disks since it started.'],
  ['virtkeeper_vm_network_receive_bytes_total', 'networkReceiveBytes', 'Bytes the VM received since it started.'],
  ['virtkeeper_vm_network_transmit_bytes_total', 'networkTransmitBytes', 'Bytes the VM sent since it started.'],
];

const vmLabels = (v: InventoryVM) => ({
  hypervisor: v.hypervisor,
  node: v.node ?? '',
  vm: v.name,
  owner: v.owner ? `${v.owner.namespace ?? 'default'}/${v.owner.name}` : '',
});

export function registerUsageMetrics(metrics: Metrics, inventory: () => Inventory): void {
  for (const [name, field, help] of VM_GAUGES) {
    metrics.gauge(name, help, () =>
      inventory().vms.flatMap((v) => {
        const value = v.usage?.[field];
        return value === undefined ? [] : [{ labels: vmLabels(v), value }];
      }),
    );
  }
  const node = (name: string, help: string, pick: (n: Inventory['hypervisors'][number]['nodes'][number]) => number | undefined) =>
    metrics.gauge(name, help, () =>
      inventory().hypervisors.flatMap((h) =>
        h.nodes.flatMap((n) => {
          const value = pick(n);
          return value === undefined ? [] : [{ labels: { hypervisor: h.name, node: n.name }, value }];
        }),
      ),
    );
  node('virtkeeper_node_cpu_ratio', 'CPU in use on the node, 0..1.', (n) => n.cpuUsage);
  node('virtkeeper_node_cpus', 'CPUs of the node.', (n) => n.cpus);
  node('virtkeeper_node_memory_bytes', 'Memory of the node.', (n) => n.memoryBytes);
  node('virtkeeper_node_memory_used_bytes', 'Memory in use on the node.', (n) => n.memoryUsedBytes);
  node('virtkeeper_node_vms', 'VMs on the node (every VM, managed or not).', (n) => n.vmCount);
  node('virtkeeper_node_up', '1 when the node is online.', (n) => (n.state === 'online' ? 1 : 0));
}
