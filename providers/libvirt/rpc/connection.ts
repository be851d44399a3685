// A connection to one libvirtd over its remote protocol: framed packets, concurrent calls
// matched by serial, keepalive, typed errors, lifecycle events, and upload streams.
import { EventEmitter, once } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { ProviderTransientError, VkError } from '../../../controller/core/errors.ts';
import {
  decodeHeader,
  frame,
  HEADER_SIZE,
  KEEPALIVE_PROC,
  LibvirtError,
  MessageStatus,
  MessageType,
  PROC,
  PROGRAM,
  PROTOCOL_VERSION,
  QEMU_PROC,
  readDomain,
  readPool,
  readRemoteError,
  readTypedParam,
  readVol,
  writeDomain,
  writePool,
  writeTypedParam,
  writeVol,
  type Domain,
  type Header,
  type Network,
  type StoragePool,
  type StorageVol,
  type TypedParam,
} from './protocol.ts';
import { openTransport, type TlsFiles } from './transport.ts';
import { parseLibvirtURI, type LibvirtURI, type TransportPolicy } from './uri.ts';
import { XdrReader, XdrWriter } from './xdr.ts';

export interface LifecycleEvent {
  domain: Domain;
  event: number;
  detail: number;
}

export interface ConnectOptions {
  logger?: Logger;
  keepaliveIntervalMs?: number;
  tls?: TlsFiles;
  /** What the Hypervisor's spec.tls allows and gives (a CA bundle, skipping verification). */
  policy?: TransportPolicy;
  /** Calls that take longer than this fail as transient (default 5 min). */
  callTimeoutMs?: number;
}

interface Pending {
  resolve: (r: XdrReader) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface NodeInfo {
  model: string;
  memoryKiB: bigint;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

export interface DomainStats {
  domain: Domain;
  params: Map<string, TypedParam['value']>;
}

export class LibvirtConnection extends EventEmitter {
  readonly uri: LibvirtURI;
  private readonly stream: Duplex;
  private buf: Buffer = Buffer.alloc(0);
  private serial = 1;
  private readonly pending = new Map<number, Pending>();
  /** Readers of incoming streams (volume downloads), by serial: data, the end (null), or an error. */
  private readonly incoming = new Map<number, (chunk: Buffer | null, err?: Error) => void>();
  private keepalive: NodeJS.Timeout | undefined;
  private lastSeen = Date.now();
  private closed = false;
  private readonly o: ConnectOptions;
  calls = 0;

  private constructor(uri: LibvirtURI, stream: Duplex, o: ConnectOptions) {
    super();
    this.uri = uri;
    this.stream = stream;
    this.o = o;
    stream.on('data', (d: Buffer) => this.onData(d));
    stream.on('close', () => this.shutdown(new ProviderTransientError(`connection to ${uri.host ?? uri.socket} closed`)));
    stream.on('error', (e) => this.shutdown(new ProviderTransientError(`connection to ${uri.host ?? uri.socket} failed: ${e.message}`)));
  }

  static async connect(uri: string, o: ConnectOptions = {}): Promise<LibvirtConnection> {
    const u = parseLibvirtURI(uri);
    let stream: Duplex;
    try {
      stream = await openTransport(u, o.tls, o.policy);
    } catch (e) {
      if (e instanceof VkError && !e.retryable) throw e;
      throw new ProviderTransientError(`cannot reach libvirtd at ${uri}: ${(e as Error).message}`);
    }
    const c = new LibvirtConnection(u, stream, o);
    // libvirtd wants the auth list asked first, even when no authentication is used.
    await c.call(PROC.AUTH_LIST);
    await c.call(PROC.CONNECT_OPEN, (w) => w.optional(u.remoteName, (x, v) => void x.string(v)).uint(0));
    c.startKeepalive(o.keepaliveIntervalMs ?? 5000);
    return c;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private startKeepalive(every: number): void {
    this.keepalive = setInterval(() => {
      // Dead after six intervals of silence (libvirt's own client: 5 s × 5); a socket paused
      // on purpose (a download waiting for its upload) is not silence.
      if (this.stream.isPaused()) this.lastSeen = Date.now();
      if (Date.now() - this.lastSeen > every * 6) {
        this.stream.destroy();
        return;
      }
      this.send({ prog: PROGRAM.KEEPALIVE, vers: 1, proc: KEEPALIVE_PROC.PING, type: MessageType.MESSAGE, serial: 0, status: MessageStatus.OK });
    }, every);
    this.keepalive.unref();
  }

  private send(h: Header, body?: Buffer): void {
    if (!this.closed) this.stream.write(frame(h, body));
  }

  private onData(d: Buffer): void {
    this.lastSeen = Date.now();
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len < 4 + HEADER_SIZE || len > 32 * 1024 * 1024) {
        this.stream.destroy(new Error(`bad packet length ${len}`));
        return;
      }
      if (this.buf.length < len) return;
      const packet = this.buf.subarray(4, len);
      this.buf = this.buf.subarray(len);
      this.onPacket(new XdrReader(Buffer.from(packet)));
    }
  }

  private onPacket(r: XdrReader): void {
    const h = decodeHeader(r);
    if (h.prog === PROGRAM.KEEPALIVE) {
      if (h.proc === KEEPALIVE_PROC.PING) this.send({ ...h, proc: KEEPALIVE_PROC.PONG });
      return;
    }
    if (h.type === MessageType.MESSAGE && h.prog === PROGRAM.REMOTE) {
      if (h.proc === PROC.DOMAIN_EVENT_CALLBACK_LIFECYCLE) {
        r.int(); // callback id
        this.emit('lifecycle', { domain: readDomain(r), event: r.int(), detail: r.int() } satisfies LifecycleEvent);
      }
      return;
    }
    if (h.type !== MessageType.REPLY && h.type !== MessageType.STREAM) return;
    const reader = h.type === MessageType.STREAM ? this.incoming.get(h.serial) : undefined;
    if (reader) {
      if (h.status === MessageStatus.CONTINUE) reader(Buffer.from(r.rest()));
      else if (h.status === MessageStatus.ERROR) reader(null, new LibvirtError(readRemoteError(r)));
      else reader(null);
      return;
    }
    const p = this.pending.get(h.serial);
    if (!p) return;
    if (h.type === MessageType.STREAM && h.status === MessageStatus.CONTINUE) return; // data we never asked for
    this.pending.delete(h.serial);
    clearTimeout(p.timer);
    if (h.status === MessageStatus.ERROR) p.reject(new LibvirtError(readRemoteError(r)));
    else p.resolve(r);
  }

  private shutdown(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    if (this.keepalive) clearInterval(this.keepalive);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.emit('close', err);
  }

  private await(serial: number): Promise<XdrReader> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(serial);
        reject(new ProviderTransientError(`libvirt call ${serial} timed out`));
      }, this.o.callTimeoutMs ?? 300_000);
      this.pending.set(serial, { resolve, reject, timer });
    });
  }

  /** One remote procedure call; the body is written by `args`, the reply read by the caller. */
  call(proc: number, args?: (w: XdrWriter) => unknown, prog: number = PROGRAM.REMOTE): Promise<XdrReader> {
    if (this.closed) return Promise.reject(new ProviderTransientError(`connection to ${this.uri.host ?? this.uri.socket} is closed`));
    const serial = this.serial++;
    const w = new XdrWriter();
    args?.(w);
    const reply = this.await(serial);
    this.calls++;
    this.send({ prog, vers: PROTOCOL_VERSION, proc, type: MessageType.CALL, serial, status: MessageStatus.OK }, w.bytes());
    return reply;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.call(PROC.CONNECT_CLOSE).catch(() => undefined);
    this.stream.end();
    this.shutdown(new ProviderTransientError('connection closed'));
  }

  // ---- the procedures a reconciler needs --------------------------------------------------

  async hostname(): Promise<string> {
    return (await this.call(PROC.CONNECT_GET_HOSTNAME)).string();
  }
  async libVersion(): Promise<bigint> {
    return (await this.call(PROC.CONNECT_GET_LIB_VERSION)).uhyper();
  }
  async nodeInfo(): Promise<NodeInfo> {
    const r = await this.call(PROC.NODE_GET_INFO);
    // `char model[32]`: XDR sends each char as a 4-byte int.
    const model = Buffer.from(Array.from({ length: 32 }, () => r.int() & 0xff))
      .toString('utf8')
      .replace(/\0.*$/, '');
    return { model, memoryKiB: r.uhyper(), cpus: r.int(), mhz: r.int(), nodes: r.int(), sockets: r.int(), cores: r.int(), threads: r.int() };
  }
  async listAllDomains(flags = 0): Promise<Domain[]> {
    const r = await this.call(PROC.CONNECT_LIST_ALL_DOMAINS, (w) => w.int(1).uint(flags));
    const doms = r.array(readDomain);
    r.uint();
    return doms;
  }
  async lookupDomain(name: string): Promise<Domain> {
    return readDomain(await this.call(PROC.DOMAIN_LOOKUP_BY_NAME, (w) => w.string(name)));
  }
  async lookupDomainByUUID(uuid: Buffer): Promise<Domain> {
    return readDomain(await this.call(PROC.DOMAIN_LOOKUP_BY_UUID, (w) => w.fixedOpaque(uuid)));
  }
  async defineXML(xml: string, flags = 0): Promise<Domain> {
    return readDomain(await this.call(PROC.DOMAIN_DEFINE_XML_FLAGS, (w) => w.string(xml).uint(flags)));
  }
  /** virDomainSetMetadata with VIR_DOMAIN_METADATA_ELEMENT: replaces our element under <metadata>. */
  setMetadataElement(d: Domain, xml: string, key: string, uri: string, flags: number): Promise<void> {
    return this.setMetadata(d, 2, xml, key, uri, flags);
  }
  async create(d: Domain): Promise<void> {
    await this.call(PROC.DOMAIN_CREATE, (w) => writeDomain(w, d));
  }
  async shutdown_(d: Domain): Promise<void> {
    await this.call(PROC.DOMAIN_SHUTDOWN, (w) => writeDomain(w, d));
  }
  async destroy(d: Domain): Promise<void> {
    await this.call(PROC.DOMAIN_DESTROY, (w) => writeDomain(w, d));
  }
  async reboot(d: Domain, flags = 0): Promise<void> {
    await this.call(PROC.DOMAIN_REBOOT, (w) => {
      writeDomain(w, d);
      w.uint(flags);
    });
  }
  async undefine(d: Domain, flags = 0): Promise<void> {
    await this.call(PROC.DOMAIN_UNDEFINE_FLAGS, (w) => {
      writeDomain(w, d);
      w.uint(flags);
    });
  }
  async xmlDesc(d: Domain, flags = 0): Promise<string> {
    return (
      await this.call(PROC.DOMAIN_GET_XML_DESC, (w) => {
        writeDomain(w, d);
        w.uint(flags);
      })
    ).string();
  }
  async state(d: Domain): Promise<{ state: number; reason: number }> {
    const r = await this.call(PROC.DOMAIN_GET_STATE, (w) => {
      writeDomain(w, d);
      w.uint(0);
    });
    return { state: r.int(), reason: r.int() };
  }
  async setVcpus(d: Domain, n: number, flags: number): Promise<void> {
    await this.call(PROC.DOMAIN_SET_VCPUS_FLAGS, (w) => {
      writeDomain(w, d);
      w.uint(n).uint(flags);
    });
  }
  async setMemory(d: Domain, kib: number, flags: number): Promise<void> {
    await this.call(PROC.DOMAIN_SET_MEMORY_FLAGS, (w) => {
      writeDomain(w, d);
      w.uhyper(kib).uint(flags);
    });
  }
  async blockResize(d: Domain, disk: string, bytes: number): Promise<void> {
    await this.call(PROC.DOMAIN_BLOCK_RESIZE, (w) => {
      writeDomain(w, d);
      w.string(disk).uhyper(bytes).uint(1);
    });
  }
  async attachDevice(d: Domain, xml: string, flags: number): Promise<void> {
    await this.call(PROC.DOMAIN_ATTACH_DEVICE_FLAGS, (w) => {
      writeDomain(w, d);
      w.string(xml).uint(flags);
    });
  }
  async detachDevice(d: Domain, xml: string, flags: number): Promise<void> {
    await this.call(PROC.DOMAIN_DETACH_DEVICE_FLAGS, (w) => {
      writeDomain(w, d);
      w.string(xml).uint(flags);
    });
  }
  /** Sets (or, without xml, removes) the domain's <metadata> element of namespace `uri`. */
  async setMetadata(d: Domain, type: number, xml: string | undefined, key: string | undefined, uri: string | undefined, flags: number): Promise<void> {
    await this.call(PROC.DOMAIN_SET_METADATA, (w) => {
      writeDomain(w, d);
      w.int(type);
      for (const v of [xml, key, uri]) w.optional(v, (x, s) => void x.string(s));
      w.uint(flags);
    });
  }
  async setAutostart(d: Domain, on: boolean): Promise<void> {
    await this.call(PROC.DOMAIN_SET_AUTOSTART, (w) => {
      writeDomain(w, d);
      w.int(on ? 1 : 0);
    });
  }
  async getAutostart(d: Domain): Promise<boolean> {
    return (await this.call(PROC.DOMAIN_GET_AUTOSTART, (w) => writeDomain(w, d))).int() !== 0;
  }
  /** One call for every domain's stats (state, balloon, vcpu, block...). */
  async allDomainStats(stats: number, flags = 0): Promise<DomainStats[]> {
    const r = await this.call(PROC.CONNECT_GET_ALL_DOMAIN_STATS, (w) =>
      w
        .array([] as Domain[], writeDomain)
        .uint(stats)
        .uint(flags),
    );
    return r.array((x) => ({ domain: readDomain(x), params: new Map(x.array(readTypedParam).map((p) => [p.field, p.value])) }));
  }
  /** Peer-to-peer migration: the source daemon connects to `destURI` itself. */
  async migratePerform3Params(d: Domain, destURI: string, params: TypedParam[], flags: number): Promise<void> {
    await this.call(PROC.DOMAIN_MIGRATE_PERFORM3_PARAMS, (w) => {
      writeDomain(w, d);
      w.optional(destURI, (x, v) => void x.string(v))
        .array(params, writeTypedParam)
        .opaque(Buffer.alloc(0))
        .uint(flags);
    });
  }
  async jobInfo(d: Domain): Promise<{ type: number; elapsedMs: bigint; dataTotal: bigint; dataProcessed: bigint; dataRemaining: bigint }> {
    const r = await this.call(PROC.DOMAIN_GET_JOB_INFO, (w) => writeDomain(w, d));
    const type = r.int();
    const elapsedMs = r.uhyper();
    r.uhyper();
    return { type, elapsedMs, dataTotal: r.uhyper(), dataProcessed: r.uhyper(), dataRemaining: r.uhyper() };
  }
  async abortJob(d: Domain): Promise<void> {
    await this.call(PROC.DOMAIN_ABORT_JOB, (w) => writeDomain(w, d));
  }
  async lookupPool(name: string): Promise<StoragePool> {
    return readPool(await this.call(PROC.STORAGE_POOL_LOOKUP_BY_NAME, (w) => w.string(name)));
  }
  async refreshPool(p: StoragePool): Promise<void> {
    await this.call(PROC.STORAGE_POOL_REFRESH, (w) => {
      writePool(w, p);
      w.uint(0);
    });
  }
  async createVolume(p: StoragePool, xml: string, flags = 0): Promise<StorageVol> {
    return readVol(
      await this.call(PROC.STORAGE_VOL_CREATE_XML, (w) => {
        writePool(w, p);
        w.string(xml).uint(flags);
      }),
    );
  }
  async lookupVolume(p: StoragePool, name: string): Promise<StorageVol> {
    return readVol(
      await this.call(PROC.STORAGE_VOL_LOOKUP_BY_NAME, (w) => {
        writePool(w, p);
        w.string(name);
      }),
    );
  }
  async volumeInfo(v: StorageVol): Promise<{ type: number; capacity: bigint; allocation: bigint }> {
    const r = await this.call(PROC.STORAGE_VOL_GET_INFO, (w) => writeVol(w, v));
    return { type: r.int(), capacity: r.uhyper(), allocation: r.uhyper() };
  }
  /** The volume's XML (its `<physical>` size is the bytes a download carries). */
  async volumeXml(v: StorageVol): Promise<string> {
    return (
      await this.call(PROC.STORAGE_VOL_GET_XML_DESC, (w) => {
        writeVol(w, v);
        w.uint(0);
      })
    ).string();
  }
  async volumePath(v: StorageVol): Promise<string> {
    return (await this.call(PROC.STORAGE_VOL_GET_PATH, (w) => writeVol(w, v))).string();
  }
  async deleteVolume(v: StorageVol): Promise<void> {
    await this.call(PROC.STORAGE_VOL_DELETE, (w) => {
      writeVol(w, v);
      w.uint(0);
    });
  }
  async resizeVolume(v: StorageVol, bytes: number): Promise<void> {
    await this.call(PROC.STORAGE_VOL_RESIZE, (w) => {
      writeVol(w, v);
      w.uhyper(bytes).uint(0);
    });
  }
  /** A new volume made as a full copy of another (virStorageVolCreateXMLFrom). */
  async cloneVolume(p: StoragePool, xml: string, from: StorageVol, flags = 0): Promise<StorageVol> {
    return readVol(
      await this.call(PROC.STORAGE_VOL_CREATE_XML_FROM, (w) => {
        writePool(w, p);
        w.string(xml);
        writeVol(w, from);
        w.uint(flags);
      }),
    );
  }
  async lookupNetwork(name: string): Promise<Network> {
    return readPool(await this.call(PROC.NETWORK_LOOKUP_BY_NAME, (w) => w.string(name)));
  }
  async defineNetwork(xml: string): Promise<Network> {
    return readPool(await this.call(PROC.NETWORK_DEFINE_XML, (w) => w.string(xml)));
  }
  async startNetwork(n: Network): Promise<void> {
    await this.call(PROC.NETWORK_CREATE, (w) => writePool(w, n));
  }
  async stopNetwork(n: Network): Promise<void> {
    await this.call(PROC.NETWORK_DESTROY, (w) => writePool(w, n));
  }
  async undefineNetwork(n: Network): Promise<void> {
    await this.call(PROC.NETWORK_UNDEFINE, (w) => writePool(w, n));
  }
  async networkXml(n: Network): Promise<string> {
    return (
      await this.call(PROC.NETWORK_GET_XML_DESC, (w) => {
        writePool(w, n);
        w.uint(0);
      })
    ).string();
  }
  async networkActive(n: Network): Promise<boolean> {
    return (await this.call(PROC.NETWORK_IS_ACTIVE, (w) => writePool(w, n))).int() === 1;
  }
  async networkAutostart(n: Network): Promise<boolean> {
    return (await this.call(PROC.NETWORK_GET_AUTOSTART, (w) => writePool(w, n))).int() === 1;
  }
  async setNetworkAutostart(n: Network, on: boolean): Promise<void> {
    await this.call(PROC.NETWORK_SET_AUTOSTART, (w) => {
      writePool(w, n);
      w.int(on ? 1 : 0);
    });
  }
  /** Uploads bytes into a volume through an RPC stream (the cloud-init seed, a small image). */
  async uploadVolume(v: StorageVol, data: Buffer): Promise<void> {
    await this.uploadStream(v, [data], data.length);
  }

  /**
   * Streams `length` bytes into a volume (virStorageVolUpload), in packets of 256 KiB, waiting
   * for the socket to drain so a large image never piles up in memory; `onProgress` gets the
   * bytes sent so far.
   */
  async uploadStream(v: StorageVol, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, length: number, onProgress?: (sent: number) => void): Promise<void> {
    const serial = this.serial++;
    const w = new XdrWriter();
    writeVol(w, v);
    w.uhyper(0).uhyper(length).uint(0);
    const header = (status: number) => ({ prog: PROGRAM.REMOTE, vers: PROTOCOL_VERSION, proc: PROC.STORAGE_VOL_UPLOAD, type: MessageType.STREAM, serial, status });
    const started = this.await(serial);
    this.send({ prog: PROGRAM.REMOTE, vers: PROTOCOL_VERSION, proc: PROC.STORAGE_VOL_UPLOAD, type: MessageType.CALL, serial, status: MessageStatus.OK }, w.bytes());
    await started;
    const finished = this.await(serial);
    finished.catch(() => undefined); // an early error reply is read below, after the loop
    const packet = 256 * 1024;
    let sent = 0;
    for await (const chunk of chunks) {
      const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let off = 0; off < buf.length; off += packet) {
        if (this.closed) throw new ProviderTransientError(`connection to ${this.uri.host ?? this.uri.socket} closed during an upload`);
        const part = buf.subarray(off, off + packet);
        if (!this.stream.write(frame(header(MessageStatus.CONTINUE), part))) await once(this.stream, 'drain');
        sent += part.length;
        onProgress?.(sent);
      }
    }
    this.send(header(MessageStatus.OK));
    await finished;
  }
  /**
   * Reads `length` bytes of a volume through an RPC stream (virStorageVolDownload), then
   * finishes the stream as libvirt's own client does (a STREAM OK, confirmed by the daemon:
   * the daemon here does not announce the end by itself). While more than a few MiB wait
   * unread the socket is paused: the daemon waits, memory does not grow. Give it a connection
   * of its own: a paused socket holds up every other call on it.
   */
  async *downloadVolume(v: StorageVol, length: number): AsyncGenerator<Buffer> {
    const serial = this.serial++;
    const w = new XdrWriter();
    writeVol(w, v);
    w.uhyper(0).uhyper(length).uint(0);
    const queue: Buffer[] = [];
    let queued = 0;
    let ended = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    this.incoming.set(serial, (chunk, err) => {
      if (err) failure = err;
      else if (chunk === null) ended = true;
      else {
        queue.push(chunk);
        queued += chunk.length;
        if (queued > 8 * 1024 * 1024) this.stream.pause();
      }
      wake?.();
    });
    const closed = () => {
      failure ??= new ProviderTransientError(`connection to ${this.uri.host ?? this.uri.socket} closed during a download`);
      wake?.();
    };
    this.once('close', closed);
    try {
      const started = this.await(serial);
      this.send({ prog: PROGRAM.REMOTE, vers: PROTOCOL_VERSION, proc: PROC.STORAGE_VOL_DOWNLOAD, type: MessageType.CALL, serial, status: MessageStatus.OK }, w.bytes());
      await started;
      let received = 0;
      let finishing = false;
      for (;;) {
        const next = queue.shift();
        if (next) {
          queued -= next.length;
          received += next.length;
          if (queued < 2 * 1024 * 1024 && this.stream.isPaused()) this.stream.resume();
          yield next;
          continue;
        }
        if (!finishing && received >= length) {
          finishing = true;
          this.send({ prog: PROGRAM.REMOTE, vers: PROTOCOL_VERSION, proc: PROC.STORAGE_VOL_DOWNLOAD, type: MessageType.STREAM, serial, status: MessageStatus.OK });
        }
        if (failure) throw failure;
        if (ended) return;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      this.incoming.delete(serial);
      this.off('close', closed);
      if (this.stream.isPaused()) this.stream.resume();
    }
  }

  /** Subscribes to lifecycle events of every domain; they arrive as 'lifecycle' events. */
  async registerLifecycleEvents(): Promise<number> {
    return (await this.call(PROC.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, (w) => w.int(0).optional(undefined, () => undefined))).int();
  }
  /** A QEMU guest agent command (JSON), through the QEMU program. */
  async agentCommand(d: Domain, command: string, timeoutSec = 5): Promise<string | undefined> {
    const r = await this.call(
      QEMU_PROC.DOMAIN_AGENT_COMMAND,
      (w) => {
        writeDomain(w, d);
        w.string(command).int(timeoutSec).uint(0);
      },
      PROGRAM.QEMU,
    );
    return r.optional((x) => x.string());
  }
}
