// Usage statistics that move with the clock, as an engine reports them: the VM's gauges
// (cpu.current.*, memory.used), each NIC's counters (data.total.rx/tx grow with uptime) and
// each disk's rates (data.current.read/write). Deterministic per VM: a wave on its id.
import type { EngineState, SimDisk, SimNic, SimVM } from '../model.ts';
import { API } from './common.ts';

const statId = (name: string, of: string) => `${Buffer.from(name).toString('hex').padEnd(8, '0').slice(0, 8)}-${of.slice(9)}`;

function stat(href: string, owner: Record<string, unknown>, name: string, description: string, unit: string, datum: number, type: 'integer' | 'decimal', of: string) {
  const sid = statId(name, of);
  return {
    id: sid,
    href: `${href}/statistics/${sid}`,
    name,
    description,
    kind: name.startsWith('data.total') || name.startsWith('errors.total') ? 'counter' : 'gauge',
    type,
    unit,
    values: { value: [{ datum }] },
    ...owner,
  };
}

/** 0..1, moving over a few minutes, different per VM. */
function wave(seed: string, now: number, periodMs: number): number {
  const phase = Number.parseInt(seed.replace(/-/g, '').slice(0, 8), 16) % 1000;
  return 0.5 + 0.5 * Math.sin((now / periodMs) * 2 * Math.PI + phase);
}

const upFor = (vm: SimVM, now: number) => ((vm.status === 'up' || vm.status === 'migrating') && vm.start_time ? Math.max(0, now - vm.start_time) / 1000 : 0);

export function vmUsageStatistics(vm: SimVM, now = Date.now()) {
  const up = upFor(vm, now) > 0;
  const href = `${API}/vms/${vm.id}`;
  const owner = { vm: { id: vm.id, href } };
  const guest = up ? 2 + 60 * wave(vm.id, now, 90_000) : 0;
  const overhead = up ? 1 + 3 * wave(vm.id, now, 40_000) : 0;
  const used = up ? Math.floor(vm.config.memory * (0.2 + 0.5 * wave(vm.id, now, 120_000))) : 0;
  return [
    stat(href, owner, 'memory.installed', 'Total memory configured', 'bytes', vm.config.memory, 'integer', vm.id),
    stat(href, owner, 'memory.used', 'Memory used (agent)', 'bytes', used, 'integer', vm.id),
    stat(href, owner, 'memory.free', 'Memory free (agent)', 'bytes', up ? vm.config.memory - used : 0, 'integer', vm.id),
    stat(href, owner, 'cpu.current.guest', 'CPU used by guest', 'percent', Number(guest.toFixed(2)), 'decimal', vm.id),
    stat(href, owner, 'cpu.current.hypervisor', 'CPU overhead', 'percent', Number(overhead.toFixed(2)), 'decimal', vm.id),
    stat(href, owner, 'cpu.current.total', 'Total CPU used', 'percent', Number((guest + overhead).toFixed(2)), 'decimal', vm.id),
    stat(href, owner, 'elapsed.time', 'Elapsed VM runtime', 'seconds', Math.floor(upFor(vm, now)), 'integer', vm.id),
    stat(href, owner, 'migration.progress', 'Migration Progress', 'percent', migrationProgress(vm, now), 'integer', vm.id),
  ];
}

/** How far a migration is, with the clock (0 when none is under way, as the engine reports it). */
function migrationProgress(vm: SimVM, now: number): number {
  const w = vm.migration_window;
  if (vm.status !== 'migrating' || !w || w.to <= w.from) return 0;
  return Math.min(99, Math.max(0, Math.floor(((now - w.from) * 100) / (w.to - w.from))));
}

export function nicStatistics(vm: SimVM, n: SimNic, now = Date.now()) {
  const secs = upFor(vm, now);
  const href = `${API}/vms/${vm.id}/nics/${n.id}`;
  const owner = { nic: { id: n.id, href, vm: { id: vm.id, href: `${API}/vms/${vm.id}` } } };
  const rxRate = secs ? 20_000 + 200_000 * wave(n.id, now, 60_000) : 0;
  const txRate = secs ? 5_000 + 80_000 * wave(n.id, now, 75_000) : 0;
  return [
    stat(href, owner, 'data.current.rx', 'Receive data rate', 'bytes_per_second', Math.round(rxRate), 'decimal', n.id),
    stat(href, owner, 'data.current.tx', 'Transmit data rate', 'bytes_per_second', Math.round(txRate), 'decimal', n.id),
    stat(href, owner, 'data.current.rx.bps', 'Receive data rate', 'bits_per_second', Math.round(rxRate * 8), 'decimal', n.id),
    stat(href, owner, 'data.current.tx.bps', 'Transmit data rate', 'bits_per_second', Math.round(txRate * 8), 'decimal', n.id),
    stat(href, owner, 'errors.total.rx', 'Total receive errors', 'none', 0, 'integer', n.id),
    stat(href, owner, 'errors.total.tx', 'Total transmit errors', 'none', 0, 'integer', n.id),
    // Counters: a mean rate times the time up, so they only grow while the VM runs.
    stat(href, owner, 'data.total.rx', 'Total received data', 'bytes', Math.round(secs * 120_000), 'integer', n.id),
    stat(href, owner, 'data.total.tx', 'Total transmitted data', 'bytes', Math.round(secs * 45_000), 'integer', n.id),
  ];
}

/** `holder`: the VM the disk is attached to, when the caller has it (a VM list: no search of every VM per disk). */
export function diskStatistics(s: EngineState, d: SimDisk, holder?: SimVM, now = Date.now()) {
  const vm = holder ?? s.vms.find((v) => v.attachments.some((a) => a.disk === d.id));
  const up = vm ? upFor(vm, now) > 0 : false;
  const href = `${API}/disks/${d.id}`;
  const owner = { disk: { id: d.id, href } };
  return [
    stat(href, owner, 'data.current.read', 'Read data rate', 'bytes_per_second', up ? Math.round(1_000_000 * wave(d.id, now, 50_000)) : 0, 'decimal', d.id),
    stat(href, owner, 'data.current.write', 'Write data rate', 'bytes_per_second', up ? Math.round(400_000 * wave(d.id, now, 70_000)) : 0, 'decimal', d.id),
    stat(href, owner, 'disk.read.latency', 'Read latency', 'seconds', up ? 0.0012 : 0, 'decimal', d.id),
    stat(href, owner, 'disk.write.latency', 'Write latency', 'seconds', up ? 0.0021 : 0, 'decimal', d.id),
    stat(href, owner, 'disk.flush.latency', 'Flush latency', 'seconds', up ? 0.0004 : 0, 'decimal', d.id),
  ];
}
