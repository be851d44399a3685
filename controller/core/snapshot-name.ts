// Names snapshots carry on the hypervisor. Proxmox is the strictest: `[A-Za-z][A-Za-z0-9_-]*`,
// at most 40 characters; what fits there fits oVirt's descriptions and libvirt's names too.
// A name that had to be cut keeps a hash of the whole, so two long names never become one.
import { createHash } from 'node:crypto';

export const SNAPSHOT_NAME_MAX = 40;

function readable(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
}

function fitName(prefix: string, body: string, suffix: string): string {
  const whole = `${prefix}${body}${suffix}`;
  if (whole.length <= SNAPSHOT_NAME_MAX) return whole;
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 6);
  const room = SNAPSHOT_NAME_MAX - prefix.length - suffix.length - hash.length - 1;
  return `${prefix}${body.slice(0, Math.max(room, 0)).replace(/-+$/, '')}-${hash}${suffix}`;
}

/** A VirtualMachineSnapshot's name on the hypervisor: `vk-<name>` (cut with a hash past 40 characters). */
export function snapshotName(resourceName: string): string {
  return fitName('vk-', readable(resourceName), '');
}

/** `YYYYMMDD-HHMM` in UTC: sorts as time does, and reads back (parseScheduledTime). */
function stamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}`;
}

/** A schedule's snapshot of one run: `vks-<schedule>-<YYYYMMDD-HHMM>` (UTC, the run's scheduled time). */
export function scheduledSnapshotName(scheduleName: string, runMs: number): string {
  return fitName('vks-', readable(scheduleName), `-${stamp(runMs)}`);
}

/** The scheduled time a schedule's snapshot name carries, or undefined for any other name. */
export function parseScheduledTime(name: string): number | undefined {
  const m = /^vks-.*-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})$/.exec(name);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  return Number.isNaN(ms) ? undefined : ms;
}
