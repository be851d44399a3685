// Which controller instance the VM markers name (`virtkeeper.io/owner=…@<instance>`): two
// folders or clusters that declare the same VirtualMachine then own different VMs, never one.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { TerminalError } from '../core/errors.ts';
import { INSTANCE_PATTERN } from '../core/provider.ts';
import type { KubeRest } from '../sources/kube-rest.ts';

const short = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 10);

/** `--instance` as given, checked: it travels in descriptions, comments and XML text. */
export function checkInstance(flag: string): string {
  if (!INSTANCE_PATTERN.test(flag)) throw new TerminalError(`--instance ${JSON.stringify(flag)}: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  return flag;
}

/**
 * Directory mode: the state directory's absolute path, hashed. By default that directory is
 * derived from the folder's absolute path, so this is the folder's identity; with --state-dir
 * it follows the state kept there, so a folder checked out at a new path each run (CI) keeps
 * the VMs it made.
 */
export function directoryInstance(flag: string | undefined, stateDir: string): string {
  return flag !== undefined ? checkInstance(flag) : `d-${short(resolve(stateDir))}`;
}

/** Kubernetes mode: the kube-system namespace's UID (the cluster's identity), else the API server URL. */
export async function kubernetesInstance(flag: string | undefined, rest: KubeRest): Promise<{ instance: string; from: string }> {
  if (flag !== undefined) return { instance: checkInstance(flag), from: '--instance' };
  try {
    const ns = await rest.call<{ metadata?: { uid?: string } }>('GET', '/api/v1/namespaces/kube-system');
    if (ns.metadata?.uid) return { instance: `k-${short(ns.metadata.uid)}`, from: 'the kube-system namespace UID' };
  } catch {
    // Not allowed to read it (an older ClusterRole): the server URL still tells clusters apart.
  }
  return { instance: `k-${short(rest.server)}`, from: `the API server URL (kube-system is not readable; in-cluster URLs look alike, so pass --instance)` };
}
