// The ownership marker every provider writes on what virtkeeper makes (a description, a
// comment, domain metadata) and reads back before any destructive step.
import { sameOwnerRef, type OwnerRef } from './model.ts';

/**
 * The ownership marker, in its one text form: `virtkeeper.io/owner=VirtualMachine/default/web-1@a1b2c3d4`,
 * the part after `@` naming the controller instance (absent in markers written before instances).
 */
export const MARKER_PREFIX = 'virtkeeper.io/owner=';

/** What an instance id may be: it travels inside descriptions, comments and XML text. */
export const INSTANCE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

export function formatOwner(owner: OwnerRef): string {
  return `${MARKER_PREFIX}${owner.kind}/${owner.namespace ? `${owner.namespace}/` : ''}${owner.name}${owner.instance ? `@${owner.instance}` : ''}`;
}

/** The text with its marker replaced by this owner's, or with the marker put first when it has none. */
export function withMarker(text: string | undefined, owner: OwnerRef, separator = '\n'): string {
  const old = text ?? '';
  const at = old.indexOf(MARKER_PREFIX);
  if (at < 0) return old ? `${formatOwner(owner)}${separator}${old}` : formatOwner(owner);
  const end = old.slice(at).search(/[\s;,]/);
  return `${old.slice(0, at)}${formatOwner(owner)}${end < 0 ? '' : old.slice(at + end)}`;
}

/** Finds the marker in free text (a description, a comment, metadata) and parses it. */
export function parseOwner(text: string | undefined): OwnerRef | undefined {
  if (!text) return undefined;
  const at = text.indexOf(MARKER_PREFIX);
  if (at < 0) return undefined;
  const rest = text.slice(at + MARKER_PREFIX.length).split(/[\s;,]/)[0] ?? '';
  const [path = '', instance] = rest.split('@');
  const parts = path.split('/');
  const inst = instance ? { instance } : {};
  if (parts.length === 3) return { kind: parts[0] ?? '', namespace: parts[1] ?? '', name: parts[2] ?? '', ...inst };
  if (parts.length === 2) return { kind: parts[0] ?? '', name: parts[1] ?? '', ...inst };
  return undefined;
}

/**
 * Written beside the owner marker on a VM virtkeeper adopted (it did not create it): later passes,
 * and a controller that lost its state, keep the disks and NICs its spec does not list.
 */
export const ADOPTED_MARKER = 'virtkeeper.io/adopted=true';

export function isAdopted(text: string | undefined): boolean {
  return !!text && text.includes(ADOPTED_MARKER);
}

/** The same resource; an instance on one side only is a marker from before instances, still ours. */
export const sameOwner = sameOwnerRef;

/**
 * An image location as it may be shown (status, events, logs, errors): a URL loses its
 * user:password and its query (tokens travel there); a path is shown as is.
 */
export function displayImage(image: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(image)) return image;
  try {
    const u = new URL(image);
    return `${u.protocol}//${u.username || u.password ? '***@' : ''}${u.host}${u.pathname}${u.search ? '?***' : ''}`;
  } catch {
    return '(an image URL that does not parse)';
  }
}
