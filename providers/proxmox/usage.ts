// A guest's usage as its /cluster/resources row reports it: no request of its own.
import type { VMUsage } from '../../controller/core/model.ts';

export interface UsageRow {
  status?: string;
  cpu?: number;
  mem?: number;
  diskread?: number;
  diskwrite?: number;
  netin?: number;
  netout?: number;
}

/** Usage of a running guest (the counters are totals since it started); none for a stopped one. */
export function usageOf(row: UsageRow): VMUsage | undefined {
  if (row.status !== 'running') return undefined;
  const u: VMUsage = {};
  if (row.cpu !== undefined) u.cpuRatio = row.cpu;
  if (row.mem !== undefined) u.memoryUsedBytes = row.mem;
  if (row.diskread !== undefined) u.diskReadBytes = row.diskread;
  if (row.diskwrite !== undefined) u.diskWriteBytes = row.diskwrite;
  if (row.netin !== undefined) u.networkReceiveBytes = row.netin;
  if (row.netout !== undefined) u.networkTransmitBytes = row.netout;
  return u;
}
