// What a VM uses, from the engine's statistics (`statistics`, `nics.statistics`,
// `disk_attachments.disk.statistics`): CPU and memory gauges of the VM, network totals per
// NIC, disk rates per disk (the engine keeps no disk totals). Statistics are the heaviest part
// of a VM's representation (twenty-odd entries a VM), so observation never follows them: only a
// caller that shows usage (run, ui) has them read, by a search of their own over the running
// VMs, at most every `everyMs`.
import type { Logger } from 'pino';
import type { VMUsage } from '../../controller/core/model.ts';
import { arr, num, obj, type Json, type OvirtClient } from './client.ts';

/** What the usage search follows: the three kinds of statistics, nothing else. */
export const USAGE_FOLLOW = 'statistics,nics.statistics,disk_attachments.disk.statistics';
/** A VM not up reports zeros, or nothing: its gauges are left out rather than read. */
export const USAGE_SEARCH = 'status=up';

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

export interface UsageReaderOptions {
  api: OvirtClient;
  now: () => number;
  /** How old the last read may be before an observation has it read again (default 15 s, under the usage history's 30 s step). */
  everyMs?: number;
  logger?: Logger;
}

/** The running VMs' usage by VM id: one search in flight, answered from the last read while it is recent. */
export class UsageReader {
  private last: { at: number; byId: Map<string, VMUsage> } | undefined;
  private reading: Promise<Map<string, VMUsage>> | undefined;
  private readonly o: UsageReaderOptions;
  /** Searches sent (tests count them). */
  reads = 0;

  constructor(options: UsageReaderOptions) {
    this.o = options;
  }

  current(): Promise<Map<string, VMUsage>> {
    const last = this.last;
    if (last && this.o.now() - last.at < (this.o.everyMs ?? 15_000)) return Promise.resolve(last.byId);
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<Map<string, VMUsage>> {
    const at = this.o.now();
    this.reads++;
    try {
      const byId = new Map<string, VMUsage>();
      // Each VM's statistics are read into its few numbers as they arrive, and dropped.
      await this.o.api.list('/vms', { search: USAGE_SEARCH, follow: USAGE_FOLLOW }, (vm) => {
        const u = toUsage(vm);
        if (u) byId.set(String(vm.id), u);
      });
      this.last = { at, byId };
      return byId;
    } catch (e) {
      // Gauges are not worth failing an observation for: keep the last ones, try again next time.
      this.o.logger?.warn({ err: (e as Error).message }, 'cannot read VM statistics; usage gauges keep their last values');
      this.last = { at, byId: this.last?.byId ?? new Map() };
      return this.last.byId;
    }
  }
}
