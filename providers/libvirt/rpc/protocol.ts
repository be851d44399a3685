// libvirt's remote protocol: programs, procedure numbers (from remote_protocol.x), message
// types, and the codecs of the structures this client uses.
import { VkError, type ErrorKind } from '../../../controller/core/errors.ts';
import { type XdrReader, XdrWriter } from './xdr.ts';

export const PROGRAM = { REMOTE: 0x20008086, QEMU: 0x20008087, KEEPALIVE: 0x6b656570 } as const;
export const PROTOCOL_VERSION = 1;
export const MessageType = { CALL: 0, REPLY: 1, MESSAGE: 2, STREAM: 3, CALL_WITH_FDS: 4, REPLY_WITH_FDS: 5 } as const;
export const MessageStatus = { OK: 0, ERROR: 1, CONTINUE: 2 } as const;
export const KEEPALIVE_PROC = { PING: 1, PONG: 2 } as const;

export const PROC = {
  CONNECT_OPEN: 1,
  CONNECT_CLOSE: 2,
  NODE_GET_INFO: 6,
  DOMAIN_CREATE: 9,
  DOMAIN_DESTROY: 12,
  DOMAIN_GET_XML_DESC: 14,
  DOMAIN_GET_AUTOSTART: 15,
  DOMAIN_LOOKUP_BY_NAME: 23,
  DOMAIN_LOOKUP_BY_UUID: 24,
  DOMAIN_REBOOT: 27,
  DOMAIN_SET_AUTOSTART: 29,
  DOMAIN_SHUTDOWN: 33,
  CONNECT_GET_HOSTNAME: 59,
  AUTH_LIST: 66,
  STORAGE_POOL_REFRESH: 83,
  STORAGE_POOL_LOOKUP_BY_NAME: 84,
  STORAGE_VOL_CREATE_XML: 93,
  STORAGE_VOL_DELETE: 94,
  STORAGE_VOL_LOOKUP_BY_NAME: 95,
  STORAGE_VOL_GET_INFO: 98,
  STORAGE_VOL_GET_XML_DESC: 99,
  STORAGE_VOL_GET_PATH: 100,
  STORAGE_VOL_CREATE_XML_FROM: 125,
  CONNECT_GET_LIB_VERSION: 157,
  DOMAIN_ATTACH_DEVICE_FLAGS: 160,
  DOMAIN_DETACH_DEVICE_FLAGS: 161,
  DOMAIN_GET_JOB_INFO: 163,
  DOMAIN_ABORT_JOB: 164,
  DOMAIN_SET_VCPUS_FLAGS: 199,
  DOMAIN_SET_MEMORY_FLAGS: 204,
  STORAGE_VOL_UPLOAD: 208,
  DOMAIN_GET_STATE: 212,
  STORAGE_VOL_DOWNLOAD: 209,
  NODE_GET_MEMORY_STATS: 228,
  DOMAIN_UNDEFINE_FLAGS: 231,
  DOMAIN_BLOCK_RESIZE: 251,
  STORAGE_VOL_RESIZE: 260,
  CONNECT_LIST_ALL_DOMAINS: 273,
  DOMAIN_MIGRATE_PERFORM3_PARAMS: 305,
  CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: 316,
  CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY: 317,
  DOMAIN_EVENT_CALLBACK_LIFECYCLE: 318,
  CONNECT_GET_ALL_DOMAIN_STATS: 344,
  DOMAIN_DEFINE_XML_FLAGS: 350,
  DOMAIN_SET_METADATA: 264,
  NETWORK_CREATE: 39,
  NETWORK_DEFINE_XML: 41,
  NETWORK_DESTROY: 42,
  NETWORK_GET_XML_DESC: 43,
  NETWORK_GET_AUTOSTART: 44,
  NETWORK_LOOKUP_BY_NAME: 46,
  NETWORK_SET_AUTOSTART: 48,
  NETWORK_UNDEFINE: 49,
  NETWORK_IS_ACTIVE: 152,
  DOMAIN_UPDATE_DEVICE_FLAGS: 174,
  DOMAIN_SNAPSHOT_CREATE_XML: 185,
  DOMAIN_SNAPSHOT_GET_XML_DESC: 186,
  DOMAIN_SNAPSHOT_LOOKUP_BY_NAME: 189,
  DOMAIN_REVERT_TO_SNAPSHOT: 192,
  DOMAIN_SNAPSHOT_DELETE: 193,
  DOMAIN_LIST_ALL_SNAPSHOTS: 274,
} as const;

export const QEMU_PROC = { DOMAIN_AGENT_COMMAND: 3 } as const;

export const DomainState = { NOSTATE: 0, RUNNING: 1, BLOCKED: 2, PAUSED: 3, SHUTDOWN: 4, SHUTOFF: 5, CRASHED: 6, PMSUSPENDED: 7 } as const;
/** virDomainMetadataType: an element of our own namespace in <metadata>. */
export const MetadataType = { DESCRIPTION: 0, TITLE: 1, ELEMENT: 2 } as const;
export const AffectFlags = { CURRENT: 0, LIVE: 1, CONFIG: 2 } as const;
export const VcpuFlags = { MAXIMUM: 4 } as const;
export const MemoryFlags = { MAXIMUM: 4 } as const;
export const BlockResizeFlags = { BYTES: 1 } as const;
export const UndefineFlags = { MANAGED_SAVE: 1, SNAPSHOTS_METADATA: 2, NVRAM: 4, CHECKPOINTS_METADATA: 16 } as const;
export const MigrateFlags = {
  LIVE: 1,
  PEER2PEER: 2,
  TUNNELLED: 4,
  PERSIST_DEST: 8,
  UNDEFINE_SOURCE: 16,
  PAUSED: 32,
  NON_SHARED_DISK: 64,
  NON_SHARED_INC: 128,
  CHANGE_PROTECTION: 256,
  UNSAFE: 512,
  TLS: 65536,
} as const;
/** virDomainSnapshotCreateFlags, virDomainSnapshotRevertFlags, virDomainSnapshotDeleteFlags. */
export const SnapshotCreateFlags = { HALT: 8, DISK_ONLY: 16, QUIESCE: 64, ATOMIC: 128, LIVE: 256 } as const;
export const SnapshotRevertFlags = { RUNNING: 1, PAUSED: 2, FORCE: 4 } as const;
export const SnapshotDeleteFlags = { CHILDREN: 1, METADATA_ONLY: 2 } as const;
/** virDomainXMLFlags. */
export const XmlFlags = { SECURE: 1, INACTIVE: 2 } as const;
export const StatsTypes = { STATE: 1, CPU_TOTAL: 2, BALLOON: 4, VCPU: 8, INTERFACE: 16, BLOCK: 32 } as const;
export const EventId = { LIFECYCLE: 0 } as const;
export const TypedParamType = { INT: 1, UINT: 2, LLONG: 3, ULLONG: 4, DOUBLE: 5, BOOLEAN: 6, STRING: 7 } as const;

export interface Header {
  prog: number;
  vers: number;
  proc: number;
  type: number;
  serial: number;
  status: number;
}

export const HEADER_SIZE = 24;

export function encodeHeader(h: Header): Buffer {
  return new XdrWriter().uint(h.prog).uint(h.vers).int(h.proc).int(h.type).uint(h.serial).int(h.status).bytes();
}
export function decodeHeader(r: XdrReader): Header {
  return { prog: r.uint(), vers: r.uint(), proc: r.int(), type: r.int(), serial: r.uint(), status: r.int() };
}

/** One packet: a 4-byte length (itself included), the header, the body. */
export function frame(h: Header, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = encodeHeader(h);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(4 + head.length + body.length);
  return Buffer.concat([len, head, body]);
}

export interface Domain {
  name: string;
  uuid: Buffer;
  id: number;
}
export interface StoragePool {
  name: string;
  uuid: Buffer;
}
/** remote_nonnull_network: a name and a UUID, as a pool. */
export interface Network {
  name: string;
  uuid: Buffer;
}
export interface Snapshot {
  name: string;
  domain: Domain;
}
export interface StorageVol {
  pool: string;
  name: string;
  key: string;
}

export const writeDomain = (w: XdrWriter, d: Domain): XdrWriter => w.string(d.name).fixedOpaque(d.uuid).int(d.id);
export const readDomain = (r: XdrReader): Domain => ({ name: r.string(), uuid: r.fixedOpaque(16), id: r.int() });
export const writePool = (w: XdrWriter, p: StoragePool): XdrWriter => w.string(p.name).fixedOpaque(p.uuid);
export const readPool = (r: XdrReader): StoragePool => ({ name: r.string(), uuid: r.fixedOpaque(16) });
export const writeVol = (w: XdrWriter, v: StorageVol): XdrWriter => w.string(v.pool).string(v.name).string(v.key);
export const readVol = (r: XdrReader): StorageVol => ({ pool: r.string(), name: r.string(), key: r.string() });
/** remote_nonnull_domain_snapshot: its name, then its domain. */
export const writeSnapshot = (w: XdrWriter, s: Snapshot): XdrWriter => writeDomain(w.string(s.name), s.domain);
export const readSnapshot = (r: XdrReader): Snapshot => ({ name: r.string(), domain: readDomain(r) });

export type TypedValue = number | bigint | boolean | string;
export interface TypedParam {
  field: string;
  type: number;
  value: TypedValue;
}

export function writeTypedParam(w: XdrWriter, p: TypedParam): void {
  w.string(p.field).int(p.type);
  switch (p.type) {
    case TypedParamType.INT:
      w.int(Number(p.value));
      break;
    case TypedParamType.UINT:
      w.uint(Number(p.value));
      break;
    case TypedParamType.LLONG:
      w.hyper(BigInt(p.value as number));
      break;
    case TypedParamType.ULLONG:
      w.uhyper(BigInt(p.value as number));
      break;
    case TypedParamType.DOUBLE:
      w.double(Number(p.value));
      break;
    case TypedParamType.BOOLEAN:
      w.bool(!!p.value);
      break;
    case TypedParamType.STRING:
      w.string(String(p.value));
      break;
    default:
      throw new Error(`unknown typed parameter type ${p.type}`);
  }
}

export function readTypedParam(r: XdrReader): TypedParam {
  const field = r.string();
  const type = r.int();
  let value: TypedValue;
  switch (type) {
    case TypedParamType.INT:
      value = r.int();
      break;
    case TypedParamType.UINT:
      value = r.uint();
      break;
    case TypedParamType.LLONG:
      value = r.hyper();
      break;
    case TypedParamType.ULLONG:
      value = r.uhyper();
      break;
    case TypedParamType.DOUBLE:
      value = r.double();
      break;
    case TypedParamType.BOOLEAN:
      value = r.bool();
      break;
    case TypedParamType.STRING:
      value = r.string();
      break;
    default:
      throw new Error(`unknown typed parameter type ${type}`);
  }
  return { field, type, value };
}

/** libvirt error codes this client classifies (virterror.h). */
export const ErrorCode = {
  INTERNAL_ERROR: 1,
  OPERATION_FAILED: 9,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  NO_NETWORK: 43,
  AUTH_FAILED: 45,
  NO_STORAGE_POOL: 49,
  NO_STORAGE_VOL: 50,
  OPERATION_INVALID: 55,
  OPERATION_TIMEOUT: 68,
  NO_DOMAIN_SNAPSHOT: 72,
  AGENT_UNRESPONSIVE: 86,
  OPERATION_UNSUPPORTED: 84,
} as const;

export interface RemoteError {
  code: number;
  domain: number;
  message: string;
  level: number;
}

export function readRemoteError(r: XdrReader): RemoteError {
  const code = r.int();
  const domain = r.int();
  const message = r.optional((x) => x.string()) ?? '';
  const level = r.int();
  return { code, domain, message, level };
}

function kindOf(code: number): ErrorKind {
  switch (code) {
    case ErrorCode.NO_DOMAIN:
    case ErrorCode.NO_NETWORK:
    case ErrorCode.NO_STORAGE_POOL:
    case ErrorCode.NO_STORAGE_VOL:
    case ErrorCode.NO_DOMAIN_SNAPSHOT:
      return 'not-found';
    case ErrorCode.AUTH_FAILED:
      return 'auth';
    case ErrorCode.SYSTEM_ERROR:
    case ErrorCode.RPC:
    case ErrorCode.OPERATION_TIMEOUT:
    case ErrorCode.AGENT_UNRESPONSIVE:
      return 'transient';
    case ErrorCode.OPERATION_INVALID:
      return 'conflict';
    default:
      return 'invalid';
  }
}

/** A libvirt error, with libvirt's own code and domain, classified once for the provider. */
export class LibvirtError extends VkError {
  override readonly code = 'VK_LIBVIRT';
  override readonly kind: ErrorKind;
  readonly libvirtCode: number;
  readonly libvirtDomain: number;
  constructor(e: RemoteError) {
    super(e.message || `libvirt error ${e.code}`, { details: { code: e.code, domain: e.domain } });
    this.libvirtCode = e.code;
    this.libvirtDomain = e.domain;
    this.kind = kindOf(e.code);
  }
}

/**
 * A lookup's answer where "not there" is an answer: undefined for libvirt's not-found, every
 * other failure (a dropped connection, a daemon error) thrown. A read that failed is never taken
 * for "absent": that is how a volume is deleted or taken that was only unreadable.
 */
export function orAbsent<T>(p: Promise<T>): Promise<T | undefined> {
  return p.catch((e: unknown) => {
    if (e instanceof LibvirtError && e.kind === 'not-found') return undefined;
    throw e;
  });
}

/** Whether the thing is there: a not-found is false, any other failure thrown. */
export async function exists(p: Promise<unknown>): Promise<boolean> {
  return (await orAbsent(p.then(() => true))) ?? false;
}
