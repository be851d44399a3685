// The deletion guard's flags, the same on plan, apply and run (directory and Kubernetes mode).
import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '../api/quantity.ts';
import type { RemovalPolicy } from '../runtime/removals.ts';

export interface RemovalFlags {
  maxDeleteShare: string;
  deleteAllowance: string;
  deleteWindow: string;
  deleteGrace: string;
}

function share(v: string): string {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('a share from 0 to 1, e.g. 0.3');
  return v;
}
function count(v: string): string {
  if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError('a whole number, e.g. 1');
  return v;
}
function duration(v: string): string {
  try {
    parseDuration(v);
  } catch {
    throw new InvalidArgumentError('a duration such as 30s, 10m or 1h');
  }
  return v;
}

export function addRemovalOptions(cmd: Command, defaults: { grace: string }): Command {
  return cmd
    .option('--max-delete-share <share>', 'largest share of a hypervisor (and of the fleet) removed within the window, 0..1; 1 turns the guard off', share, '0.3')
    .option(
      '--delete-allowance <n>',
      'removals always allowed per hypervisor within the window, whatever the share (in directory mode never the last resource, unless --max-delete-share 1)',
      count,
      '1',
    )
    .option('--delete-window <duration>', 'how long earlier removals count against the share', duration, '1h')
    .option('--delete-grace <duration>', 'directory mode: a resource must be absent on two reads of the folder this far apart before it is removed', duration, defaults.grace);
}

export function removalPolicy(f: RemovalFlags): Partial<RemovalPolicy> {
  return { maxShare: Number(f.maxDeleteShare), allowance: Number(f.deleteAllowance), windowMs: parseDuration(f.deleteWindow), graceMs: parseDuration(f.deleteGrace) };
}
