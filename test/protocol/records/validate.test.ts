/**
 * Record validation (protocol/records/validate.ts): one hand-built bad batch per rule, each with a valid
 * CRC so that only the record checks can refuse it; decompression bombs for gzip, zstd, lz4 and snappy;
 * and the scanner fed in pieces of every size agreeing with the whole-buffer scan.
 */
import { execFileSync } from 'node:child_process';
import { createGzip } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../protocol/errors.js';
import { BATCH_HEADER_SIZE, Compression, LOG_OVERHEAD, Offsets, readBatchHeader, writeBatchCrc } from '../../../protocol/records/batch.js';
import { compressSync, decompressTo, loadCodecs } from '../../../protocol/records/compression.js';
import { buildBatch, type RecordInput } from '../../../protocol/records/record.js';
import { lz4CompressFrame, lz4DecompressFrames, lz4DecompressTo } from '../../../protocol/records/lz4-frame.js';
import { RecordsScanner, validateBatchRecords, type RecordValidationOptions, type RecordValidationResult } from '../../../protocol/records/validate.js';

const NOW = 1_700_000_000_000;

function options(over: Partial<RecordValidationOptions> = {}): RecordValidationOptions {
  return {
    topicPartition: 't-0',
    compacted: false,
    timestampType: 'CreateTime',
    nowMs: NOW,
    timestampBeforeMaxMs: Infinity,
    timestampAfterMaxMs: Infinity,
    maxDecompressedBytes: 64 * 1024 * 1024,
    ...over,
  };
}

async function validate(batch: Buffer, over: Partial<RecordValidationOptions> = {}): Promise<RecordValidationResult> {
  return validateBatchRecords(batch, 0, batch.length, readBatchHeader(batch), options(over));
}

// ---- hand-built records --------------------------------------------------------------------------------

function uvarint(v: number): number[] {
  const out: number[] = [];
  let u = v >>> 0;
  while (u >= 0x80) {
    out.push((u & 0x7f) | 0x80);
    u >>>= 7;
  }
  out.push(u);
  return out;
}
/** Zig-zag varint of a 32-bit value. */
function varint(v: number): number[] {
  return uvarint(((v << 1) ^ (v >> 31)) >>> 0);
}
function bytes(len: number, fill = 0x61): number[] {
  return len < 0 ? [] : new Array<number>(len).fill(fill);
}

interface RecordSpec {
  timestampDelta?: number;
  offsetDelta: number;
  keyLength?: number;
  valueLength?: number;
  headers?: { keyLength: number; valueLength: number }[];
  /** Overrides the header count written (the headers given are still written). */
  headerCount?: number;
  /** Overrides the record's length varint. */
  length?: number;
  /** Bytes appended inside the record, after the headers. */
  extra?: number[];
}

/** One record: length varint then body, as DefaultRecord writes it. */
function record(s: RecordSpec): number[] {
  const headers = s.headers ?? [];
  const keyLength = s.keyLength ?? 1;
  const valueLength = s.valueLength ?? 3;
  const body = [
    0, // attributes
    ...varint(s.timestampDelta ?? 0),
    ...varint(s.offsetDelta),
    ...varint(keyLength),
    ...bytes(keyLength, 0x6b),
    ...varint(valueLength),
    ...bytes(valueLength),
    ...varint(s.headerCount ?? headers.length),
    ...headers.flatMap((h) => [...varint(h.keyLength), ...bytes(h.keyLength, 0x68), ...varint(h.valueLength), ...bytes(h.valueLength)]),
    ...(s.extra ?? []),
  ];
  return [...varint(s.length ?? body.length), ...body];
}

interface BatchSpec {
  recordCount: number;
  lastOffsetDelta?: number;
  attributes?: number;
  baseTimestamp?: number;
  maxTimestamp?: number;
}

/** A batch around a records section (compressed as `attributes` says), with a correct CRC. */
function batchOf(section: Buffer | number[], spec: BatchSpec): Buffer {
  const records = Buffer.isBuffer(section) ? section : Buffer.from(section);
  const codec = (spec.attributes ?? 0) & 7;
  const stored = codec === 0 ? records : compressSync(codec, records);
  const buf = Buffer.alloc(BATCH_HEADER_SIZE + stored.length);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, Offsets.batchLength);
  buf.writeInt32BE(-1, Offsets.partitionLeaderEpoch);
  buf.writeInt8(2, Offsets.magic);
  buf.writeInt16BE(spec.attributes ?? 0, Offsets.attributes);
  buf.writeInt32BE(spec.lastOffsetDelta ?? spec.recordCount - 1, Offsets.lastOffsetDelta);
  buf.writeBigInt64BE(BigInt(spec.baseTimestamp ?? NOW), Offsets.baseTimestamp);
  buf.writeBigInt64BE(BigInt(spec.maxTimestamp ?? NOW), Offsets.maxTimestamp);
  buf.writeBigInt64BE(-1n, Offsets.producerId);
  buf.writeInt16BE(-1, Offsets.producerEpoch);
  buf.writeInt32BE(-1, Offsets.baseSequence);
  buf.writeInt32BE(spec.recordCount, Offsets.recordCount);
  stored.copy(buf, BATCH_HEADER_SIZE);
  writeBatchCrc(buf, 0);
  return buf;
}

function expectInvalid(r: RecordValidationResult, code: number, message: RegExp): void {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.errorCode).toBe(code);
  expect(r.errorMessage).toMatch(message);
}

const CODECS = [Compression.NONE, Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD];

describe('valid batches pass', () => {
  const sample: RecordInput[] = [
    { key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: NOW + 500 },
    { key: null, value: null, timestamp: NOW },
    { key: Buffer.from('k3'), value: Buffer.alloc(5000, 0x61), timestamp: NOW + 9999, headers: [{ key: 'h', value: null }, { key: '', value: Buffer.alloc(0) }] },
  ];
  for (const codec of CODECS) {
    it(`codec ${codec}`, async () => {
      await loadCodecs();
      expect(await validate(await buildBatch(sample, { compression: codec }))).toEqual({ ok: true });
    });
  }
  it('a hand-built batch with headers and empty keys', async () => {
    const section = [
      ...record({ offsetDelta: 0, keyLength: 0, valueLength: -1, headers: [{ keyLength: 2, valueLength: -1 }, { keyLength: 0, valueLength: 4 }] }),
      ...record({ offsetDelta: 1, timestampDelta: -5 }),
    ];
    expect(await validate(batchOf(section, { recordCount: 2 }))).toEqual({ ok: true });
  });
});

describe('framing rules (INVALID_RECORD)', () => {
  it('a varint longer than 5 bytes', async () => {
    const section = [0xff, 0xff, 0xff, 0xff, 0xff, 0x01, ...record({ offsetDelta: 0 }).slice(1)];
    expectInvalid(await validate(batchOf(section, { recordCount: 1 })), ErrorCode.INVALID_RECORD, /varint too long/);
  });
  it('a varlong timestamp delta longer than 10 bytes', async () => {
    const body = [0, ...new Array<number>(10).fill(0xff), 0x01, 0, 2, 0x6b, 0, 0];
    expectInvalid(await validate(batchOf([...varint(body.length), ...body], { recordCount: 1 })), ErrorCode.INVALID_RECORD, /varlong too long/);
  });
  it('fewer records than the header counts', async () => {
    const section = [...record({ offsetDelta: 0 }), ...record({ offsetDelta: 1 })];
    expectInvalid(await validate(batchOf(section, { recordCount: 3 })), ErrorCode.INVALID_RECORD, /premature EOF/);
  });
  it('more records than the header counts', async () => {
    const section = [...record({ offsetDelta: 0 }), ...record({ offsetDelta: 1 })];
    expectInvalid(await validate(batchOf(section, { recordCount: 1 })), ErrorCode.INVALID_RECORD, /records still remaining/);
  });
  it('trailing bytes after the last record', async () => {
    const section = [...record({ offsetDelta: 0 }), 0x00, 0x00];
    expectInvalid(await validate(batchOf(section, { recordCount: 1 })), ErrorCode.INVALID_RECORD, /records still remaining/);
  });
  it('an offset delta other than the record index', async () => {
    const section = [...record({ offsetDelta: 0 }), ...record({ offsetDelta: 5 })];
    expectInvalid(await validate(batchOf(section, { recordCount: 2 })), ErrorCode.INVALID_RECORD, /Invalid offset delta 5 for record 1/);
  });
  it('a record cut short: the section ends inside it', async () => {
    const section = record({ offsetDelta: 0, valueLength: 10 }).slice(0, -4);
    expectInvalid(await validate(batchOf(section, { recordCount: 1 })), ErrorCode.INVALID_RECORD, /premature EOF/);
  });
  it('a record whose fields end before its length says', async () => {
    const section = record({ offsetDelta: 0, extra: [1, 2, 3] });
    expectInvalid(await validate(batchOf(section, { recordCount: 1 })), ErrorCode.INVALID_RECORD, /Invalid record size: expected to read \d+ bytes in record payload, but instead read/);
  });
  it('a record whose fields run past its length', async () => {
    const good = record({ offsetDelta: 0, valueLength: 8 });
    const section = [...varint(good.length - 1 - 3), ...good.slice(1)];
    expectInvalid(await validate(batchOf(section, { recordCount: 1 })), ErrorCode.INVALID_RECORD, /Invalid record size/);
  });
  it('a negative record length', async () => {
    const section = [...varint(-3), ...record({ offsetDelta: 0 }).slice(1)];
    expectInvalid(await validate(batchOf(section, { recordCount: 1 })), ErrorCode.INVALID_RECORD, /Invalid record size -3/);
  });
  it('a key length below -1', async () => {
    expectInvalid(await validate(batchOf(record({ offsetDelta: 0, keyLength: -2 }), { recordCount: 1 })), ErrorCode.INVALID_RECORD, /key length -2/);
  });
  it('a negative header count', async () => {
    expectInvalid(await validate(batchOf(record({ offsetDelta: 0, headerCount: -1 }), { recordCount: 1 })), ErrorCode.INVALID_RECORD, /invalid number of record headers -1/);
  });
  it('a header count larger than the bytes left', async () => {
    expectInvalid(await validate(batchOf(record({ offsetDelta: 0, headerCount: 1000 }), { recordCount: 1 })), ErrorCode.INVALID_RECORD, /1000 is larger than the remaining size/);
  });
  it('a negative header key length', async () => {
    const section = record({ offsetDelta: 0, headers: [{ keyLength: -1, valueLength: 2 }] });
    expectInvalid(await validate(batchOf(section, { recordCount: 1 })), ErrorCode.INVALID_RECORD, /Invalid negative header key size -1/);
  });
  it('a compressed batch whose decompressed records are garbage', async () => {
    for (const codec of [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD]) {
      await loadCodecs();
      const section = [...record({ offsetDelta: 0 }), 0xde, 0xad];
      expectInvalid(await validate(batchOf(section, { recordCount: 1, attributes: codec })), ErrorCode.INVALID_RECORD, /records still remaining/);
    }
  });
  it('a compressed batch that does not decompress is CORRUPT_MESSAGE', async () => {
    for (const codec of [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD]) {
      const batch = batchOf(Buffer.from('not compressed at all, just bytes'), { recordCount: 1 });
      batch.writeInt16BE(codec, Offsets.attributes);
      writeBatchCrc(batch, 0);
      expectInvalid(await validate(batch), ErrorCode.CORRUPT_MESSAGE, /Failed to decompress/);
    }
  });
});

describe('per-record rules (KIP-467 record errors)', () => {
  it('a compacted topic refuses keyless records, listing each with its index', async () => {
    const batch = await buildBatch([{ key: Buffer.from('a'), value: Buffer.from('1') }, { key: null, value: Buffer.from('2') }, { value: Buffer.from('3') }]);
    expect(await validate(batch)).toEqual({ ok: true });
    const r = await validate(batch, { compacted: true });
    const message = 'Compacted topic cannot accept message without key in topic partition t-0';
    expect(r).toEqual({
      ok: false,
      errorCode: ErrorCode.INVALID_RECORD,
      errorMessage: `One or more records have been rejected due to 2 record errors in total, and only showing the first three errors at most: [RecordError(batchIndex=1, message='${message}'), RecordError(batchIndex=2, message='${message}')]`,
      recordErrors: [
        { batchIndex: 1, message },
        { batchIndex: 2, message },
      ],
    });
  });
  it('keyless records in a compressed batch for a compacted topic', async () => {
    const batch = await buildBatch([{ key: Buffer.from('a'), value: Buffer.from('1') }, { value: Buffer.from('2') }], { compression: Compression.GZIP });
    const r = await validate(batch, { compacted: true });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.recordErrors.map((e) => e.batchIndex)).toEqual([1]);
  });
  it('timestamps outside message.timestamp.before.max.ms / after.max.ms are INVALID_TIMESTAMP', async () => {
    const hour = 3_600_000;
    const batch = await buildBatch([
      { key: Buffer.from('a'), value: null, timestamp: NOW },
      { key: Buffer.from('b'), value: null, timestamp: NOW - 2 * hour },
      { key: Buffer.from('c'), value: null, timestamp: NOW + 2 * hour },
    ]);
    expect(await validate(batch)).toEqual({ ok: true });
    expect(await validate(batch, { timestampBeforeMaxMs: 3 * hour, timestampAfterMaxMs: 3 * hour })).toEqual({ ok: true });
    const r = await validate(batch, { timestampBeforeMaxMs: hour, timestampAfterMaxMs: hour });
    expect(r).toEqual({
      ok: false,
      errorCode: ErrorCode.INVALID_TIMESTAMP,
      errorMessage: 'One or more records have been rejected due to invalid timestamp',
      recordErrors: [
        { batchIndex: 1, message: `Timestamp ${NOW - 2 * hour} of message with offset 1 is out of range. The timestamp should be within [${NOW - hour}, ${NOW + hour}]` },
        { batchIndex: 2, message: `Timestamp ${NOW + 2 * hour} of message with offset 2 is out of range. The timestamp should be within [${NOW - hour}, ${NOW + hour}]` },
      ],
    });
    // LogAppendTime topics do not check producer timestamps.
    expect(await validate(batch, { timestampBeforeMaxMs: hour, timestampAfterMaxMs: hour, timestampType: 'LogAppendTime' })).toEqual({ ok: true });
  });
  it('a producer batch marked LogAppendTime is refused by a LogAppendTime topic', async () => {
    const batch = await buildBatch([{ key: Buffer.from('a'), value: Buffer.from('v'), timestamp: NOW }], { timestampType: 'log-append' });
    const r = await validate(batch, { timestampType: 'LogAppendTime' });
    expectInvalid(r, ErrorCode.INVALID_TIMESTAMP, /invalid timestamp/);
    if (!r.ok) expect(r.recordErrors[0]!.message).toMatch(/Producer should not set timestamp type to LogAppendTime/);
  });
});

// ---- decompression bombs ---------------------------------------------------------------------------------

/** Record header bytes of one record whose value is `valueLength` zero bytes (the rest of the record: zeros too). */
function bombPrefix(valueLength: number): Buffer {
  const head = [0, 0, 0, ...varint(-1), ...varint(valueLength)];
  return Buffer.from([...varint(head.length + valueLength + 1), ...head]);
}

/** gzip of bombPrefix + zeros, deflated as a stream (the output is small; the input is never held). */
async function gzipBomb(valueLength: number): Promise<Buffer> {
  const z = createGzip({ level: 1 });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    z.on('end', resolve);
    z.on('error', reject);
  });
  z.write(bombPrefix(valueLength));
  const zeros = Buffer.alloc(1 << 20);
  let left = valueLength + 1;
  while (left > 0) {
    const n = Math.min(left, zeros.length);
    left -= n;
    if (!z.write(zeros.subarray(0, n))) await new Promise<void>((resolve) => z.once('drain', resolve));
  }
  z.end();
  await ended;
  return Buffer.concat(out);
}

/**
 * A zstd frame without a content size (as the Java client's streaming writer produces): one raw block with
 * the record header, then RLE blocks of zeros, 128 KiB each for 4 bytes of input.
 */
function zstdBomb(valueLength: number): Buffer {
  const prefix = bombPrefix(valueLength);
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3])];
  const blockHeader = (last: boolean, type: number, size: number): Buffer => {
    const v = (last ? 1 : 0) | (type << 1) | (size << 3);
    return Buffer.from([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff]);
  };
  parts.push(blockHeader(false, 0, prefix.length), prefix);
  let left = valueLength + 1;
  while (left > 0) {
    const n = Math.min(left, 128 * 1024);
    left -= n;
    parts.push(blockHeader(left === 0, 1, n), Buffer.from([0]));
  }
  return Buffer.concat(parts);
}

const GiB = 1024 * 1024 * 1024;

describe('decompression bombs are refused without being inflated', () => {
  it('gzip: 1 GiB of zeros (about 1 MiB compressed) stops at the limit, scanned 64 KiB at a time', async () => {
    const bomb = await gzipBomb(GiB);
    expect(bomb.length).toBeLessThan(8 << 20);
    let fed = 0;
    let largest = 0;
    const limit = 4 << 20;
    await expect(
      decompressTo(Compression.GZIP, bomb, limit, (piece) => {
        fed += piece.length;
        largest = Math.max(largest, piece.length);
      }),
    ).rejects.toThrow(/exceeds the 4194304-byte limit/);
    expect(fed).toBeLessThanOrEqual(limit);
    expect(largest).toBeLessThanOrEqual(64 * 1024);
    // As a batch: CORRUPT_MESSAGE at the default 64 MiB bound.
    expectInvalid(await validate(storedBatch(bomb, Compression.GZIP)), ErrorCode.CORRUPT_MESSAGE, /exceeds the 67108864-byte limit/);
  }, 120_000);
  it('zstd: 1 GiB of RLE blocks without a content size (32 KiB compressed)', async () => {
    const bomb = zstdBomb(GiB);
    expect(bomb.length).toBeLessThan(64 * 1024);
    let fed = 0;
    expect(() =>
      decompressTo(Compression.ZSTD, bomb, 4 << 20, (piece) => {
        fed += piece.length;
      }),
    ).toThrow(/exceeds the 4194304-byte limit/);
    expect(fed).toBeLessThanOrEqual(4 << 20);
    expectInvalid(await validate(storedBatch(bomb, Compression.ZSTD)), ErrorCode.CORRUPT_MESSAGE, /exceeds the 67108864-byte limit/);
  });
  it('zstd and gzip bombs of zeros only stop at the first record', async () => {
    // All zeros: record length 0 is invalid at once, long before any limit.
    const zeros = Buffer.alloc(8 << 20);
    for (const codec of [Compression.GZIP, Compression.ZSTD]) {
      await loadCodecs();
      expectInvalid(await validate(storedBatch(compressSync(codec, zeros), codec)), ErrorCode.INVALID_RECORD, /Invalid record size/);
    }
  });
  it('lz4: 1 GiB of zeros in independent 64 KiB blocks (about 4.5 MiB compressed), decoded 64 KiB at a time', async () => {
    const bomb = lz4Bomb(GiB);
    let fed = 0;
    let largest = 0;
    expect(() =>
      decompressTo(Compression.LZ4, bomb, 4 << 20, (piece) => {
        fed += piece.length;
        largest = Math.max(largest, piece.length);
      }),
    ).toThrow(/exceeds the 4194304-byte limit/);
    expect(fed).toBeLessThanOrEqual(4 << 20);
    expect(largest).toBeLessThanOrEqual(64 * 1024);
    expectInvalid(await validate(storedBatch(bomb, Compression.LZ4)), ErrorCode.CORRUPT_MESSAGE, /exceeds the 67108864-byte limit/);
  });
  it('lz4 and snappy: over a lowered limit', async () => {
    for (const codec of [Compression.LZ4, Compression.SNAPPY]) {
      const content = Buffer.concat([bombPrefix(8 << 20), Buffer.alloc((8 << 20) + 1)]);
      const batch = storedBatch(compressSync(codec, content), codec);
      expect(await validate(batch)).toEqual({ ok: true });
      expectInvalid(await validate(batch, { maxDecompressedBytes: 1 << 20 }), ErrorCode.CORRUPT_MESSAGE, /1048576-byte limit/);
    }
  });
});

/**
 * An lz4 frame of independent 64 KiB blocks: the first holds the record header of a `valueLength`-byte
 * zero value, the others zeros only (one compressed block repeated).
 */
function lz4Bomb(valueLength: number): Buffer {
  const block = (content: Buffer): Buffer => {
    const frame = lz4CompressFrame(content); // magic, FLG, BD, HC, one block (size word + bytes), end mark
    return frame.subarray(7, frame.length - 4);
  };
  const chunk = 64 * 1024;
  const prefix = bombPrefix(valueLength);
  const total = prefix.length + valueLength + 1;
  const first = block(Buffer.concat([prefix, Buffer.alloc(chunk - prefix.length)]));
  const zeros = block(Buffer.alloc(chunk));
  const parts = [lz4CompressFrame(Buffer.alloc(0)).subarray(0, 7), first];
  let left = total - chunk;
  for (; left >= chunk; left -= chunk) parts.push(zeros);
  if (left > 0) parts.push(block(Buffer.alloc(left)));
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

/** A one-record batch whose records section is `stored` as is (already compressed with `codec`). */
function storedBatch(stored: Buffer, codec: number): Buffer {
  const b = batchOf(Buffer.alloc(0), { recordCount: 1 });
  const buf = Buffer.concat([b, stored]);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, Offsets.batchLength);
  buf.writeInt16BE(codec, Offsets.attributes);
  writeBatchCrc(buf, 0);
  return buf;
}

describe('lz4 as a stream', () => {
  const payload = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    let seed = 7;
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      b[i] = i % 3 === 0 ? seed & 0xff : 0x61 + (i % 7); // compressible, with matches across blocks
    }
    return b;
  };
  const streamed = (frame: Buffer, limit: number): Buffer => {
    const pieces: Buffer[] = [];
    lz4DecompressTo(frame, limit, (p) => pieces.push(Buffer.from(p)));
    return Buffer.concat(pieces);
  };
  it('gives what the whole-frame decoder gives, for our (Java-shaped) frames', () => {
    for (const n of [0, 1, 1000, 65536, 65537, 300_000]) {
      const data = payload(n);
      const frame = lz4CompressFrame(data);
      expect(streamed(frame, 1 << 20).equals(lz4DecompressFrames(frame, 1 << 20))).toBe(true);
      expect(streamed(frame, 1 << 20).equals(data)).toBe(true);
    }
  });
  it('dependent blocks (lz4 CLI -BD, 64 KiB blocks, no content checksum) keep 64 KiB of history', () => {
    const data = Buffer.concat([payload(200_000), payload(200_000)]);
    const frame = execFileSync('lz4', ['-q', '-c', '-BD', '-B4', '--no-frame-crc'], { input: data, maxBuffer: 1 << 26 });
    expect(frame[4]! & 0x20).toBe(0); // dependent blocks
    expect(frame[4]! & 0x04).toBe(0); // no content checksum: streamed
    expect(streamed(frame, 1 << 20).equals(data)).toBe(true);
    expect(() => streamed(frame, 100_000)).toThrow(/exceeds the 100000-byte limit/);
  });
  it('a frame with a content checksum is decoded whole, and checked', () => {
    const data = payload(150_000);
    const frame = execFileSync('lz4', ['-q', '-c', '-BD', '-B4'], { input: data, maxBuffer: 1 << 26 });
    expect(frame[4]! & 0x04).toBe(4);
    const pieces: number[] = [];
    lz4DecompressTo(frame, 1 << 20, (p) => pieces.push(p.length));
    expect(pieces).toEqual([data.length]);
    const bad = Buffer.from(frame);
    bad[bad.length - 1]! ^= 0xff;
    expect(() => lz4DecompressTo(bad, 1 << 20, () => undefined)).toThrow(/checksum/);
  });
});

describe('pieces of any size', () => {
  it('scanning in pieces gives the same outcome as scanning the whole section', () => {
    const spec = fc.record({
      keyLength: fc.integer({ min: -2, max: 40 }),
      valueLength: fc.integer({ min: -1, max: 300 }),
      timestampDelta: fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }),
      headers: fc.array(fc.record({ keyLength: fc.integer({ min: -1, max: 10 }), valueLength: fc.integer({ min: -1, max: 10 }) }), { maxLength: 3 }),
      wrongOffset: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 6 }), fc.integer({ min: -2, max: 2 }), fc.integer({ min: 1, max: 17 }), fc.integer({ min: -3, max: 3 }), (specs, countSkew, piece, cut) => {
        let section = specs.flatMap((s, i) => record({ ...s, offsetDelta: s.wrongOffset && i === specs.length - 1 ? i + 1 : i }));
        if (cut < 0) section = section.slice(0, Math.max(0, section.length + cut));
        if (cut > 0) section = [...section, ...bytes(cut, 0)];
        const count = Math.max(1, specs.length + countSkew);
        const batch = batchOf(section, { recordCount: count });
        const header = readBatchHeader(batch);
        const outcome = (pieceSize: number): string => {
          const s = new RecordsScanner(header, options({ compacted: true }));
          try {
            for (let at = BATCH_HEADER_SIZE; at < batch.length; at += pieceSize) s.feed(batch, at, Math.min(at + pieceSize, batch.length));
            s.finish();
            return JSON.stringify(s.recordErrors);
          } catch (e) {
            return (e as Error).message;
          }
        };
        expect(outcome(piece)).toBe(outcome(batch.length));
      }),
      { numRuns: 400 },
    );
  });
});
