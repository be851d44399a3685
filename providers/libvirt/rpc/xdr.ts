// XDR (RFC 4506) as libvirt's remote protocol uses it: big-endian 4-byte units, strings and
// variable opaques with a length and padding, hyper as 8 bytes, optional data as a
// 0/1 pointer word followed by the value.
export class XdrWriter {
  private buf = Buffer.alloc(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  int(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.len);
    this.len += 4;
    return this;
  }
  uint(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
    return this;
  }
  bool(v: boolean): this {
    return this.int(v ? 1 : 0);
  }
  hyper(v: bigint | number): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt(v), this.len);
    this.len += 8;
    return this;
  }
  uhyper(v: bigint | number): this {
    this.ensure(8);
    this.buf.writeBigUInt64BE(BigInt(v), this.len);
    this.len += 8;
    return this;
  }
  double(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.len);
    this.len += 8;
    return this;
  }
  fixedOpaque(data: Uint8Array): this {
    const pad = (4 - (data.length % 4)) % 4;
    this.ensure(data.length + pad);
    this.buf.set(data, this.len);
    this.len += data.length;
    this.buf.fill(0, this.len, this.len + pad);
    this.len += pad;
    return this;
  }
  opaque(data: Uint8Array): this {
    return this.uint(data.length).fixedOpaque(data);
  }
  string(s: string): this {
    return this.opaque(Buffer.from(s, 'utf8'));
  }
  optional<T>(v: T | undefined | null, write: (w: XdrWriter, v: T) => void): this {
    if (v === undefined || v === null) return this.bool(false);
    this.bool(true);
    write(this, v);
    return this;
  }
  array<T>(items: readonly T[], write: (w: XdrWriter, v: T) => void): this {
    this.uint(items.length);
    for (const i of items) write(this, i);
    return this;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

export class XdrError extends Error {}

export class XdrReader {
  private off = 0;
  private readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  /** What is left unread (a stream packet's raw data). */
  rest(): Buffer {
    const out = this.buf.subarray(this.off);
    this.off = this.buf.length;
    return out;
  }
  private need(n: number): void {
    if (this.off + n > this.buf.length) throw new XdrError(`XDR: need ${n} bytes at ${this.off}, have ${this.buf.length - this.off}`);
  }
  int(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.off);
    this.off += 4;
    return v;
  }
  uint(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  bool(): boolean {
    return this.int() !== 0;
  }
  hyper(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.off);
    this.off += 8;
    return v;
  }
  uhyper(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.off);
    this.off += 8;
    return v;
  }
  double(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.off);
    this.off += 8;
    return v;
  }
  fixedOpaque(n: number): Buffer {
    const pad = (4 - (n % 4)) % 4;
    this.need(n + pad);
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n + pad;
    return Buffer.from(v);
  }
  opaque(max = 64 * 1024 * 1024): Buffer {
    const n = this.uint();
    if (n > max) throw new XdrError(`XDR: opaque of ${n} bytes exceeds ${max}`);
    return this.fixedOpaque(n);
  }
  string(): string {
    return this.opaque().toString('utf8');
  }
  optional<T>(read: (r: XdrReader) => T): T | undefined {
    return this.bool() ? read(this) : undefined;
  }
  array<T>(read: (r: XdrReader) => T, max = 1 << 20): T[] {
    const n = this.uint();
    if (n > max) throw new XdrError(`XDR: array of ${n} items exceeds ${max}`);
    return Array.from({ length: n }, () => read(this));
  }
  get remaining(): number {
    return this.buf.length - this.off;
  }
}
