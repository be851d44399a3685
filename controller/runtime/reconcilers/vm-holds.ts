// VMs a restore is working on, in this process: the VM's own reconciler leaves their power alone
// meanwhile (runStrategy Always would start a VM the restore just stopped, before it reverts).
// A restore that dies with the process resumes by stopping the VM again before it reverts.
const held = new Map<string, string>();

/** Holds a VM (its resource key) for `by` until the returned release is called. */
export function holdVM(vmKey: string, by: string): () => void {
  held.set(vmKey, by);
  return () => {
    if (held.get(vmKey) === by) held.delete(vmKey);
  };
}

/** Who holds this VM, if anyone. */
export function heldBy(vmKey: string): string | undefined {
  return held.get(vmKey);
}
