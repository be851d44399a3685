// Snapshots on libvirt 9.0 / QEMU 7.2 with qcow2 volumes: internal snapshots only (libvirt
// reverts no external one before 9.7). A stopped VM gets a disk snapshot; a running VM a
// snapshot with its memory state (QEMU saves disks and memory at one instant, so it is
// consistent without freezing: a freeze would be saved, and restored, with the memory). A
// running VM's disks alone cannot be snapshotted internally: refused, saying what to do.
// The marker is the snapshot's description; the VM's marker is checked on every call.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { Target } from '../../controller/core/actions.ts';
import { RefusedError, VkError } from '../../controller/core/errors.ts';
import { formatOwner, parseOwner, sameOwner, type DesiredSnapshot, type ObservedSnapshot, type SnapshotClient } from '../../controller/core/provider.ts';
import { requireAgent } from './guest-agent.ts';
import type { Hosts } from './hosts.ts';
import type { LibvirtConnection } from './rpc/connection.ts';
import { orAbsent, type Snapshot } from './rpc/protocol.ts';

/** What this libvirt cannot snapshot as asked. */
export class SnapshotUnsupportedError extends VkError {
  override readonly code = 'VK_SNAPSHOT_UNSUPPORTED';
  override readonly kind = 'invalid';
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', suppressEmptyNode: true });
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });

export function snapshotXml(s: DesiredSnapshot, memory: boolean): string {
  return builder.build({
    domainsnapshot: {
      name: s.name,
      description: [formatOwner(s.owner), ...(s.description ? [s.description] : [])].join('\n'),
      memory: { '@snapshot': memory ? 'internal' : 'no' },
    },
  }) as string;
}

export function parseSnapshot(xml: string): ObservedSnapshot {
  const x = ((parser.parse(xml) as Record<string, unknown>).domainsnapshot ?? {}) as Record<string, unknown>;
  const text = String(x.description ?? '');
  const owner = parseOwner(text);
  const lines = text.split('\n');
  const rest = owner ? lines.slice(1).join('\n') : text;
  const created = Number(x.creationTime ?? 0);
  const memory = (x.memory as Record<string, string> | undefined)?.['@snapshot'];
  return {
    id: String(x.name ?? ''),
    name: String(x.name ?? ''),
    ...(rest ? { description: rest } : {}),
    ...(created ? { createdAt: new Date(created * 1000).toISOString() } : {}),
    // A snapshot of a running domain without `memory` said is one with its memory (libvirt's default then).
    memory: memory ? memory === 'internal' : String(x.state ?? '') === 'running',
    state: 'ready',
    ...(owner ? { owner } : {}),
  };
}

export class LibvirtSnapshots implements SnapshotClient {
  /** libvirt stops or starts the domain itself to match the snapshot's state. */
  readonly revertNeedsStop = false;
  readonly memory = true;
  private readonly hosts: Hosts;

  constructor(hosts: Hosts) {
    this.hosts = hosts;
  }

  async list(target: Target): Promise<ObservedSnapshot[]> {
    const { c, d } = await this.hosts.locateOwned(target, 'its snapshots are not listed');
    const all = await c.listSnapshots(d);
    return Promise.all(all.map(async (s) => parseSnapshot(await c.snapshotXml(s))));
  }

  async create(target: Target, want: DesiredSnapshot): Promise<ObservedSnapshot> {
    const { c, d, parsed, running } = await this.hosts.locateOwned(target, 'no snapshot is made of it');
    const have = await orAbsent(c.lookupSnapshot(d, want.name));
    if (have) return this.mine(c, have, want, target);
    if (running && !want.memory)
      throw new SnapshotUnsupportedError(
        `libvirt 9.0 snapshots a running VM's qcow2 disks only together with its memory (internal snapshot); set memory: true on snapshot ${want.name}, or stop VM ${target.name} first`,
      );
    // A quiesced snapshot is one the guest took part in: its agent must answer.
    if (want.quiesce && running) await requireAgent(c, d, target.name, parsed.guestAgent, 'a quiesced snapshot');
    const made = await c.createSnapshot(d, snapshotXml(want, running && want.memory), 0);
    return parseSnapshot(await c.snapshotXml(made));
  }

  async revert(target: Target, snapshotID: string): Promise<void> {
    const { c, d } = await this.hosts.locateOwned(target, 'it is not reverted');
    const s = await orAbsent(c.lookupSnapshot(d, snapshotID));
    if (!s) throw new RefusedError(`VM ${target.name} has no snapshot ${snapshotID}; nothing is reverted`);
    await c.revertToSnapshot(s, 0);
  }

  async delete(target: Target, snapshotID: string): Promise<void> {
    const { c, d } = await this.hosts.locateOwned(target, 'none of its snapshots is deleted');
    const s = await orAbsent(c.lookupSnapshot(d, snapshotID));
    if (!s) return;
    const seen = parseSnapshot(await c.snapshotXml(s));
    if (!seen.owner) throw new RefusedError(`snapshot ${snapshotID} of VM ${target.name} was not made by virtkeeper (no marker in its description); it is not deleted`);
    await c.deleteSnapshot(s, 0);
  }

  /** An existing snapshot of the name is returned when its marker names the same owner. */
  private async mine(c: LibvirtConnection, s: Snapshot, want: DesiredSnapshot, target: Target): Promise<ObservedSnapshot> {
    const seen = parseSnapshot(await c.snapshotXml(s));
    if (!sameOwner(seen.owner, want.owner))
      throw new RefusedError(
        `VM ${target.name} already has a snapshot named ${s.name} that ${seen.owner ? `belongs to ${formatOwner(seen.owner)}` : 'virtkeeper did not make'}; give the snapshot another name`,
      );
    return seen;
  }
}
