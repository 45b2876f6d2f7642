/**
 * Golden batches written by the Java client's own MemoryRecords builder (kafka-clients 4.1.1, with its
 * snappy-java, lz4-java and zstd-jni), one per codec; see vectors/GenerateRecordBatchVectors.java.
 * Each holds three records at base offset 42: ("k1", "v1", header h=x), (null, null), ("big", 146 KB of JSON).
 * The reverse direction (the Java client reading batches from buildBatch, every codec and both snappy
 * shapes, with ensureValid) was checked with the same program's `read` mode when these were captured.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BATCH_HEADER_SIZE, Compression, compressionOf, readBatchHeader, splitBatches } from '../../../protocol/records/batch.js';
import { isXerialFramed } from '../../../protocol/records/snappy.js';
import { zstdFrames } from '../../../protocol/records/zstd.js';
import { buildBatch, readRecords, recordsSection } from '../../../protocol/records/record.js';

const vector = (codec: string): Buffer =>
  readFileSync(new URL(`./vectors/record-batch-v2-${codec}-java-kafka-clients-4.1.1.bin`, import.meta.url));

const BIG = Buffer.from(Array.from({ length: 4000 }, (_, i) => `{"user":${i % 97},"event":"click","n":${i}}\n`).join(''));

const RECORDS = [
  { key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: 1_700_000_000_000, headers: [{ key: 'h', value: Buffer.from('x') }] },
  { key: null, value: null, timestamp: 1_700_000_000_007, headers: [] },
  { key: Buffer.from('big'), value: BIG, timestamp: 1_700_000_000_003, headers: [] },
];

const CODECS: [string, number][] = [
  ['none', Compression.NONE],
  ['gzip', Compression.GZIP],
  ['snappy', Compression.SNAPPY],
  ['lz4', Compression.LZ4],
  ['zstd', Compression.ZSTD],
];

describe('batches written by the Java client', () => {
  for (const [name, codec] of CODECS) {
    it(`${name}: header, CRC and records`, async () => {
      const batch = vector(name);
      const split = splitBatches(batch);
      expect(split.ok).toBe(true);
      if (!split.ok) return;
      expect(split.batches).toHaveLength(1);
      const h = readBatchHeader(batch);
      expect(compressionOf(h.attributes)).toBe(codec);
      expect(h).toMatchObject({
        baseOffset: 42,
        partitionLeaderEpoch: -1,
        magic: 2,
        lastOffsetDelta: 2,
        baseTimestamp: 1_700_000_000_000,
        maxTimestamp: 1_700_000_000_007,
        producerId: -1,
        producerEpoch: -1,
        baseSequence: -1,
        recordCount: 3,
      });
      const read = await readRecords(batch);
      // Values compared with Buffer.equals: a deep toEqual on 146 KB is slow.
      expect(read.map((r) => ({ ...r, value: null }))).toEqual(RECORDS.map((r, i) => ({ offset: 42 + i, attributes: 0, ...r, value: null })));
      expect(read.map((r, i) => (r.value === null ? RECORDS[i]!.value === null : r.value.equals(RECORDS[i]!.value!)))).toEqual([true, true, true]);
    });
  }

  it('snappy is xerial-framed in 32 KiB chunks', () => {
    const section = recordsSection(vector('snappy'));
    expect(isXerialFramed(section)).toBe(true);
    expect(section.subarray(16 + 4, 16 + 4 + 3)).toEqual(Buffer.from([0x80, 0x80, 0x02])); // first chunk: 32768 bytes
  });

  it('lz4 uses the header we write', () => {
    expect(recordsSection(vector('lz4')).subarray(0, 7)).toEqual(Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]));
  });

  it('zstd is one streaming frame without a content size', () => {
    const frames = zstdFrames(recordsSection(vector('zstd')));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.contentSize).toBeNull();
    expect(frames[0]!.windowSize).toBe(2 << 20);
  });

  it('buildBatch writes the same bytes as the Java client for an uncompressed batch', async () => {
    const batch = await buildBatch(RECORDS, { baseOffset: 42 });
    expect(batch.length).toBe(vector('none').length);
    expect(batch.equals(vector('none'))).toBe(true);
    expect(batch.subarray(0, BATCH_HEADER_SIZE)).toEqual(vector('none').subarray(0, BATCH_HEADER_SIZE));
  });
});
