// A live migration's progress on libvirt: the source daemon's job info for the domain
// (virDomainGetJobInfo: data processed, remaining and total, time elapsed). QEMU sends a page
// of zeros as a few bytes, so the share done is what no longer remains, not what was sent.
import type { MigrationProgress, Target } from '../../controller/core/provider.ts';
import type { Hosts } from './hosts.ts';

/** VIR_DOMAIN_JOB_NONE: no job on the domain (not migrating, or done). */
const JOB_NONE = 0;

export interface JobInfo {
  type: number;
  elapsedMs: bigint;
  dataTotal: bigint;
  dataProcessed: bigint;
  dataRemaining: bigint;
}

/** The progress a job info shows, or undefined when the domain has no job. */
export function progressOfJob(job: JobInfo, now: number): MigrationProgress | undefined {
  if (job.type === JOB_NONE) return undefined;
  const total = Number(job.dataTotal);
  const left = Number(job.dataRemaining);
  return {
    phase: 'active',
    startedAt: new Date(now - Number(job.elapsedMs)).toISOString(),
    ...(total > 0 ? { percent: Math.min(99, Math.floor(((total - Math.min(left, total)) * 100) / total)), bytesDone: Number(job.dataProcessed), bytesTotal: total } : {}),
  };
}

/** One job-info call per domain on its source host (`group`), all on that host's one connection. */
export async function readMigrations(hosts: Hosts, host: string, ids: readonly string[], now: () => number): Promise<Map<string, MigrationProgress>> {
  const c = await hosts.conn(host);
  const out = new Map<string, MigrationProgress>();
  await Promise.all(
    ids.map(async (id) => {
      const d = await c.lookupDomainByUUID(Buffer.from(id.replace(/-/g, ''), 'hex')).catch(() => undefined);
      const job = d ? await c.jobInfo(d).catch(() => undefined) : undefined;
      const p = job ? progressOfJob(job, now()) : undefined;
      if (p) out.set(id, p);
    }),
  );
  return out;
}

/** The VMClient read: targets grouped by the host they run on (target.node). */
export async function migrationsOf(hosts: Hosts, targets: readonly Target[], now: () => number): Promise<Map<string, MigrationProgress>> {
  const byHost = new Map<string, string[]>();
  for (const t of targets) if (t.node) byHost.set(t.node, [...(byHost.get(t.node) ?? []), t.providerID]);
  const parts = await Promise.all([...byHost].map(([host, ids]) => readMigrations(hosts, host, ids, now).catch(() => new Map<string, MigrationProgress>())));
  return new Map(parts.flatMap((m) => [...m]));
}
