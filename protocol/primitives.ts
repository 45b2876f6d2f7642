/**
 * Kafka wire primitives: a bounds-checked Reader over one Buffer and a Writer that grows one buffer.
 *
 * All integers are big-endian. Varints are protobuf-style (7 bits per byte, low group first); signed
 * varint/varlong are zig-zag encoded, as in record batches (KIP-98). Unsigned varints carry compact
 * lengths in flexible versions (KIP-482): compact length = uvarint(n + 1), 0 meaning null.
 *
 * Every read checks bounds and throws ProtocolError on truncation or an impossible length; the server
 * turns a ProtocolError into a closed connection, so malformed bytes can never crash the broker.
 */

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
export const NULL_UUID = ZERO_UUID;

export class Reader {
  offset: number;
  constructor(
    readonly buf: Buffer,
    offset = 0,
    readonly end = buf.length,
  ) {
    this.offset = offset;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number): number {
    const at = this.offset;
    if (n < 0 || at + n > this.end) {
      throw new ProtocolError(`truncated: need ${n} bytes at ${at}, have ${this.end - at}`);
    }
    this.offset = at + n;
    return at;
  }

  bool(): boolean {
    return this.buf[this.need(1)] !== 0;
  }
  int8(): number {
    return this.buf.readInt8(this.need(1));
  }
  int16(): number {
    return this.buf.readInt16BE(this.need(2));
  }
  uint16(): number {
    return this.buf.readUInt16BE(this.need(2));
  }
  int32(): number {
    return this.buf.readInt32BE(this.need(4));
  }
  uint32(): number {
    return this.buf.readUInt32BE(this.need(4));
  }
  int64(): bigint {
    return this.buf.readBigInt64BE(this.need(8));
  }
  float64(): number {
    return this.buf.readDoubleBE(this.need(8));
  }

  uuid(): string {
    const at = this.need(16);
    const hex = this.buf.toString('hex', at, at + 16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** Unsigned varint of at most 5 bytes (32 bits). */
  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.buf[this.need(1)]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw new ProtocolError('uvarint overflows 32 bits');
        return result;
      }
      shift += 7;
    }
    throw new ProtocolError('uvarint longer than 5 bytes');
  }

  /** Zig-zag signed varint (32 bits). */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Zig-zag signed varlong (64 bits). */
  varlong(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[this.need(1)]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return (result >> 1n) ^ -(result & 1n);
      shift += 7n;
    }
    throw new ProtocolError('varlong longer than 10 bytes');
  }

  private length(compact: boolean): number {
    if (compact) return this.uvarint() - 1;
    return this.int16();
  }

  /** string / compact string; null when nullable and the length is -1. */
  string(compact: boolean, nullable: boolean): string | null {
    const n = this.length(compact);
    if (n < 0) {
      if (n === -1 && nullable) return null;
      throw new ProtocolError(`invalid string length ${n}`);
    }
    const at = this.need(n);
    return this.buf.toString('utf8', at, at + n);
  }

  /** bytes / compact bytes (int32 length when not compact). Returns a view, not a copy. */
  bytes(compact: boolean, nullable: boolean): Buffer | null {
    const n = compact ? this.uvarint() - 1 : this.int32();
    if (n < 0) {
      if (n === -1 && nullable) return null;
      throw new ProtocolError(`invalid bytes length ${n}`);
    }
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }

  /** Array length: int32 or compact uvarint; -1 = null. Bounded by the bytes left (each element >= 1 byte). */
  arrayLength(compact: boolean): number {
    const n = compact ? this.uvarint() - 1 : this.int32();
    if (n < -1) throw new ProtocolError(`invalid array length ${n}`);
    if (n > this.remaining()) throw new ProtocolError(`array length ${n} exceeds the ${this.remaining()} bytes left`);
    return n;
  }

  raw(n: number): Buffer {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }
}

/** Bytes at least this long are kept as their own chunk instead of being copied into the buffer. */
const ZERO_COPY_THRESHOLD = 4096;

export class Writer {
  private buf: Buffer;
  private pos = 0;
  /** Finished chunks, in order; `buf[0..pos]` follows them. */
  private readonly chunks: Buffer[] = [];
  private chunkedLength = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.chunkedLength + this.pos;
  }

  private ensure(n: number): number {
    if (this.pos + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n, 256));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** Every write reserves space first: `ensure` may replace `this.buf`, so it must run before `this.buf` is read. */
  private byte(v: number): void {
    const at = this.ensure(1);
    this.buf[at] = v;
  }

  bool(v: boolean): this {
    this.byte(v ? 1 : 0);
    return this;
  }
  int8(v: number): this {
    const at = this.ensure(1);
    this.buf.writeInt8(v, at);
    return this;
  }
  int16(v: number): this {
    const at = this.ensure(2);
    this.buf.writeInt16BE(v, at);
    return this;
  }
  uint16(v: number): this {
    const at = this.ensure(2);
    this.buf.writeUInt16BE(v, at);
    return this;
  }
  int32(v: number): this {
    const at = this.ensure(4);
    this.buf.writeInt32BE(v, at);
    return this;
  }
  uint32(v: number): this {
    const at = this.ensure(4);
    this.buf.writeUInt32BE(v, at);
    return this;
  }
  int64(v: bigint): this {
    const at = this.ensure(8);
    this.buf.writeBigInt64BE(BigInt.asIntN(64, v), at);
    return this;
  }
  float64(v: number): this {
    const at = this.ensure(8);
    this.buf.writeDoubleBE(v, at);
    return this;
  }

  uuid(v: string): this {
    const hex = v.replace(/-/g, '');
    if (hex.length !== 32 || !/^[0-9a-fA-F]+$/.test(hex)) throw new ProtocolError(`invalid uuid ${v}`);
    const at = this.ensure(16);
    this.buf.write(hex, at, 16, 'hex');
    return this;
  }

  uvarint(v: number): this {
    if (v < 0 || v > 0xffffffff || !Number.isInteger(v)) throw new ProtocolError(`invalid uvarint ${v}`);
    let value = v;
    while (value >= 0x80) {
      this.byte((value & 0x7f) | 0x80);
      value = Math.floor(value / 128);
    }
    this.byte(value);
    return this;
  }

  varint(v: number): this {
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  varlong(v: bigint): this {
    let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    while (z >= 0x80n) {
      this.byte(Number(z & 0x7fn) | 0x80);
      z >>= 7n;
    }
    this.byte(Number(z));
    return this;
  }

  private lengthPrefix(n: number, compact: boolean, wide: boolean): void {
    if (compact) this.uvarint(n + 1);
    else if (wide) this.int32(n);
    else this.int16(n);
  }

  string(v: string | null, compact: boolean): this {
    if (v === null) {
      this.lengthPrefix(-1, compact, false);
      return this;
    }
    const n = Buffer.byteLength(v, 'utf8');
    if (!compact && n > 0x7fff) throw new ProtocolError('string longer than 32767 bytes');
    this.lengthPrefix(n, compact, false);
    const at = this.ensure(n);
    this.buf.write(v, at, n, 'utf8');
    return this;
  }

  bytes(v: Uint8Array | null, compact: boolean): this {
    if (v === null) {
      this.lengthPrefix(-1, compact, true);
      return this;
    }
    this.lengthPrefix(v.length, compact, true);
    return this.raw(v);
  }

  arrayLength(n: number, compact: boolean): this {
    if (compact) return this.uvarint(n + 1);
    return this.int32(n);
  }

  /** Appends bytes; large ones are referenced, not copied (record batches on the fetch path). */
  raw(v: Uint8Array): this {
    if (v.length >= ZERO_COPY_THRESHOLD) {
      this.flushChunk();
      const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.length);
      this.chunks.push(b);
      this.chunkedLength += b.length;
      return this;
    }
    const at = this.ensure(v.length);
    this.buf.set(v, at);
    return this;
  }

  private flushChunk(): void {
    if (this.pos === 0) return;
    const done = this.buf.subarray(0, this.pos);
    this.chunks.push(done);
    this.chunkedLength += done.length;
    this.buf = this.buf.subarray(this.pos);
    this.pos = 0;
    if (this.buf.length < 64) this.buf = Buffer.allocUnsafe(256);
  }

  /** The written bytes as a list of buffers, in order, without copying large record sections. */
  toChunks(): Buffer[] {
    this.flushChunk();
    return this.chunks.slice();
  }

  /** The written bytes as one buffer (copies when there is more than one chunk). */
  toBuffer(): Buffer {
    if (this.chunks.length === 0) return Buffer.from(this.buf.subarray(0, this.pos));
    return Buffer.concat(this.toChunks());
  }
}
