// Proxmox snapshots (`/nodes/{node}/qemu/{vmid}/snapshot`): the marker goes in the snapshot's
// description, every call re-reads the VM and refuses one whose marker names another owner,
// and each write waits for its task (qmsnapshot, qmrollback, qmdelsnapshot), which holds the VM
// lock while it runs: a second snapshot task meanwhile fails with `VM is locked (snapshot)`,
// classified as ProviderLockedError (try again later).
import type { Target } from '../../controller/core/actions.ts';
import { RefusedError, ProviderLockedError, ProviderNotFoundError } from '../../controller/core/errors.ts';
import { describeOwner } from '../../controller/core/model.ts';
import { parseOwner, sameOwner, withMarker, type ActionContext, type DesiredSnapshot, type ObservedSnapshot, type OwnerRef, type SnapshotClient } from '../../controller/core/provider.ts';
import type { ProxmoxClient } from './client.ts';
import { ownedGuest, type OwnedGuest } from './owned.ts';

interface SnapshotRow {
  name: string;
  description?: string;
  snaptime?: number;
  vmstate?: number;
  parent?: string;
  snapstate?: string;
}

/** pve-snapshot-name: a letter, then letters, digits, `_` and `-`; at most 40 characters. */
export const SNAPSHOT_NAME = /^[A-Za-z][A-Za-z0-9_-]{1,39}$/;

function toObserved(r: SnapshotRow): ObservedSnapshot {
  const owner = parseOwner(r.description);
  return {
    id: r.name,
    name: r.name,
    ...(r.description ? { description: r.description } : {}),
    ...(r.snaptime ? { createdAt: new Date(r.snaptime * 1000).toISOString() } : {}),
    memory: r.vmstate === 1,
    state: r.snapstate ? 'inProgress' : 'ready',
    ...(owner ? { owner } : {}),
  };
}

/** A snapshot's marker (a snapshot resource, a schedule) written by the controller instance that owns the VM. */
function madeHere(have: OwnerRef | undefined, vmOwner: OwnerRef | undefined): boolean {
  return !!have && !!vmOwner && (!have.instance || !vmOwner.instance || have.instance === vmOwner.instance);
}

export class ProxmoxSnapshots implements SnapshotClient {
  /**
   * No: a rollback stops a running VM itself (qemu-server's vm_stop, a hard stop), and starts it
   * again from the saved RAM when the snapshot has it; without RAM the VM is left stopped.
   */
  readonly revertNeedsStop = false;
  /** `vmstate=1` saves the RAM of a running VM; asked of a stopped VM, Proxmox saves none (no error). */
  readonly memory = true;
  private readonly api: ProxmoxClient;

  constructor(options: { api: ProxmoxClient }) {
    this.api = options.api;
  }

  async list(target: Target, _context: ActionContext = {}): Promise<ObservedSnapshot[]> {
    const g = await ownedGuest(this.api, target, 'list snapshots of');
    return (await this.rows(g)).map(toObserved);
  }

  async create(target: Target, s: DesiredSnapshot, context: ActionContext = {}): Promise<ObservedSnapshot> {
    if (!SNAPSHOT_NAME.test(s.name)) throw new RefusedError(`snapshot name ${s.name} is not one Proxmox takes: a letter, then letters, digits, _ or -, 2 to 40 characters`);
    const g = await ownedGuest(this.api, target, 'snapshot');
    const existing = (await this.rows(g)).find((r) => r.name === s.name);
    if (existing) return this.mine(target, existing, s.name, s.owner);
    // Proxmox freezes the guest's file systems itself (guest agent, no RAM saved); without an
    // agent the snapshot is crash-consistent, which is said rather than refused.
    if (s.quiesce && !/^(1|enabled=1)/.test(g.config.agent ?? '0')) context.onProgress?.({ message: `VM ${target.name} has no guest agent enabled (agent=1): the snapshot is not quiesced` });
    if (s.memory && g.status !== 'running') context.onProgress?.({ message: `VM ${target.name} is not running: the snapshot has no RAM` });
    const upid = await this.api.post<string>(`${g.path}/snapshot`, {
      snapname: s.name,
      description: withMarker(s.description, s.owner),
      ...(s.memory ? { vmstate: 1 } : {}),
    });
    await this.wait(upid, context);
    const made = (await this.rows(g)).find((r) => r.name === s.name);
    if (!made) throw new ProviderNotFoundError(`snapshot ${s.name} of VM ${target.name} was not found after its task finished`);
    return toObserved(made);
  }

  async revert(target: Target, snapshotID: string, context: ActionContext = {}): Promise<void> {
    const g = await ownedGuest(this.api, target, 'revert');
    const snap = (await this.rows(g)).find((r) => r.name === snapshotID);
    if (!snap) throw new ProviderNotFoundError(`VM ${target.name} has no snapshot ${snapshotID}`);
    if (snap.snapstate) throw new ProviderLockedError(`snapshot ${snapshotID} of VM ${target.name} is still being ${snap.snapstate === 'delete' ? 'deleted' : 'made'}`);
    await this.wait(await this.api.post<string>(`${g.path}/snapshot/${encodeURIComponent(snapshotID)}/rollback`), context);
  }

  async delete(target: Target, snapshotID: string, context: ActionContext = {}): Promise<void> {
    const g = await ownedGuest(this.api, target, 'delete snapshots of');
    const snap = (await this.rows(g)).find((r) => r.name === snapshotID);
    if (!snap) return;
    if (!madeHere(parseOwner(snap.description), target.owner))
      throw new RefusedError(`snapshot ${snapshotID} of VM ${target.name} was not made by this controller${target.owner?.instance ? ` (instance ${target.owner.instance})` : ''}; it is left as it is`);
    await this.wait(await this.api.delete<string>(`${g.path}/snapshot/${encodeURIComponent(snapshotID)}`), context);
  }

  private async rows(g: OwnedGuest): Promise<SnapshotRow[]> {
    return (await this.api.get<SnapshotRow[]>(`${g.path}/snapshot`)).filter((r) => r.name !== 'current');
  }

  /** A snapshot of that name already there: ours is the create's result (once finished); another's is refused. */
  private mine(target: Target, row: SnapshotRow, name: string, owner: DesiredSnapshot['owner']): ObservedSnapshot {
    const have = parseOwner(row.description);
    if (!sameOwner(have, owner))
      throw new RefusedError(`VM ${target.name} already has a snapshot named ${name}${have ? ` made by ${describeOwner(have)}` : ' not made by virtkeeper'}; choose another name`);
    if (row.snapstate) throw new ProviderLockedError(`snapshot ${name} of VM ${target.name} is still being ${row.snapstate === 'delete' ? 'deleted' : 'made'}`);
    return toObserved(row);
  }

  private wait(upid: string, ctx: ActionContext): Promise<void> {
    return this.api.waitForTask(upid, { ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) });
  }
}
