// Who a VirtualDisk's volume belongs to, as its marker says: the resource's kind, namespace and
// name, the controller instance, and its Kubernetes UID when it has one (`metadata.uid`). A volume is taken as a
// VirtualDisk's only when its marker names that very resource; a marker from before the UID was
// written (or from directory mode, which has none) names it by path alone and is upgraded.
import { MARKER_PREFIX, sameOwner, type DesiredStandaloneDisk, type OwnerRef } from '../controller/core/provider.ts';

export interface DiskOwner {
  owner: OwnerRef;
  uid?: string;
}

const UID = /^uid=([0-9A-Za-z-]+)$/;

/** `VirtualDisk/ns/name`, `@<instance>` for the controller instance, and ` uid=<uid>` when the resource has one. */
export function diskOwnerText(d: Pick<DesiredStandaloneDisk, 'owner' | 'uid'>): string {
  return `${d.owner.kind}/${d.owner.namespace ?? 'default'}/${d.owner.name}${d.owner.instance ? `@${d.owner.instance}` : ''}${d.uid ? ` uid=${d.uid}` : ''}`;
}

/** The owner marker a volume's own metadata carries (an oVirt disk's description). */
export function formatDiskOwner(d: Pick<DesiredStandaloneDisk, 'owner' | 'uid'>): string {
  return `${MARKER_PREFIX}${diskOwnerText(d)}`;
}

/** Reads `Kind/ns/name[ uid=…]` (what diskOwnerText writes) from the start of `text`. */
export function parseDiskOwnerText(text: string): DiskOwner | undefined {
  const [path = '', second = ''] = text.trim().split(/\s+/);
  const parts = path.split('/');
  if (parts.length !== 3 || parts.some((p) => !p)) return undefined;
  const uid = UID.exec(second)?.[1];
  const [name = '', instance] = (parts[2] ?? '').split('@');
  return { owner: { kind: parts[0] ?? '', namespace: parts[1] ?? '', name, ...(instance ? { instance } : {}) }, ...(uid ? { uid } : {}) };
}

/** The owner marker in free text (`… virtkeeper.io/owner=VirtualDisk/ns/name uid=… …`). */
export function parseDiskOwner(text: string | undefined): DiskOwner | undefined {
  const at = text?.indexOf(MARKER_PREFIX) ?? -1;
  return text && at >= 0 ? parseDiskOwnerText(text.slice(at + MARKER_PREFIX.length).split(/[;,\n]/)[0] ?? '') : undefined;
}

/**
 * Whether a marker names this very resource: `this`; `upgrade` when it does by path but lacks
 * the UID or the controller instance the resource now has; `other` for any other resource, the
 * same path of another controller instance, or the same path with another UID (a resource
 * deleted and made again is not the one that owned the volume).
 */
export function diskMarkerVerdict(found: DiskOwner | undefined, d: Pick<DesiredStandaloneDisk, 'owner' | 'uid'>): 'this' | 'upgrade' | 'other' {
  if (!found || !sameOwner(found.owner, { ...d.owner, namespace: d.owner.namespace ?? 'default' })) return 'other';
  if (found.uid && d.uid && found.uid !== d.uid) return 'other';
  return (d.uid && !found.uid) || (d.owner.instance && !found.owner.instance) ? 'upgrade' : 'this';
}
