// The Proxmox DiskClient (VirtualDisks). Proxmox ties a volume to the VM id in its name
// (`vm-<id>-…`) and destroying that VM frees every volume it owns, attached or unused
// (destroy_vm). So a VirtualDisk's volume is allocated (`POST /nodes/{node}/storage/{storage}/content`)
// for an id no VM has, DISK_OWNER_VMID, and attached to VMs by reference, as the Proxmox CSI
// plugin does with its vmid 9999: removing a VM leaves it in its storage, detaching it only drops
// the reference, and it moves by being detached from one VM and attached to another (the volume
// id never changes). The API user needs Datastore.Allocate on the storage (or VM.Config.Disk on
// /vms/DISK_OWNER_VMID). A local (non-shared) volume owned by another id cannot be migrated along
// with its VM: Proxmox refuses that, and so it moves between VMs of one node only.
//
// Volumes made by earlier versions are owned by the VM that held them (`vm-<id>-vkdisk-…`,
// renamed to `vm-<id>-disk-<n>` by a `move_disk`); they are found by the line in their VM's
// description, keep moving with `move_disk`, and make their VM's removal stop with a clear
// error rather than take them along (see releaseVirtualDisks). A disk is never detached from,
// or deleted out of, a VM virtkeeper does not own.
import type { ActionContext, DesiredStandaloneDisk, DiskClient, DiskState, KindObservation } from '../../../controller/core/provider.ts';
import type { ProxmoxContext } from '../context.ts';
import { deleteDisk } from './delete.ts';
import { CREATE_INTENT, ensureDisk, type Effects } from './ensure.ts';
import { FreeVolumes } from './free.ts';

export { releaseVirtualDisks } from './delete.ts';
export { DISK_LINE, DISK_OWNER_VMID, volumeOwner } from './volumes.ts';

const act: Effects = { write: (_intent, fn) => fn() };

export class ProxmoxDisks implements DiskClient {
  private readonly c: ProxmoxContext;
  private readonly fullScans = new Map<string, number>();
  private readonly free: FreeVolumes;

  constructor(c: ProxmoxContext) {
    this.c = c;
    this.free = new FreeVolumes(c.api);
  }

  /** What ensure would do, by ensure's own decisions with every write recorded instead of made. */
  async observe(d: DesiredStandaloneDisk, ctx: ActionContext = {}): Promise<KindObservation<DiskState>> {
    const intents: string[] = [];
    const dry: Effects = {
      write: async <T>(intent: string, _fn: () => Promise<T>, answer: T) => {
        intents.push(intent);
        return answer;
      },
    };
    const s = await ensureDisk(
      {
        api: this.c.api,
        defaultStorage: this.c.defaultStorage,
        // A look of its own: plan's full scan does not spare ensure its own.
        fullScans: new Map(this.fullScans),
        free: this.free,
        guests: () => this.c.recentGuests(false),
        effects: dry,
        wait: async () => {},
      },
      d,
      ctx.signal ? { signal: ctx.signal } : {},
    );
    // A volume it would allocate, or one it could not find (a node offline), does not exist yet.
    const exists = s.providerID !== '' && s.sizeBytes > 0 && !intents.some((i) => i.startsWith(CREATE_INTENT));
    return { exists, upToDate: intents.length === 0 && !s.message, ...(exists ? { state: s } : {}), intents, ...(s.message ? { problem: s.message } : {}) };
  }

  ensure(d: DesiredStandaloneDisk, ctx: ActionContext = {}): Promise<DiskState> {
    // A VM that is locked (a clone or config task running) is waited for, as for VM actions.
    // The first attempt may use the last observation's list (a few seconds old at most); a retry
    // after a lock reads it afresh.
    let attempt = 0;
    return this.c.retry(
      () =>
        ensureDisk(
          {
            api: this.c.api,
            defaultStorage: this.c.defaultStorage,
            fullScans: this.fullScans,
            free: this.free,
            guests: () => this.c.recentGuests(attempt++ > 0),
            effects: act,
            wait: this.c.waiter(ctx),
            touched: (row) => this.c.details.delete(row.id),
          },
          d,
          ctx,
        ),
      ctx,
    );
  }

  delete(d: DesiredStandaloneDisk, ctx: ActionContext = {}): Promise<void> {
    return deleteDisk({ api: this.c.api, defaultStorage: this.c.defaultStorage, free: this.free }, d, ctx);
  }
}
