import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../protocol/primitives.js';
import {
  BATCH_HEADER_SIZE,
  Compression,
  LOG_OVERHEAD,
  batchSize,
  compressionOf,
  computeBatchCrc,
  isBatchCrcValid,
  isControl,
  isTransactional,
  readBatchHeader,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  splitBatches,
  timestampTypeIsLogAppend,
} from '../../../protocol/records/batch.js';
import { buildBatch, readRecords } from '../../../protocol/records/record.js';

/** Bit-at-a-time CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): a reference independent of crc-32. */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * One batch written byte by byte from the RecordBatch v2 layout: transactional, CreateTime, uncompressed,
 * one record (key "k", value "hi", one header "h" -> "x").
 */
function handWrittenBatch(): Buffer {
  const record = [
    0x00, // attributes
    0x06, // timestampDelta varlong 3 (zig-zag 6)
    0x02, // offsetDelta varint 1 (zig-zag 2)
    0x02, 0x6b, // key length 1, "k"
    0x04, 0x68, 0x69, // value length 2, "hi"
    0x02, // header count 1
    0x02, 0x68, // header key length 1, "h"
    0x02, 0x78, // header value length 1, "x"
  ];
  const records = [record.length * 2, ...record]; // length varint (zig-zag)
  const body = [
    0x00, 0x10, // attributes: transactional
    0x00, 0x00, 0x00, 0x01, // lastOffsetDelta 1
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // baseTimestamp 1700000000000
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x03, // maxTimestamp 1700000000003
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x92, // producerId 4242
    0x00, 0x03, // producerEpoch 3
    0x00, 0x00, 0x00, 0x07, // baseSequence 7
    0x00, 0x00, 0x00, 0x01, // recordCount 1
    ...records,
  ];
  const crc = referenceCrc32c(Uint8Array.from(body));
  const batchLength = 4 + 1 + 4 + body.length; // partitionLeaderEpoch + magic + crc + body
  const bytes = [
    0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, // baseOffset 0x0102030405
    (batchLength >>> 24) & 0xff, (batchLength >>> 16) & 0xff, (batchLength >>> 8) & 0xff, batchLength & 0xff,
    0x00, 0x00, 0x00, 0x09, // partitionLeaderEpoch 9
    0x02, // magic
    (crc >>> 24) & 0xff, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff,
    ...body,
  ];
  return Buffer.from(bytes);
}

describe('CRC-32C', () => {
  it('matches the standard check value', () => {
    expect(referenceCrc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });
});

describe('readBatchHeader on a hand-written batch', () => {
  const batch = handWrittenBatch();

  it('reads every header field', () => {
    expect(batch.length).toBe(BATCH_HEADER_SIZE + 14);
    const h = readBatchHeader(batch);
    expect(h).toEqual({
      baseOffset: 0x0102030405,
      batchLength: batch.length - LOG_OVERHEAD,
      partitionLeaderEpoch: 9,
      magic: 2,
      crc: referenceCrc32c(batch.subarray(21)),
      attributes: 0x10,
      lastOffsetDelta: 1,
      baseTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_003,
      producerId: 4242,
      producerEpoch: 3,
      baseSequence: 7,
      recordCount: 1,
    });
    expect(batchSize(batch)).toBe(batch.length);
    expect(compressionOf(h.attributes)).toBe(Compression.NONE);
    expect(isTransactional(h.attributes)).toBe(true);
    expect(isControl(h.attributes)).toBe(false);
    expect(timestampTypeIsLogAppend(h.attributes)).toBe(false);
  });

  it('computes the CRC over attributes .. end', () => {
    expect(computeBatchCrc(batch)).toBe(referenceCrc32c(batch.subarray(21)));
    expect(computeBatchCrc(batch)).toBe(batch.readUInt32BE(17));
    expect(isBatchCrcValid(batch)).toBe(true);
  });

  it('decodes its record', async () => {
    expect(await readRecords(batch)).toEqual([
      {
        offset: 0x0102030405 + 1,
        timestamp: 1_700_000_000_003,
        attributes: 0,
        key: Buffer.from('k'),
        value: Buffer.from('hi'),
        headers: [{ key: 'h', value: Buffer.from('x') }],
      },
    ]);
  });

  it('reads at a position inside a larger buffer', () => {
    const padded = Buffer.concat([Buffer.alloc(7, 0xee), batch]);
    expect(readBatchHeader(padded, 7)).toEqual(readBatchHeader(batch));
    expect(batchSize(padded, 7)).toBe(batch.length);
    expect(isBatchCrcValid(padded, 7)).toBe(true);
  });

  it('is what buildBatch writes for the same content', async () => {
    const built = await buildBatch(
      [
        { key: null, value: null, timestamp: 1_700_000_000_000 },
        { key: Buffer.from('k'), value: Buffer.from('hi'), timestamp: 1_700_000_000_003, headers: [{ key: 'h', value: Buffer.from('x') }] },
      ],
      { baseOffset: 0x0102030405, partitionLeaderEpoch: 9, producerId: 4242, producerEpoch: 3, baseSequence: 7, transactional: true },
    );
    // Same header fields except the record count; the hand-written batch holds only the second record.
    const h = readBatchHeader(built);
    expect({ ...h, crc: 0, batchLength: 0, recordCount: 0 }).toEqual({ ...readBatchHeader(batch), crc: 0, batchLength: 0, recordCount: 0 });
    expect(h.recordCount).toBe(2);
    expect(built.subarray(built.length - 14)).toEqual(batch.subarray(batch.length - 14));
    expect(isBatchCrcValid(built)).toBe(true);
  });
});

describe('header edge cases', () => {
  it('throws ProtocolError on fewer than 61 bytes', () => {
    const batch = handWrittenBatch();
    expect(() => readBatchHeader(batch.subarray(0, 60))).toThrow(ProtocolError);
    expect(() => readBatchHeader(batch, batch.length - 60)).toThrow(ProtocolError);
  });

  it('batchSize is -1 below 12 bytes', () => {
    expect(batchSize(Buffer.alloc(11))).toBe(-1);
    expect(batchSize(Buffer.alloc(12))).toBe(12);
  });

  it('rejects an int64 outside the safe integer range', () => {
    const batch = handWrittenBatch();
    batch.writeBigInt64BE(2n ** 60n, 43);
    expect(() => readBatchHeader(batch)).toThrow(ProtocolError);
    const split = splitBatches(batch);
    expect(split.ok).toBe(false);
  });

  it('isBatchCrcValid is false for a truncated batch; computeBatchCrc throws', () => {
    const batch = handWrittenBatch().subarray(0, 70);
    expect(isBatchCrcValid(batch)).toBe(false);
    expect(() => computeBatchCrc(batch)).toThrow(ProtocolError);
  });
});

describe('CRC validation', () => {
  it('catches every single flipped bit inside the CRC range', () => {
    const batch = handWrittenBatch();
    for (let byte = 21; byte < batch.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(batch);
        copy[byte]! ^= 1 << bit;
        expect(isBatchCrcValid(copy), `byte ${byte} bit ${bit}`).toBe(false);
        const split = splitBatches(copy);
        expect(split.ok).toBe(false);
        if (!split.ok) expect(split.reason).toBe('corrupt');
      }
    }
  });

  it('catches a flipped bit in the stored CRC itself', () => {
    const batch = handWrittenBatch();
    batch[18]! ^= 0x40;
    expect(isBatchCrcValid(batch)).toBe(false);
  });

  it('setBaseOffset and setPartitionLeaderEpoch leave the CRC valid', () => {
    const batch = handWrittenBatch();
    setBaseOffset(batch, 0, 987_654_321_012);
    setPartitionLeaderEpoch(batch, 0, 77);
    const h = readBatchHeader(batch);
    expect(h.baseOffset).toBe(987_654_321_012);
    expect(h.partitionLeaderEpoch).toBe(77);
    expect(isBatchCrcValid(batch)).toBe(true);
    setBaseOffset(batch, 0, -1);
    expect(readBatchHeader(batch).baseOffset).toBe(-1);
    expect(batch.readBigInt64BE(0)).toBe(-1n);
  });

  it('setLogAppendTime sets the bit and maxTimestamp, recomputes the CRC, and records read it', async () => {
    const batch = handWrittenBatch();
    setLogAppendTime(batch, 0, 1_800_000_000_000);
    const h = readBatchHeader(batch);
    expect(timestampTypeIsLogAppend(h.attributes)).toBe(true);
    expect(isTransactional(h.attributes)).toBe(true);
    expect(h.maxTimestamp).toBe(1_800_000_000_000);
    expect(isBatchCrcValid(batch)).toBe(true);
    expect((await readRecords(batch))[0]!.timestamp).toBe(1_800_000_000_000);
  });
});

/** A magic-1 message set entry: offset, size, crc, magic, attributes, timestamp, key (null), value. */
function legacyMessage(magic: 0 | 1): Buffer {
  const value = Buffer.from('legacy');
  const body = Buffer.alloc(1 + 1 + (magic === 1 ? 8 : 0) + 4 + 4 + value.length);
  let p = 0;
  body.writeInt8(magic, p++);
  body.writeInt8(0, p++);
  if (magic === 1) {
    body.writeBigInt64BE(1_700_000_000_000n, p);
    p += 8;
  }
  body.writeInt32BE(-1, p);
  body.writeInt32BE(value.length, p + 4);
  value.copy(body, p + 8);
  const out = Buffer.alloc(12 + 4 + body.length);
  out.writeBigInt64BE(0n, 0);
  out.writeInt32BE(4 + body.length, 8);
  out.writeUInt32BE(0, 12); // crc (not checked: the magic is refused first)
  body.copy(out, 16);
  return out;
}

describe('splitBatches', () => {
  it('accepts an empty buffer', () => {
    expect(splitBatches(Buffer.alloc(0))).toEqual({ ok: true, batches: [] });
  });

  it('returns the position, size and header of each of several batches', async () => {
    const a = await buildBatch([{ value: Buffer.from('a') }]);
    const b = await buildBatch([{ value: Buffer.from('bb') }, { value: Buffer.from('bbb') }], { compression: Compression.GZIP });
    const c = handWrittenBatch();
    const all = Buffer.concat([a, b, c]);
    const split = splitBatches(all);
    expect(split.ok).toBe(true);
    if (!split.ok) return;
    expect(split.batches.map((x) => [x.pos, x.size])).toEqual([
      [0, a.length],
      [a.length, b.length],
      [a.length + b.length, c.length],
    ]);
    expect(split.batches[1]!.header.recordCount).toBe(2);
    expect(compressionOf(split.batches[1]!.header.attributes)).toBe(Compression.GZIP);
    expect(split.batches[2]!.header).toEqual(readBatchHeader(c));
  });

  it('reports truncation at every cut point', async () => {
    const a = await buildBatch([{ value: Buffer.from('a') }]);
    const all = Buffer.concat([a, handWrittenBatch()]);
    for (let cut = 1; cut < all.length; cut++) {
      if (cut === a.length) continue;
      const split = splitBatches(all.subarray(0, cut));
      expect(split.ok, `cut at ${cut}`).toBe(false);
      if (!split.ok) expect(split.reason).toBe('truncated');
    }
  });

  it('refuses legacy magic 0 and 1 as unsupported-magic', () => {
    for (const magic of [0, 1] as const) {
      const split = splitBatches(legacyMessage(magic));
      expect(split).toMatchObject({ ok: false, reason: 'unsupported-magic' });
    }
    // After a valid batch too.
    const split = splitBatches(Buffer.concat([handWrittenBatch(), legacyMessage(1)]));
    expect(split).toMatchObject({ ok: false, reason: 'unsupported-magic' });
  });

  it('refuses any other magic as corrupt', () => {
    for (const magic of [3, 127, -1]) {
      const batch = handWrittenBatch();
      batch.writeInt8(magic, 16);
      expect(splitBatches(batch)).toMatchObject({ ok: false, reason: 'corrupt' });
    }
  });

  it('refuses a batch length below 49 as corrupt', () => {
    for (const length of [-1, 0, 13, 14, 48]) {
      const batch = handWrittenBatch();
      batch.writeInt32BE(length, 8);
      expect(splitBatches(batch), `length ${length}`).toMatchObject({ ok: false, reason: 'corrupt' });
    }
  });

  it('refuses a negative record count as corrupt', () => {
    const batch = handWrittenBatch();
    batch.writeInt32BE(-5, 57);
    batch.writeUInt32BE(computeBatchCrc(batch), 17);
    expect(splitBatches(batch)).toMatchObject({ ok: false, reason: 'corrupt' });
  });

  it('accepts a batch with no records (as compaction leaves them)', async () => {
    const empty = await buildBatch([]);
    expect(empty.length).toBe(BATCH_HEADER_SIZE);
    const split = splitBatches(empty);
    expect(split.ok).toBe(true);
    expect(await readRecords(empty)).toEqual([]);
  });
});
