/**
 * Validation of a produced batch's records, as Kafka's LogValidator does before an append (plus the record
 * framing rules of DefaultRecord.readFrom and DefaultRecordBatch's iterator, which Kafka applies by reading
 * every record on the way).
 *
 * Framing (the first problem stops the scan; INVALID_RECORD, as Kafka's InvalidRecordException):
 *   - each record: length varint >= 0, attributes, timestamp delta (varlong), offset delta, key length,
 *     key, value length, value, header count (0 .. bytes left), each header (key length >= 0, key, value
 *     length, value); the fields end exactly where the record's length says.
 *   - varints as Kafka reads them: at most 5 bytes (varlong 10), Java int32 arithmetic.
 *   - exactly recordCount records, then nothing ("Incorrect declared batch size ...").
 *   - stricter than Kafka 3.x, which stores such records as they come (uncompressed) or rewrites the batch
 *     (compressed): offset deltas must be 0, 1, 2, ... in order, and key / value / header value lengths
 *     below -1 are refused. No client writes either, and consumers (librdkafka, kafkajs) stop for good at
 *     a batch whose offsets do not add up.
 * Per record (all of a batch's problems are collected, each with its index: KIP-467 record errors):
 *   - a compacted topic needs a key: INVALID_RECORD "Compacted topic cannot accept message without key in
 *     topic partition <tp>" (LogValidator.validateKey).
 *   - CreateTime topics: a timestamp outside [now - message.timestamp.before.max.ms, now +
 *     message.timestamp.after.max.ms] (KIP-937, Kafka 3.6+) is INVALID_TIMESTAMP; a batch a producer marked
 *     LogAppendTime is INVALID_TIMESTAMP where Kafka refuses it (LogValidator.validateTimestamp).
 * Compressed records are decompressed as a stream and scanned piece by piece (compression.ts decompressTo):
 * output past `maxDecompressedBytes` or a corrupt stream is CORRUPT_MESSAGE (Kafka has no such bound, and
 * answers UNKNOWN_SERVER_ERROR for a stream it cannot decompress).
 *
 * No allocation per record: one scanner per batch walks the bytes with a small state machine, so a record
 * may be split across decompressed pieces anywhere, even inside a varint. A record wholly inside a piece
 * (nearly all of them) is read by a fast path with local variables; anything unusual there falls back to
 * the state machine, which names the problem (the piece-size property test holds the two to the same
 * outcome).
 */
import { ErrorCode } from '../errors.js';
import { ProtocolError } from '../primitives.js';
import { BATCH_HEADER_SIZE, compressionOf, timestampTypeIsLogAppend, type RecordBatchHeader } from './batch.js';
import { decompressTo } from './compression.js';

/** KIP-467: one failing record of a batch (Kafka's ProduceResponse.RecordError). */
export interface RecordError {
  batchIndex: number;
  message: string;
}

export type RecordValidationResult =
  | { ok: true }
  | { ok: false; errorCode: number; errorMessage: string; recordErrors: RecordError[] };

export interface RecordValidationOptions {
  /** "topic-partition", as Kafka's messages name it. */
  topicPartition: string;
  /** cleanup.policy includes compact. */
  compacted: boolean;
  /** The topic's message.timestamp.type. */
  timestampType: 'CreateTime' | 'LogAppendTime';
  nowMs: number;
  /** message.timestamp.before.max.ms / after.max.ms; Infinity (Kafka's Long.MAX_VALUE default) = unchecked. */
  timestampBeforeMaxMs: number;
  timestampAfterMaxMs: number;
  /** The most a compressed batch may decompress to. */
  maxDecompressedBytes: number;
}

/** A framing problem: the batch is refused as a whole with INVALID_RECORD. */
export class InvalidRecordError extends Error {
  override readonly name = 'InvalidRecordError';
}

const NO_TIMESTAMP = -1;

// Scanner states: which field the next byte belongs to.
const S_LENGTH = 0;
const S_ATTRIBUTES = 1;
const S_TIMESTAMP_DELTA = 2;
const S_OFFSET_DELTA = 3;
const S_KEY_LENGTH = 4;
const S_KEY = 5;
const S_VALUE_LENGTH = 6;
const S_VALUE = 7;
const S_HEADER_COUNT = 8;
const S_HEADER_KEY_LENGTH = 9;
const S_HEADER_KEY = 10;
const S_HEADER_VALUE_LENGTH = 11;
const S_HEADER_VALUE = 12;

/**
 * Walks one batch's (decompressed) records section, fed in pieces of any size. Throws InvalidRecordError
 * at the first framing problem; collects per-record problems in `recordErrors`.
 */
export class RecordsScanner {
  /** Per-record problems (null until the first one, so a valid batch allocates nothing). */
  recordErrors: RecordError[] | null = null;
  /** INVALID_TIMESTAMP if any record error is a timestamp's, as Kafka's processRecordErrors decides. */
  timestampError = false;

  private state = S_LENGTH;
  /** Bytes consumed before the current piece. */
  private consumed = 0;
  // The varint being read (it may continue in the next piece).
  private varValue = 0;
  private varShift = 0;
  private varLong = 0;
  private recordStart = 0;
  private recordSize = 0;
  private recordEnd = 0;
  private skip = 0;
  private headersLeft = 0;
  private index = 0;
  private timestampDelta = 0;
  private offsetDelta = 0;
  private keyLength = 0;
  private valueLength = 0;

  private readonly checkTimestampRange: boolean;
  private readonly batchLogAppendTime: boolean;

  constructor(
    private readonly header: RecordBatchHeader,
    private readonly opts: RecordValidationOptions,
  ) {
    this.checkTimestampRange = opts.timestampType === 'CreateTime' && (opts.timestampBeforeMaxMs !== Infinity || opts.timestampAfterMaxMs !== Infinity);
    this.batchLogAppendTime = timestampTypeIsLogAppend(header.attributes);
  }

  /** Scans `buf[start, end)`, the next piece of the records section. */
  feed(buf: Uint8Array, start: number, end: number): void {
    let pos = start;
    const base = this.consumed - start;
    const count = this.header.recordCount;
    while (pos < end) {
      const state = this.state;
      if (state === S_LENGTH && this.varShift === 0 && this.index < count) {
        // Fast path: a record wholly inside this piece, read with local variables. It returns -1 for
        // anything unusual, and the state machine below then reads the same record and names the problem.
        const next = this.fastRecord(buf, pos, end);
        if (next >= 0) {
          pos = next;
          continue;
        }
      }
      if (state === S_KEY || state === S_VALUE || state === S_HEADER_KEY || state === S_HEADER_VALUE) {
        const n = Math.min(this.skip, end - pos);
        pos += n;
        this.skip -= n;
        if (this.skip === 0) this.afterBytes(base + pos);
        continue;
      }
      if (state === S_ATTRIBUTES) {
        // Record attributes are unused in v2; Kafka reads and ignores them.
        pos++;
        this.state = S_TIMESTAMP_DELTA;
        this.varLong = 0;
        this.varShift = 0;
        continue;
      }
      if (state === S_LENGTH && this.varShift === 0 && this.index === count) {
        throw new InvalidRecordError('Incorrect declared batch size, records still remaining in file');
      }
      if (state === S_TIMESTAMP_DELTA) {
        // varlong (zig-zag, at most 10 bytes); accumulated as a double: deltas beyond 2^53 ms are
        // hundreds of millennia, where the rounding cannot change a range check.
        let b = 0;
        do {
          b = buf[pos++]!;
          this.varLong += (b & 0x7f) * 2 ** this.varShift;
          this.varShift += 7;
          if ((b & 0x80) !== 0 && this.varShift > 63) throw new InvalidRecordError(`Found invalid record structure: varlong too long in record ${this.index}`);
        } while ((b & 0x80) !== 0 && pos < end);
        if ((b & 0x80) !== 0) break;
        const raw = this.varLong;
        this.timestampDelta = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
        this.varShift = 0;
        this.varValue = 0;
        this.state = S_OFFSET_DELTA;
        this.checkInside(base + pos);
        continue;
      }
      // varint (zig-zag int32, at most 5 bytes), in Java's int arithmetic as ByteUtils.readVarint.
      let b = 0;
      let v = this.varValue;
      let shift = this.varShift;
      for (;;) {
        b = buf[pos++]!;
        if ((b & 0x80) === 0) {
          v |= b << shift;
          break;
        }
        v |= (b & 0x7f) << shift;
        shift += 7;
        if (shift > 28) throw new InvalidRecordError(`Found invalid record structure: varint too long in record ${this.index}`);
        if (pos === end) break;
      }
      if ((b & 0x80) !== 0) {
        this.varValue = v;
        this.varShift = shift;
        break;
      }
      this.varValue = 0;
      this.varShift = 0;
      this.onVarint((v >>> 1) ^ -(v & 1), base + pos);
    }
    this.consumed += end - start;
  }

  /** The section has ended: every declared record must have been read in full. */
  finish(): void {
    if (this.state !== S_LENGTH || this.varShift !== 0 || this.index < this.header.recordCount) {
      throw new InvalidRecordError(
        `Incorrect declared batch size, premature EOF reached: ${this.header.recordCount} records declared, the records section ends in record ${this.index}`,
      );
    }
  }

  /** A varint field is complete; `at` is the absolute position after it. */
  private onVarint(value: number, at: number): void {
    switch (this.state) {
      case S_LENGTH:
        if (value < 0) throw new InvalidRecordError(`Invalid record size ${value} for record ${this.index}`);
        this.recordSize = value;
        this.recordStart = at;
        this.recordEnd = at + value;
        this.state = S_ATTRIBUTES;
        if (value === 0) this.checkInside(at + 1);
        return;
      case S_OFFSET_DELTA:
        this.checkInside(at);
        if (value !== this.index) {
          throw new InvalidRecordError(
            `Invalid offset delta ${value} for record ${this.index}: the records of a batch must have offset deltas 0, 1, 2, ...`,
          );
        }
        this.offsetDelta = value;
        this.state = S_KEY_LENGTH;
        return;
      case S_KEY_LENGTH:
        this.keyLength = value;
        this.startBytes(value, S_KEY, S_VALUE_LENGTH, at, 'key');
        return;
      case S_VALUE_LENGTH:
        this.valueLength = value;
        this.startBytes(value, S_VALUE, S_HEADER_COUNT, at, 'value');
        return;
      case S_HEADER_COUNT:
        this.checkInside(at);
        if (value < 0) throw new InvalidRecordError(`Found invalid number of record headers ${value}`);
        if (value > this.recordEnd - at) throw new InvalidRecordError(`Found invalid number of record headers. ${value} is larger than the remaining size of the buffer`);
        this.headersLeft = value;
        if (value === 0) this.endRecord(at);
        else this.state = S_HEADER_KEY_LENGTH;
        return;
      case S_HEADER_KEY_LENGTH:
        if (value < 0) throw new InvalidRecordError(`Invalid negative header key size ${value}`);
        this.startBytes(value, S_HEADER_KEY, S_HEADER_VALUE_LENGTH, at, 'header key');
        return;
      case S_HEADER_VALUE_LENGTH:
        this.startBytes(value, S_HEADER_VALUE, S_HEADER_KEY_LENGTH, at, 'header value');
        return;
    }
  }

  /** A length-prefixed field: `length` bytes to pass over (-1 = null), then state `next`. */
  private startBytes(length: number, bytesState: number, next: number, at: number, what: string): void {
    this.checkInside(at);
    if (length < -1) throw new InvalidRecordError(`Found invalid record structure: ${what} length ${length} in record ${this.index}`);
    if (length > 0) {
      if (length > this.recordEnd - at) this.sizeMismatch(at + length);
      this.skip = length;
      this.state = bytesState;
      return;
    }
    this.state = bytesState;
    this.afterBytes(at);
  }

  /** The bytes of a key, value, header key or header value have been passed over. */
  private afterBytes(at: number): void {
    switch (this.state) {
      case S_KEY:
        this.state = S_VALUE_LENGTH;
        return;
      case S_VALUE:
        this.state = S_HEADER_COUNT;
        return;
      case S_HEADER_KEY:
        this.state = S_HEADER_VALUE_LENGTH;
        return;
      case S_HEADER_VALUE:
        if (--this.headersLeft === 0) this.endRecord(at);
        else this.state = S_HEADER_KEY_LENGTH;
        return;
    }
  }

  private checkInside(at: number): void {
    if (at > this.recordEnd) this.sizeMismatch(at);
  }

  private sizeMismatch(at: number): never {
    throw new InvalidRecordError(`Invalid record size: expected to read ${this.recordSize} bytes in record payload, but instead read ${at - this.recordStart}`);
  }

  /**
   * Reads one well-formed record starting at `pos` that ends before `end`, returning the position after
   * it, or -1 (having changed nothing) if it is not wholly there or breaks any framing rule.
   */
  private fastRecord(buf: Uint8Array, pos: number, end: number): number {
    this.fp = pos;
    const size = this.fastVarint(buf, end);
    if (this.fp < 0 || size < 0 || size > end - this.fp) return -1;
    const recordEnd = this.fp + size;
    this.fp++; // attributes
    // varlong, as a double (see the state machine's note)
    let p = this.fp;
    let raw = 0;
    let scale = 1;
    let b = 0;
    do {
      if (p >= recordEnd || scale > 2 ** 63) return -1;
      b = buf[p++]!;
      raw += (b & 0x7f) * scale;
      scale *= 128;
    } while ((b & 0x80) !== 0);
    this.fp = p;
    const offsetDelta = this.fastVarint(buf, recordEnd);
    if (this.fp < 0 || offsetDelta !== this.index) return -1;
    const keyLength = this.fastVarint(buf, recordEnd);
    if (this.fp < 0 || keyLength < -1 || keyLength > recordEnd - this.fp) return -1;
    if (keyLength > 0) this.fp += keyLength;
    const valueLength = this.fastVarint(buf, recordEnd);
    if (this.fp < 0 || valueLength < -1 || valueLength > recordEnd - this.fp) return -1;
    if (valueLength > 0) this.fp += valueLength;
    const headerCount = this.fastVarint(buf, recordEnd);
    if (this.fp < 0 || headerCount < 0 || headerCount > recordEnd - this.fp) return -1;
    for (let i = 0; i < headerCount; i++) {
      const k = this.fastVarint(buf, recordEnd);
      if (this.fp < 0 || k < 0 || k > recordEnd - this.fp) return -1;
      this.fp += k;
      const n = this.fastVarint(buf, recordEnd);
      if (this.fp < 0 || n < -1 || n > recordEnd - this.fp) return -1;
      if (n > 0) this.fp += n;
    }
    if (this.fp !== recordEnd) return -1;
    this.timestampDelta = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    this.offsetDelta = offsetDelta;
    this.keyLength = keyLength;
    this.valueLength = valueLength;
    this.recordEnd = recordEnd;
    this.endRecord(recordEnd);
    return recordEnd;
  }

  /** Position of the fast path; -1 once a varint did not fit or was too long. */
  private fp = 0;

  /** A zig-zag varint at `fp`, ending before `limit` (Java int arithmetic, at most 5 bytes). */
  private fastVarint(buf: Uint8Array, limit: number): number {
    let p = this.fp;
    let v = 0;
    let shift = 0;
    let b = 0;
    do {
      if (p >= limit || shift > 28) {
        this.fp = -1;
        return 0;
      }
      b = buf[p++]!;
      v |= (b & 0x7f) << shift;
      shift += 7;
    } while ((b & 0x80) !== 0);
    this.fp = p;
    return (v >>> 1) ^ -(v & 1);
  }

  private endRecord(at: number): void {
    if (at !== this.recordEnd) this.sizeMismatch(at);
    const opts = this.opts;
    if (opts.compacted && this.keyLength < 0) {
      this.addError(`Compacted topic cannot accept message without key in topic partition ${opts.topicPartition}`, false);
    } else {
      this.checkTimestamp();
    }
    this.index++;
    this.state = S_LENGTH;
  }

  /** LogValidator.validateTimestamp, for the record just read. */
  private checkTimestamp(): void {
    const h = this.header;
    const timestamp = this.batchLogAppendTime ? h.maxTimestamp : h.baseTimestamp + this.timestampDelta;
    const opts = this.opts;
    if (opts.timestampType === 'CreateTime' && timestamp !== NO_TIMESTAMP) {
      if (!this.checkTimestampRange) return;
      if (opts.nowMs - timestamp > opts.timestampBeforeMaxMs || timestamp - opts.nowMs > opts.timestampAfterMaxMs) {
        const low = opts.timestampBeforeMaxMs === Infinity ? '-inf' : String(opts.nowMs - opts.timestampBeforeMaxMs);
        const high = opts.timestampAfterMaxMs === Infinity ? '+inf' : String(opts.nowMs + opts.timestampAfterMaxMs);
        this.addError(
          `Timestamp ${timestamp} of message with offset ${h.baseOffset + this.offsetDelta} is out of range. The timestamp should be within [${low}, ${high}]`,
          true,
        );
      }
    } else if (this.batchLogAppendTime) {
      this.addError(
        `Invalid timestamp type in message DefaultRecord(offset=${h.baseOffset + this.offsetDelta}, timestamp=${timestamp}, key=${Math.max(this.keyLength, 0)} bytes, value=${Math.max(this.valueLength, 0)} bytes). Producer should not set timestamp type to LogAppendTime.`,
        true,
      );
    }
  }

  private addError(message: string, timestamp: boolean): void {
    (this.recordErrors ??= []).push({ batchIndex: this.index, message });
    if (timestamp) this.timestampError = true;
  }
}

/** Kafka's processRecordErrors: the partition's error and message for a batch with record errors. */
function recordErrorsResult(scanner: RecordsScanner): RecordValidationResult {
  const errors = scanner.recordErrors!;
  if (scanner.timestampError) {
    return { ok: false, errorCode: ErrorCode.INVALID_TIMESTAMP, errorMessage: 'One or more records have been rejected due to invalid timestamp', recordErrors: errors };
  }
  const shown = errors
    .slice(0, 3)
    .map((e) => `RecordError(batchIndex=${e.batchIndex}, message='${e.message}')`)
    .join(', ');
  return {
    ok: false,
    errorCode: ErrorCode.INVALID_RECORD,
    errorMessage: `One or more records have been rejected due to ${errors.length} record errors in total, and only showing the first three errors at most: [${shown}]`,
    recordErrors: errors,
  };
}

function invalid(errorCode: number, errorMessage: string): RecordValidationResult {
  return { ok: false, errorCode, errorMessage, recordErrors: [] };
}

const VALID: RecordValidationResult = { ok: true };

/**
 * Validates the records of the whole batch `buf[pos, pos + size)` whose header is `header` (already
 * checked by splitBatches: length, magic, CRC). Uncompressed, snappy, lz4 and zstd batches are validated
 * within the call (no await, so an append is not reordered behind others); a gzip batch inflating to over
 * 1 MiB returns a promise, as zlib then streams on libuv's thread pool.
 */
export function validateBatchRecords(
  buf: Buffer,
  pos: number,
  size: number,
  header: RecordBatchHeader,
  opts: RecordValidationOptions,
): RecordValidationResult | Promise<RecordValidationResult> {
  const scanner = new RecordsScanner(header, opts);
  const codec = compressionOf(header.attributes);
  if (codec === 0) {
    return guarded(opts, () => {
      scanner.feed(buf, pos + BATCH_HEADER_SIZE, pos + size);
      return finished(scanner);
    });
  }
  const section = buf.subarray(pos + BATCH_HEADER_SIZE, pos + size);
  let pending: void | Promise<void>;
  try {
    pending = decompressTo(codec, section, opts.maxDecompressedBytes, (piece) => scanner.feed(piece, 0, piece.length));
  } catch (e) {
    return decompressionFailed(e, opts);
  }
  if (pending === undefined) return guarded(opts, () => finished(scanner));
  return pending.then(
    () => guarded(opts, () => finished(scanner)),
    (e: unknown) => decompressionFailed(e, opts),
  );
}

function finished(scanner: RecordsScanner): RecordValidationResult {
  scanner.finish();
  return scanner.recordErrors === null ? VALID : recordErrorsResult(scanner);
}

/** Runs `scan`, turning a framing problem into INVALID_RECORD. */
function guarded(opts: RecordValidationOptions, scan: () => RecordValidationResult): RecordValidationResult {
  try {
    return scan();
  } catch (e) {
    if (e instanceof InvalidRecordError) return invalid(ErrorCode.INVALID_RECORD, `${e.message} in topic partition ${opts.topicPartition}`);
    throw e;
  }
}

/** A framing problem found while decompressing is INVALID_RECORD; the decompression's own failure CORRUPT_MESSAGE. */
function decompressionFailed(e: unknown, opts: RecordValidationOptions): RecordValidationResult {
  if (e instanceof InvalidRecordError) return invalid(ErrorCode.INVALID_RECORD, `${e.message} in topic partition ${opts.topicPartition}`);
  // The codecs signal corrupt input with ProtocolError; anything else they throw on hostile bytes is the same.
  const reason = e instanceof ProtocolError ? e.message : String(e);
  return invalid(ErrorCode.CORRUPT_MESSAGE, `Failed to decompress the records of a batch for topic partition ${opts.topicPartition}: ${reason}`);
}
