// What a VM uses, from the statistics the one list call follows (`statistics`,
// `nics.statistics`, `disk_attachments.disk.statistics`): CPU and memory gauges of the VM,
// network totals per NIC, disk rates per disk (the engine keeps no disk totals).
import type { ObservedVM, VMUsage } from '../../controller/core/model.ts';
import { arr, num, obj, type Json } from './client.ts';

/** Statistic name → its first datum, from a `statistics` element. */
export function statistics(holder: Json): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of arr(obj(holder.statistics).statistic)) {
    const datum = arr(obj(s.values).value)[0]?.datum;
    if (datum !== undefined && datum !== null && datum !== '' && Number.isFinite(Number(datum))) out.set(String(s.name), Number(datum));
  }
  return out;
}

const sum = (maps: Map<string, number>[], name: string): number | undefined => {
  const values = maps.flatMap((m) => (m.has(name) ? [m.get(name) ?? 0] : []));
  return values.length ? values.reduce((a, b) => a + b, 0) : undefined;
};

/** The VM's usage, or undefined when the engine reported none (statistics not followed, a VM down). */
export function toUsage(vm: Json): VMUsage | undefined {
  const own = statistics(vm);
  const nics = arr(obj(vm.nics).nic).map(statistics);
  const disks = arr(obj(vm.disk_attachments).disk_attachment).map((a) => statistics(obj(a.disk)));
  const u: VMUsage = {};
  const cpu = own.get('cpu.current.total');
  if (cpu !== undefined) u.cpuRatio = Math.min(1, Math.max(0, cpu / 100));
  const mem = own.get('memory.used');
  if (mem !== undefined) u.memoryUsedBytes = num(mem);
  const rx = sum(nics, 'data.total.rx');
  const tx = sum(nics, 'data.total.tx');
  if (rx !== undefined) u.networkReceiveBytes = rx;
  if (tx !== undefined) u.networkTransmitBytes = tx;
  const read = sum(disks, 'data.current.read');
  const write = sum(disks, 'data.current.write');
  if (read !== undefined) u.diskReadBytesPerSecond = read;
  if (write !== undefined) u.diskWriteBytesPerSecond = write;
  return Object.keys(u).length > 0 ? u : undefined;
}

/** The observed VM with its usage, when the engine reported any. */
export function withUsage(o: ObservedVM, vm: Json): ObservedVM {
  const usage = toUsage(vm);
  return usage ? { ...o, usage } : o;
}
