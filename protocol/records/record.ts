/**
 * Records inside a RecordBatch v2: a lazy iterator, an eager reader that decompresses, and a batch builder.
 *
 * Record layout (varints are zig-zag, as in protobuf's sint32/sint64):
 *
 *   length          varint    bytes after this field
 *   attributes      int8      unused, 0
 *   timestampDelta  varlong   from the batch's baseTimestamp
 *   offsetDelta     varint    from the batch's baseOffset
 *   keyLength       varint    -1 = null key
 *   key             bytes
 *   valueLength     varint    -1 = null value (a tombstone)
 *   value           bytes
 *   headerCount     varint
 *   headers         headerKeyLength varint, headerKey utf8 (never null), headerValueLength varint (-1 = null),
 *                   headerValue bytes
 *
 * Readers check every length against the record's own `length` and the record count against the records
 * section: malformed bytes are a ProtocolError. Keys, values and header values are views into the batch
 * (or into the decompressed records), not copies.
 *
 * Records are decoded only where a feature needs them (compaction, console, dump tool, tests); the produce
 * and fetch paths handle batches as opaque bytes (see batch.ts).
 */
import { ProtocolError, Reader } from '../primitives.js';
import {
  BATCH_HEADER_SIZE,
  Compression,
  LOG_OVERHEAD,
  Offsets,
  compressionOf,
  readBatchHeader,
  timestampTypeIsLogAppend,
  type RecordBatchHeader,
} from './batch.js';
import { crc32c } from './crc32c.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, compress, compressSync, decompress, decompressSync, type CompressOptions } from './compression.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface Record {
  offset: number;
  timestamp: number;
  attributes: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** The batch's bytes from `pos`, bounded by its declared size (a ProtocolError if that does not fit). */
function batchExtent(batch: Buffer): { header: RecordBatchHeader; end: number } {
  const header = readBatchHeader(batch, 0);
  if (header.magic !== 2) throw new ProtocolError(`unsupported record batch magic ${header.magic}`);
  const end = LOG_OVERHEAD + header.batchLength;
  if (end < BATCH_HEADER_SIZE || end > batch.length) {
    throw new ProtocolError(`record batch declares ${end} bytes, ${batch.length} present`);
  }
  return { header, end };
}

/** The batch's records section as stored (compressed when the codec is not NONE). */
export function recordsSection(batch: Buffer): Buffer {
  const { end } = batchExtent(batch);
  return batch.subarray(BATCH_HEADER_SIZE, end);
}

/** The batch's records section, decompressed when needed, bounded by `maxBytes`. */
export async function decompressRecords(batch: Buffer, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<Buffer> {
  const { header, end } = batchExtent(batch);
  return decompress(compressionOf(header.attributes), batch.subarray(BATCH_HEADER_SIZE, end), maxBytes);
}

export function decompressRecordsSync(batch: Buffer, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  const { header, end } = batchExtent(batch);
  return decompressSync(compressionOf(header.attributes), batch.subarray(BATCH_HEADER_SIZE, end), maxBytes);
}

/**
 * Iterates the records of one whole batch, decoding each only when asked for. For a compressed batch, pass
 * its records section decompressed beforehand (`decompressRecords`) as `records`; otherwise the section is
 * read in place.
 */
export function* iterateRecords(batch: Buffer, records?: Buffer): Generator<Record, void, undefined> {
  const { header, end } = batchExtent(batch);
  let section: Buffer;
  if (records !== undefined) {
    section = records;
  } else {
    if (compressionOf(header.attributes) !== Compression.NONE) {
      throw new ProtocolError('compressed record batch: pass its decompressed records section');
    }
    section = batch.subarray(BATCH_HEADER_SIZE, end);
  }
  const logAppendTime = timestampTypeIsLogAppend(header.attributes);
  const r = new Reader(section);
  for (let i = 0; i < header.recordCount; i++) {
    if (r.remaining() === 0) {
      throw new ProtocolError(`record batch declares ${header.recordCount} records, holds ${i}`);
    }
    yield readRecord(r, header, logAppendTime);
  }
  if (r.remaining() !== 0) {
    throw new ProtocolError(`${r.remaining()} bytes left after the batch's ${header.recordCount} records`);
  }
}

function readRecord(r: Reader, header: RecordBatchHeader, logAppendTime: boolean): Record {
  const length = r.varint();
  if (length < 0 || length > r.remaining()) {
    throw new ProtocolError(`record length ${length} does not fit the ${r.remaining()} bytes left`);
  }
  const end = r.offset + length;
  const rr = new Reader(r.buf, r.offset, end);
  const attributes = rr.int8();
  const timestampDelta = rr.varlong();
  const offsetDelta = rr.varint();
  const key = varintBytes(rr);
  const value = varintBytes(rr);
  const headerCount = rr.varint();
  if (headerCount < 0 || headerCount > rr.remaining()) {
    throw new ProtocolError(`invalid record header count ${headerCount}`);
  }
  const headers: RecordHeader[] = [];
  for (let h = 0; h < headerCount; h++) {
    const keyBytes = varintBytes(rr);
    if (keyBytes === null) throw new ProtocolError('null record header key');
    headers.push({ key: keyBytes.toString('utf8'), value: varintBytes(rr) });
  }
  if (rr.remaining() !== 0) throw new ProtocolError(`${rr.remaining()} bytes left inside a record`);
  r.offset = end;
  const timestamp = logAppendTime ? header.maxTimestamp : header.baseTimestamp + Number(timestampDelta);
  return { offset: header.baseOffset + offsetDelta, timestamp, attributes, key, value, headers };
}

/** varint length (-1 = null) then that many bytes, as a view. */
function varintBytes(r: Reader): Buffer | null {
  const n = r.varint();
  if (n === -1) return null;
  if (n < -1) throw new ProtocolError(`invalid length ${n}`);
  return r.raw(n);
}

/** All records of one whole batch, decompressing its records section when needed (bounded by `maxBytes`). */
export async function readRecords(batch: Buffer, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<Record[]> {
  const { header } = batchExtent(batch);
  const records = compressionOf(header.attributes) === Compression.NONE ? undefined : await decompressRecords(batch, maxBytes);
  return [...iterateRecords(batch, records)];
}

export function readRecordsSync(batch: Buffer, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Record[] {
  const { header } = batchExtent(batch);
  const records = compressionOf(header.attributes) === Compression.NONE ? undefined : decompressRecordsSync(batch, maxBytes);
  return [...iterateRecords(batch, records)];
}

// ---------------------------------------------------------------------------------------------------------
// Building

export interface BuildBatchOptions {
  baseOffset?: number;
  compression?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  partitionLeaderEpoch?: number;
  isControl?: boolean;
  timestampType?: 'create' | 'log-append';
  /** Codec options (snappy framing, level). */
  compressOptions?: CompressOptions;
}

export interface RecordInput {
  key?: Buffer | null;
  value: Buffer | null;
  /** Milliseconds; defaults to the build time. */
  timestamp?: number;
  headers?: RecordHeader[];
}

/** No timestamp (an empty batch). */
const NO_TIMESTAMP = -1;

function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}
function varintSize(v: number): number {
  return uvarintSize(v >= 0 ? v * 2 : -v * 2 - 1);
}
function varlongSize(v: bigint): number {
  let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  let n = 1;
  while (z >= 128n) {
    z >>= 7n;
    n++;
  }
  return n;
}
function bytesSize(b: Uint8Array | null | undefined): number {
  return b == null ? 1 : varintSize(b.length) + b.length;
}

/**
 * The uncompressed records section for `records`, and the batch timestamps. Offset deltas are 0..n-1 unless
 * `offsetDeltas` gives them; the base timestamp is the first record's unless `baseTimestamp` is given.
 */
function encodeRecords(
  records: readonly RecordInput[],
  offsetDeltas?: readonly number[],
  fixedBaseTimestamp?: number,
): { section: Buffer; baseTimestamp: number; maxTimestamp: number } {
  if (records.length === 0) return { section: Buffer.alloc(0), baseTimestamp: fixedBaseTimestamp ?? NO_TIMESTAMP, maxTimestamp: NO_TIMESTAMP };
  const now = Date.now();
  const baseTimestamp = fixedBaseTimestamp ?? records[0]!.timestamp ?? now;
  let maxTimestamp = records[0]!.timestamp ?? now;
  const sizes: number[] = [];
  const deltas: bigint[] = [];
  const headerKeys: Buffer[][] = [];
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    const timestamp = rec.timestamp ?? now;
    if (!Number.isSafeInteger(timestamp)) throw new RangeError(`record timestamp ${timestamp} is not a safe integer`);
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const delta = BigInt(timestamp - baseTimestamp);
    const keys: Buffer[] = [];
    let size = 1 + varlongSize(delta) + varintSize(offsetDeltas?.[i] ?? i) + bytesSize(rec.key) + bytesSize(rec.value);
    const headers = rec.headers ?? [];
    size += varintSize(headers.length);
    for (const h of headers) {
      const k = Buffer.from(h.key, 'utf8');
      keys.push(k);
      size += bytesSize(k) + bytesSize(h.value);
    }
    sizes.push(size);
    deltas.push(delta);
    headerKeys.push(keys);
    total += varintSize(size) + size;
  }
  const w = new Writer(total);
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    w.varint(sizes[i]!);
    w.int8(0);
    w.varlong(deltas[i]!);
    w.varint(offsetDeltas?.[i] ?? i);
    w.bytes(rec.key ?? null);
    w.bytes(rec.value);
    const headers = rec.headers ?? [];
    w.varint(headers.length);
    for (let h = 0; h < headers.length; h++) {
      w.bytes(headerKeys[i]![h]!);
      w.bytes(headers[h]!.value);
    }
  }
  if (w.pos !== total) throw new Error(`record size miscomputed: ${w.pos} != ${total}`);
  return { section: w.buf, baseTimestamp, maxTimestamp };
}

/** Writes into one exactly-sized buffer. */
class Writer {
  readonly buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  int8(v: number): void {
    this.buf.writeInt8(v, this.pos++);
  }
  uvarint(v: number): void {
    while (v >= 128) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  varint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  varlong(v: bigint): void {
    let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    while (z >= 128n) {
      this.buf[this.pos++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.pos++] = Number(z);
  }
  bytes(b: Uint8Array | null): void {
    if (b === null) {
      this.varint(-1);
      return;
    }
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

function attributesFor(opts: BuildBatchOptions): number {
  let attributes = (opts.compression ?? Compression.NONE) & 0x07;
  if (opts.timestampType === 'log-append') attributes |= 0x08;
  if (opts.transactional) attributes |= 0x10;
  if (opts.isControl) attributes |= 0x20;
  return attributes;
}

/** Header + (compressed) records section, with the CRC computed. */
function assembleBatch(
  opts: BuildBatchOptions,
  recordCount: number,
  baseTimestamp: number,
  maxTimestamp: number,
  section: Buffer,
): Buffer {
  const buf = Buffer.allocUnsafe(BATCH_HEADER_SIZE + section.length);
  const int64 = (at: number, v: number): void => {
    if (!Number.isSafeInteger(v)) throw new RangeError(`${v} is not a safe integer`);
    const hi = Math.floor(v / 4294967296);
    buf.writeInt32BE(hi, at);
    buf.writeUInt32BE(v - hi * 4294967296, at + 4);
  };
  int64(Offsets.baseOffset, opts.baseOffset ?? 0);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, Offsets.batchLength);
  buf.writeInt32BE(opts.partitionLeaderEpoch ?? -1, Offsets.partitionLeaderEpoch);
  buf.writeInt8(2, Offsets.magic);
  buf.writeInt16BE(attributesFor(opts), Offsets.attributes);
  buf.writeInt32BE(Math.max(recordCount - 1, 0), Offsets.lastOffsetDelta);
  int64(Offsets.baseTimestamp, baseTimestamp);
  int64(Offsets.maxTimestamp, maxTimestamp);
  int64(Offsets.producerId, opts.producerId ?? -1);
  buf.writeInt16BE(opts.producerEpoch ?? -1, Offsets.producerEpoch);
  buf.writeInt32BE(opts.baseSequence ?? -1, Offsets.baseSequence);
  buf.writeInt32BE(recordCount, Offsets.recordCount);
  section.copy(buf, BATCH_HEADER_SIZE);
  buf.writeUInt32BE(crc32c(buf.subarray(Offsets.attributes)), Offsets.crc);
  return buf;
}

/**
 * Builds one RecordBatch v2 holding `records` at offset deltas 0..n-1. Defaults: base offset 0, no
 * compression, no producer (id -1, epoch -1, sequence -1), partition leader epoch -1, CreateTime; the base
 * timestamp is the first record's, and records without a timestamp get the build time. An empty list gives
 * a batch with no records and timestamps -1.
 */
export async function buildBatch(records: readonly RecordInput[], opts: BuildBatchOptions = {}): Promise<Buffer> {
  const { section, baseTimestamp, maxTimestamp } = encodeRecords(records);
  const codec = opts.compression ?? Compression.NONE;
  const stored = codec === Compression.NONE ? section : await compress(codec, section, opts.compressOptions);
  return assembleBatch(opts, records.length, baseTimestamp, maxTimestamp, stored);
}

/** buildBatch, synchronously; zstd needs `loadCodecs()` (compression.ts) to have completed. */
export function buildBatchSync(records: readonly RecordInput[], opts: BuildBatchOptions = {}): Buffer {
  const { section, baseTimestamp, maxTimestamp } = encodeRecords(records);
  const codec = opts.compression ?? Compression.NONE;
  const stored = codec === Compression.NONE ? section : compressSync(codec, section, opts.compressOptions);
  return assembleBatch(opts, records.length, baseTimestamp, maxTimestamp, stored);
}

// ---------------------------------------------------------------------------------------------------------
// Rewriting (log compaction)

/** A record kept by the cleaner, at its original offset. */
export interface RetainedRecord extends RecordInput {
  offset: number;
  timestamp: number;
}

/** Attributes bit 6 (KIP-534): the batch's baseTimestamp holds its delete horizon, set by the log cleaner. */
export const DELETE_HORIZON_FLAG = 0x40;

export function hasDeleteHorizon(attributes: number): boolean {
  return (attributes & DELETE_HORIZON_FLAG) !== 0;
}

/**
 * Rebuilds a batch from some of its records, as Kafka's MemoryRecords.buildRetainedRecordsInto does for the
 * log cleaner: the same base offset, last offset delta (so the producer's last sequence survives), partition
 * leader epoch, producer id/epoch/base sequence, codec (recompressed), timestamp type and transactional /
 * control flags; each record keeps its offset and timestamp. With `deleteHorizonMs` (>= 0) the delete-horizon
 * flag is set and the base timestamp holds it. A LogAppendTime batch keeps its maxTimestamp.
 */
export async function buildRetainedBatch(original: RecordBatchHeader, records: readonly RetainedRecord[], deleteHorizonMs: number, compressOptions?: CompressOptions): Promise<Buffer> {
  const { section, baseTimestamp, maxTimestamp } = encodeRecords(
    records,
    records.map((r) => r.offset - original.baseOffset),
    deleteHorizonMs >= 0 ? deleteHorizonMs : undefined,
  );
  const codec = compressionOf(original.attributes);
  const stored = codec === Compression.NONE ? section : await compress(codec, section, compressOptions);
  let attributes = original.attributes & ~DELETE_HORIZON_FLAG;
  if (deleteHorizonMs >= 0) attributes |= DELETE_HORIZON_FLAG;
  const buf = assembleBatch(
    {
      baseOffset: original.baseOffset,
      partitionLeaderEpoch: original.partitionLeaderEpoch,
      producerId: original.producerId,
      producerEpoch: original.producerEpoch,
      baseSequence: original.baseSequence,
    },
    records.length,
    baseTimestamp,
    timestampTypeIsLogAppend(original.attributes) ? original.maxTimestamp : maxTimestamp,
    stored,
  );
  buf.writeInt16BE(attributes, Offsets.attributes);
  buf.writeInt32BE(original.lastOffsetDelta, Offsets.lastOffsetDelta);
  buf.writeUInt32BE(crc32c(buf.subarray(Offsets.attributes)), Offsets.crc);
  return buf;
}

/**
 * A batch header with no records that keeps a batch's offsets and producer fields (Kafka's
 * DefaultRecordBatch.writeEmptyHeader): the cleaner leaves it where a producer's last batch was emptied, so
 * the producer's last sequence and epoch survive. No codec, base timestamp -1, the original maxTimestamp.
 */
export function buildEmptyBatchHeader(original: RecordBatchHeader): Buffer {
  const buf = assembleBatch(
    {
      baseOffset: original.baseOffset,
      partitionLeaderEpoch: original.partitionLeaderEpoch,
      producerId: original.producerId,
      producerEpoch: original.producerEpoch,
      baseSequence: original.baseSequence,
    },
    0,
    NO_TIMESTAMP,
    original.maxTimestamp,
    Buffer.alloc(0),
  );
  // Timestamp type, transactional and control flags stay; the codec is NONE and the horizon flag unset.
  buf.writeInt16BE(original.attributes & 0x38, Offsets.attributes);
  buf.writeInt32BE(original.lastOffsetDelta, Offsets.lastOffsetDelta);
  buf.writeUInt32BE(crc32c(buf.subarray(Offsets.attributes)), Offsets.crc);
  return buf;
}
