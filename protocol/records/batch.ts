/**
 * RecordBatch v2 (magic 2, KIP-98): the 61-byte header, read and patched without touching the records.
 *
 * Byte layout (big-endian), offsets from the start of the batch:
 *
 *   0  baseOffset            int64   rewritten by the broker on append (outside the CRC)
 *   8  batchLength           int32   bytes after this field: 49 header bytes + records
 *  12  partitionLeaderEpoch  int32   rewritten by the broker on append (outside the CRC)
 *  16  magic                 int8    2
 *  17  crc                   uint32  CRC-32C (Castagnoli) of bytes 21 .. end of batch
 *  21  attributes            int16   bits 0-2 codec, bit 3 LogAppendTime, bit 4 transactional, bit 5 control
 *  23  lastOffsetDelta       int32
 *  27  baseTimestamp         int64
 *  35  maxTimestamp          int64
 *  43  producerId            int64   -1 when not idempotent
 *  51  producerEpoch         int16
 *  53  baseSequence          int32
 *  57  recordCount           int32
 *  61  records ...                   compressed as a whole when the codec is not NONE
 *
 * A batch occupies LOG_OVERHEAD + batchLength bytes. Legacy message sets (magic 0/1) share the first 17
 * bytes' shape (offset, size, crc, magic at byte 16), which is how splitBatches recognises and rejects
 * them ('unsupported-magic', answered with UNSUPPORTED_FOR_MESSAGE_FORMAT by the broker: no down-conversion).
 *
 * int64 fields are returned as JS numbers; a value outside the safe-integer range is a ProtocolError.
 */
import { crc32c } from './crc32c.js';
import { ProtocolError } from '../primitives.js';

export const BATCH_HEADER_SIZE = 61;
export const LOG_OVERHEAD = 12;
/** The smallest legal batchLength: the header after the LOG_OVERHEAD prefix, with no records. */
export const MIN_BATCH_LENGTH = BATCH_HEADER_SIZE - LOG_OVERHEAD;
export const CURRENT_MAGIC = 2;

export const Compression = { NONE: 0, GZIP: 1, SNAPPY: 2, LZ4: 3, ZSTD: 4 } as const;
export type CompressionCodec = (typeof Compression)[keyof typeof Compression];

/** Byte offsets of the header fields, from the start of the batch. */
export const Offsets = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
} as const;

/** First byte covered by the CRC. */
const CRC_START = Offsets.attributes;

const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_MASK = 0x08;
const TRANSACTIONAL_MASK = 0x10;
const CONTROL_MASK = 0x20;

export interface RecordBatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

function readInt64(buf: Buffer, at: number): number {
  const v = buf.readInt32BE(at) * 4294967296 + buf.readUInt32BE(at + 4);
  if (!Number.isSafeInteger(v)) {
    throw new ProtocolError(`int64 at byte ${at} is outside the safe integer range`);
  }
  return v;
}

function writeInt64(buf: Buffer, at: number, v: number): void {
  if (!Number.isSafeInteger(v)) throw new RangeError(`${v} is not a safe integer`);
  const hi = Math.floor(v / 4294967296);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * 4294967296, at + 4);
}

/** Parses the 61-byte header at `pos`. Does not check magic, length or CRC (see splitBatches). */
export function readBatchHeader(buf: Buffer, pos = 0): RecordBatchHeader {
  if (pos < 0 || buf.length - pos < BATCH_HEADER_SIZE) {
    throw new ProtocolError(`record batch header needs ${BATCH_HEADER_SIZE} bytes at ${pos}, have ${buf.length - pos}`);
  }
  return {
    baseOffset: readInt64(buf, pos + Offsets.baseOffset),
    batchLength: buf.readInt32BE(pos + Offsets.batchLength),
    partitionLeaderEpoch: buf.readInt32BE(pos + Offsets.partitionLeaderEpoch),
    magic: buf.readInt8(pos + Offsets.magic),
    crc: buf.readUInt32BE(pos + Offsets.crc),
    attributes: buf.readInt16BE(pos + Offsets.attributes),
    lastOffsetDelta: buf.readInt32BE(pos + Offsets.lastOffsetDelta),
    baseTimestamp: readInt64(buf, pos + Offsets.baseTimestamp),
    maxTimestamp: readInt64(buf, pos + Offsets.maxTimestamp),
    producerId: readInt64(buf, pos + Offsets.producerId),
    producerEpoch: buf.readInt16BE(pos + Offsets.producerEpoch),
    baseSequence: buf.readInt32BE(pos + Offsets.baseSequence),
    recordCount: buf.readInt32BE(pos + Offsets.recordCount),
  };
}

/**
 * LOG_OVERHEAD + batchLength of the batch at `pos`, or -1 if fewer than LOG_OVERHEAD bytes are available.
 * The length is not validated: a result below BATCH_HEADER_SIZE means a corrupt batch.
 */
export function batchSize(buf: Buffer, pos = 0): number {
  if (pos < 0 || buf.length - pos < LOG_OVERHEAD) return -1;
  return LOG_OVERHEAD + buf.readInt32BE(pos + Offsets.batchLength);
}

/** CRC-32C over attributes .. end of the batch at `pos`, as a uint32. Throws ProtocolError if truncated. */
export function computeBatchCrc(buf: Buffer, pos = 0): number {
  const size = batchSize(buf, pos);
  if (size < BATCH_HEADER_SIZE) throw new ProtocolError(`record batch at ${pos} has an invalid length`);
  if (buf.length - pos < size) {
    throw new ProtocolError(`record batch at ${pos} is truncated: ${size} bytes declared, ${buf.length - pos} present`);
  }
  return crc32c(buf.subarray(pos + CRC_START, pos + size));
}

/** Whether the stored CRC matches; false as well for a truncated or impossibly short batch. */
export function isBatchCrcValid(buf: Buffer, pos = 0): boolean {
  const size = batchSize(buf, pos);
  if (size < BATCH_HEADER_SIZE || buf.length - pos < size) return false;
  return computeBatchCrc(buf, pos) === buf.readUInt32BE(pos + Offsets.crc);
}

/** Recomputes and stores the CRC (after a change to a field it covers). */
export function writeBatchCrc(buf: Buffer, pos = 0): void {
  buf.writeUInt32BE(computeBatchCrc(buf, pos), pos + Offsets.crc);
}

/** Stamps the base offset; the CRC does not cover it, so it stays valid. */
export function setBaseOffset(buf: Buffer, pos: number, baseOffset: number): void {
  writeInt64(buf, pos + Offsets.baseOffset, baseOffset);
}

/** Stamps the partition leader epoch; the CRC does not cover it, so it stays valid. */
export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + Offsets.partitionLeaderEpoch);
}

/**
 * message.timestamp.type=LogAppendTime: sets the timestamp-type bit and maxTimestamp, then recomputes the
 * CRC (both lie inside it). Readers then take every record's timestamp as maxTimestamp.
 */
export function setLogAppendTime(buf: Buffer, pos: number, timestampMs: number): void {
  const attributes = buf.readInt16BE(pos + Offsets.attributes);
  buf.writeInt16BE(attributes | TIMESTAMP_TYPE_MASK, pos + Offsets.attributes);
  writeInt64(buf, pos + Offsets.maxTimestamp, timestampMs);
  writeBatchCrc(buf, pos);
}

export function compressionOf(attributes: number): number {
  return attributes & COMPRESSION_MASK;
}
export function timestampTypeIsLogAppend(attributes: number): boolean {
  return (attributes & TIMESTAMP_TYPE_MASK) !== 0;
}
export function isTransactional(attributes: number): boolean {
  return (attributes & TRANSACTIONAL_MASK) !== 0;
}
export function isControl(attributes: number): boolean {
  return (attributes & CONTROL_MASK) !== 0;
}

/** Smallest legacy (magic 0/1) message: crc(4) magic(1) attributes(1) key length(4) value length(4). */
const LEGACY_MIN_MESSAGE_SIZE = 14;

export interface SplitBatch {
  pos: number;
  size: number;
  header: RecordBatchHeader;
}

export type SplitResult =
  | { ok: true; batches: SplitBatch[] }
  | { ok: false; reason: 'corrupt' | 'unsupported-magic' | 'truncated'; message: string };

/**
 * Walks a buffer holding zero or more whole batches (a produce request's `records`, a segment slice):
 * validates each batch (batchLength >= 49, magic 2, the batch fits in the buffer, CRC-32C, int64 fields in
 * the safe range, recordCount >= 0) and returns their positions and headers, or the first problem found.
 * Records are not decoded.
 */
export function splitBatches(buf: Buffer): SplitResult {
  const batches: SplitBatch[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const left = buf.length - pos;
    if (left < LOG_OVERHEAD) {
      return { ok: false, reason: 'truncated', message: `${left} trailing bytes at ${pos}: too few for a batch length` };
    }
    const batchLength = buf.readInt32BE(pos + Offsets.batchLength);
    if (batchLength < LEGACY_MIN_MESSAGE_SIZE) {
      return { ok: false, reason: 'corrupt', message: `batch at ${pos} has invalid length ${batchLength}` };
    }
    if (left <= Offsets.magic) {
      return { ok: false, reason: 'truncated', message: `batch at ${pos} is cut before its magic byte` };
    }
    const magic = buf.readInt8(pos + Offsets.magic);
    if (magic === 0 || magic === 1) {
      return {
        ok: false,
        reason: 'unsupported-magic',
        message: `batch at ${pos} is a legacy message set (magic ${magic}); only magic 2 is supported`,
      };
    }
    if (magic !== CURRENT_MAGIC) {
      return { ok: false, reason: 'corrupt', message: `batch at ${pos} has invalid magic ${magic}` };
    }
    if (batchLength < MIN_BATCH_LENGTH) {
      return { ok: false, reason: 'corrupt', message: `batch at ${pos} has length ${batchLength} < ${MIN_BATCH_LENGTH}` };
    }
    const size = LOG_OVERHEAD + batchLength;
    if (left < size) {
      return { ok: false, reason: 'truncated', message: `batch at ${pos} declares ${size} bytes, ${left} present` };
    }
    let header: RecordBatchHeader;
    try {
      header = readBatchHeader(buf, pos);
    } catch (e) {
      return { ok: false, reason: 'corrupt', message: `batch at ${pos}: ${(e as Error).message}` };
    }
    const crc = crc32c(buf.subarray(pos + CRC_START, pos + size));
    if (crc !== header.crc) {
      return {
        ok: false,
        reason: 'corrupt',
        message: `batch at ${pos} fails its CRC-32C: stored ${header.crc.toString(16)}, computed ${crc.toString(16)}`,
      };
    }
    if (header.recordCount < 0) {
      return { ok: false, reason: 'corrupt', message: `batch at ${pos} has negative record count ${header.recordCount}` };
    }
    batches.push({ pos, size, header });
    pos += size;
  }
  return { ok: true, batches };
}
