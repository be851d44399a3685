// One session with a libvirtd over its remote protocol: framed packets, concurrent calls
// matched by serial, keepalive, typed errors, lifecycle events, and data streams. What the
// procedures mean is connection.ts's business; this file only moves packets.
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
  readDomain,
  readRemoteError,
  type Domain,
  type Header,
} from './protocol.ts';
import { MiB } from '../../kit/index.ts';
import { openTransport, type TlsFiles } from './transport.ts';
import { parseLibvirtURI, type LibvirtURI, type TransportPolicy } from './uri.ts';
import { XdrReader, XdrWriter } from './xdr.ts';

export interface LifecycleEvent {
  domain: Domain;
  event: number;
  detail: number;
}

export interface SessionOptions {
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

type Args = (w: XdrWriter) => unknown;

/** Opens the transport a URI names and the remote program on it. */
export async function openSession(uri: string, o: SessionOptions): Promise<{ uri: LibvirtURI; stream: Duplex }> {
  const u = parseLibvirtURI(uri);
  try {
    return { uri: u, stream: await openTransport(u, o.tls, o.policy) };
  } catch (e) {
    if (e instanceof VkError && !e.retryable) throw e;
    throw new ProviderTransientError(`cannot reach libvirtd at ${uri}: ${(e as Error).message}`);
  }
}

export class RpcSession extends EventEmitter {
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
  private readonly o: SessionOptions;
  /** Calls made on this session (benchmarks and tests count them). */
  calls = 0;

  protected constructor(uri: LibvirtURI, stream: Duplex, o: SessionOptions) {
    super();
    this.uri = uri;
    this.stream = stream;
    this.o = o;
    stream.on('data', (d: Buffer) => this.onData(d));
    stream.on('close', () => this.shutdown(new ProviderTransientError(`connection to ${this.where} closed`)));
    stream.on('error', (e) => this.shutdown(new ProviderTransientError(`connection to ${this.where} failed: ${e.message}`)));
  }

  private get where(): string {
    return this.uri.host ?? this.uri.socket;
  }

  /** libvirtd wants the auth list asked first, even when no authentication is used. */
  protected async handshake(): Promise<void> {
    await this.call(PROC.AUTH_LIST);
    await this.call(PROC.CONNECT_OPEN, (w) => w.optional(this.uri.remoteName, (x, v) => void x.string(v)).uint(0));
    this.startKeepalive(this.o.keepaliveIntervalMs ?? 5000);
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
      if (len < 4 + HEADER_SIZE || len > 32 * MiB) {
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

  private start(proc: number, args: Args | undefined, prog: number): { serial: number; reply: Promise<XdrReader> } {
    const serial = this.serial++;
    const w = new XdrWriter();
    args?.(w);
    const reply = this.await(serial);
    this.calls++;
    this.send({ prog, vers: PROTOCOL_VERSION, proc, type: MessageType.CALL, serial, status: MessageStatus.OK }, w.bytes());
    return { serial, reply };
  }

  /** One remote procedure call; the body is written by `args`, the reply read by the caller. */
  call(proc: number, args?: Args, prog: number = PROGRAM.REMOTE): Promise<XdrReader> {
    if (this.closed) return Promise.reject(new ProviderTransientError(`connection to ${this.where} is closed`));
    return this.start(proc, args, prog).reply;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.call(PROC.CONNECT_CLOSE).catch(() => undefined);
    this.stream.end();
    this.shutdown(new ProviderTransientError('connection closed'));
  }

  /**
   * A call that opens a stream to the daemon (an upload): the data goes in packets of 256 KiB,
   * waiting for the socket to drain so a large image never piles up in memory; `onProgress`
   * gets the bytes sent so far.
   */
  protected async writeStream(proc: number, args: Args, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, onProgress?: (sent: number) => void): Promise<void> {
    const { serial, reply } = this.start(proc, args, PROGRAM.REMOTE);
    await reply;
    const header = (status: number) => ({ prog: PROGRAM.REMOTE, vers: PROTOCOL_VERSION, proc, type: MessageType.STREAM, serial, status });
    const finished = this.await(serial);
    finished.catch(() => undefined); // an early error reply is read below, after the loop
    const packet = 256 * 1024;
    let sent = 0;
    for await (const chunk of chunks) {
      const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let off = 0; off < buf.length; off += packet) {
        if (this.closed) throw new ProviderTransientError(`connection to ${this.where} closed during an upload`);
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
   * A call that opens a stream from the daemon (a download) of `length` bytes, finished as
   * libvirt's own client does (a STREAM OK, confirmed by the daemon: the daemon here does not
   * announce the end by itself). While more than a few MiB wait unread the socket is paused:
   * the daemon waits, memory does not grow. Give it a session of its own: a paused socket
   * holds up every other call on it.
   */
  protected async *readStream(proc: number, args: Args, length: number): AsyncGenerator<Buffer> {
    const queue: Buffer[] = [];
    let queued = 0;
    let ended = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const onChunk = (chunk: Buffer | null, err?: Error) => {
      if (err) failure = err;
      else if (chunk === null) ended = true;
      else {
        queue.push(chunk);
        queued += chunk.length;
        if (queued > 8 * MiB) this.stream.pause();
      }
      wake?.();
    };
    const closed = () => {
      failure ??= new ProviderTransientError(`connection to ${this.where} closed during a download`);
      wake?.();
    };
    this.once('close', closed);
    const serial = this.serial;
    this.incoming.set(serial, onChunk);
    try {
      await this.start(proc, args, PROGRAM.REMOTE).reply;
      let received = 0;
      let finishing = false;
      for (;;) {
        const next = queue.shift();
        if (next) {
          queued -= next.length;
          received += next.length;
          if (queued < 2 * MiB && this.stream.isPaused()) this.stream.resume();
          yield next;
          continue;
        }
        if (!finishing && received >= length) {
          finishing = true;
          this.send({ prog: PROGRAM.REMOTE, vers: PROTOCOL_VERSION, proc, type: MessageType.STREAM, serial, status: MessageStatus.OK });
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
}
