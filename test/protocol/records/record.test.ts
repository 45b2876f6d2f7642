import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../protocol/primitives.js';
import {
  BATCH_HEADER_SIZE,
  Compression,
  compressionOf,
  isBatchCrcValid,
  isControl,
  isTransactional,
  readBatchHeader,
  splitBatches,
  timestampTypeIsLogAppend,
  writeBatchCrc,
} from '../../../protocol/records/batch.js';
import { loadCodecs } from '../../../protocol/records/compression.js';
import {
  buildBatch,
  buildBatchSync,
  decompressRecords,
  iterateRecords,
  readRecords,
  readRecordsSync,
  type RecordInput,
} from '../../../protocol/records/record.js';

const CODECS = [Compression.NONE, Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD];

const SAMPLE: RecordInput[] = [
  { key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: 1_700_000_000_500 },
  { key: null, value: null, timestamp: 1_700_000_000_000 }, // earlier than the first: negative delta
  { value: Buffer.alloc(5000, 0x61), timestamp: 1_700_000_009_999, headers: [{ key: 'ключ', value: null }, { key: '', value: Buffer.alloc(0) }] },
];

describe('buildBatch -> readRecords', () => {
  for (const codec of CODECS) {
    it(`codec ${codec}`, async () => {
      const batch = await buildBatch(SAMPLE, { compression: codec, baseOffset: 1000, producerId: 77, producerEpoch: 2, baseSequence: 40 });
      const h = readBatchHeader(batch);
      expect(compressionOf(h.attributes)).toBe(codec);
      expect(h).toMatchObject({
        baseOffset: 1000,
        magic: 2,
        lastOffsetDelta: 2,
        recordCount: 3,
        baseTimestamp: 1_700_000_000_500,
        maxTimestamp: 1_700_000_009_999,
        producerId: 77,
        producerEpoch: 2,
        baseSequence: 40,
        partitionLeaderEpoch: -1,
      });
      expect(isBatchCrcValid(batch)).toBe(true);
      const records = await readRecords(batch);
      expect(records).toEqual([
        { offset: 1000, timestamp: 1_700_000_000_500, attributes: 0, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [] },
        { offset: 1001, timestamp: 1_700_000_000_000, attributes: 0, key: null, value: null, headers: [] },
        {
          offset: 1002,
          timestamp: 1_700_000_009_999,
          attributes: 0,
          key: null,
          value: Buffer.alloc(5000, 0x61),
          headers: [
            { key: 'ключ', value: null },
            { key: '', value: Buffer.alloc(0) },
          ],
        },
      ]);
      expect(readRecordsSync(batch)).toEqual(records);
    });
  }

  it('sets the attribute bits it is asked for', async () => {
    const batch = await buildBatch([{ value: Buffer.from('x') }], { transactional: true, isControl: true, timestampType: 'log-append' });
    const { attributes } = readBatchHeader(batch);
    expect(isTransactional(attributes)).toBe(true);
    expect(isControl(attributes)).toBe(true);
    expect(timestampTypeIsLogAppend(attributes)).toBe(true);
  });

  it('defaults timestamps to the build time', async () => {
    const before = Date.now();
    const [r] = await readRecords(await buildBatch([{ value: Buffer.from('x') }]));
    expect(r!.timestamp).toBeGreaterThanOrEqual(before);
    expect(r!.timestamp).toBeLessThanOrEqual(Date.now());
  });

  it('buildBatchSync writes the same bytes as buildBatch', async () => {
    await loadCodecs();
    for (const codec of [Compression.NONE, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD]) {
      expect(buildBatchSync(SAMPLE, { compression: codec })).toEqual(await buildBatch(SAMPLE, { compression: codec }));
    }
  });

  it('iterates lazily', () => {
    const batch = buildBatchSync(SAMPLE);
    const it = iterateRecords(batch);
    expect(it.next().value).toMatchObject({ offset: 0, key: Buffer.from('k1') });
    // Corrupting a later record does not affect the records already read.
    batch[batch.length - 1] = 0x7f;
    expect(() => [...it]).toThrow(ProtocolError);
  });

  it('iterateRecords needs the decompressed section for a compressed batch', async () => {
    const batch = await buildBatch(SAMPLE, { compression: Compression.LZ4 });
    expect(() => [...iterateRecords(batch)]).toThrow(/decompressed/);
    expect([...iterateRecords(batch, await decompressRecords(batch))]).toHaveLength(3);
  });

  it('applies the decompression limit', async () => {
    const batch = await buildBatch(SAMPLE, { compression: Compression.GZIP });
    await expect(readRecords(batch, 1000)).rejects.toThrow(ProtocolError);
  });
});

describe('malformed records are ProtocolErrors', () => {
  const withRecords = (records: number[], recordCount: number): Buffer => {
    const header = buildBatchSync([]);
    const batch = Buffer.concat([header, Buffer.from(records)]);
    batch.writeInt32BE(batch.length - 12, 8);
    batch.writeInt32BE(recordCount, 57);
    writeBatchCrc(batch);
    return batch;
  };
  const one = [0x10, 0x00, 0x00, 0x00, 0x02, 0x6b, 0x02, 0x76, 0x00]; // length 8: key "k", value "v", no headers

  it('accepts the well-formed base case', () => {
    expect(readRecordsSync(withRecords(one, 1))).toHaveLength(1);
  });

  const cases: [string, number[], number][] = [
    ['more records declared than present', one, 2],
    ['bytes left after the records', [...one, 0x00], 1],
    ['record length past the section', [0x20, ...one.slice(1)], 1],
    ['negative record length', [0x01, ...one.slice(1)], 1],
    ['bytes left inside a record', [0x12, 0x00, 0x00, 0x00, 0x02, 0x6b, 0x02, 0x76, 0x00, 0x00], 1],
    ['key length past the record', [0x10, 0x00, 0x00, 0x00, 0x0a, 0x6b, 0x02, 0x76, 0x00], 1],
    ['key length below -1', [0x10, 0x00, 0x00, 0x00, 0x03, 0x6b, 0x02, 0x76, 0x00], 1],
    ['negative header count', [0x10, 0x00, 0x00, 0x00, 0x02, 0x6b, 0x02, 0x76, 0x01], 1],
    ['null header key', [0x14, 0x00, 0x00, 0x00, 0x02, 0x6b, 0x02, 0x76, 0x02, 0x01, 0x01], 1],
    ['truncated varlong', [0x04, 0x00, 0xff], 1],
  ];
  for (const [name, records, count] of cases) {
    it(name, () => {
      expect(() => readRecordsSync(withRecords(records, count))).toThrow(ProtocolError);
    });
  }

  it('a batch shorter than its declared length', () => {
    const batch = buildBatchSync(SAMPLE);
    expect(() => readRecordsSync(batch.subarray(0, batch.length - 1))).toThrow(ProtocolError);
  });
});

describe('interop with kafkajs (a real client codec; none and gzip)', () => {
  const require = createRequire(import.meta.url);
  type KafkajsRecord = { key: Buffer | null; value: Buffer | null; timestamp: string; offset: string; headers: { [key: string]: Buffer } };
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
    RecordBatch: (args: object) => Promise<{ buffer: Buffer }>;
  };
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: object) => unknown;
  const Decoder = require('kafkajs/src/protocol/decoder') as new (buf: Buffer) => unknown;
  const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<{
    records: KafkajsRecord[];
    firstOffset: string;
  }>;
  const Long = require('kafkajs/src/utils/long') as { fromValue: (v: number) => unknown };

  for (const codec of [Compression.NONE, Compression.GZIP]) {
    it(`reads a kafkajs-encoded batch (codec ${codec})`, async () => {
      const encoded = await RecordBatch({
        compression: codec,
        firstOffset: Long.fromValue(500),
        firstTimestamp: 1_700_000_000_000,
        maxTimestamp: 1_700_000_000_020,
        lastOffsetDelta: 1,
        producerId: Long.fromValue(12),
        producerEpoch: 1,
        firstSequence: 3,
        records: [
          Record({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('a'), value: Buffer.from('1'), headers: { h: Buffer.from('x') } }),
          Record({ offsetDelta: 1, timestampDelta: 20, key: null, value: Buffer.from('2') }),
        ],
      });
      const batch = encoded.buffer;
      const split = splitBatches(batch);
      expect(split.ok).toBe(true);
      expect(readBatchHeader(batch)).toMatchObject({ baseOffset: 500, producerId: 12, baseSequence: 3, recordCount: 2 });
      expect(await readRecords(batch)).toEqual([
        { offset: 500, timestamp: 1_700_000_000_000, attributes: 0, key: Buffer.from('a'), value: Buffer.from('1'), headers: [{ key: 'h', value: Buffer.from('x') }] },
        { offset: 501, timestamp: 1_700_000_000_020, attributes: 0, key: null, value: Buffer.from('2'), headers: [] },
      ]);
    });

    it(`kafkajs reads our batch (codec ${codec})`, async () => {
      const batch = await buildBatch(SAMPLE, { compression: codec, baseOffset: 9 });
      const decoded = await decodeBatch(new Decoder(batch));
      expect(decoded.firstOffset).toBe('9');
      expect(decoded.records.map((r) => [r.offset, r.timestamp, r.key, r.value])).toEqual([
        ['9', '1700000000500', Buffer.from('k1'), Buffer.from('v1')],
        ['10', '1700000000000', null, null],
        ['11', '1700000009999', null, Buffer.alloc(5000, 0x61)],
      ]);
    });
  }
});

const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), { nil: null }),
  timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
  headers: fc.array(
    fc.record({ key: fc.string({ maxLength: 12 }), value: fc.option(fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)), { nil: null }) }),
    { maxLength: 4 },
  ),
});

describe('property: buildBatch -> readRecords is the identity', () => {
  it('for random records, codecs and batch fields', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(recordArb, { maxLength: 30 }),
        fc.constantFrom(...CODECS),
        fc.integer({ min: 0, max: 2 ** 50 }),
        fc.constantFrom<'raw' | 'xerial'>('raw', 'xerial'),
        async (records, codec, baseOffset, snappyFraming) => {
          const batch = await buildBatch(records, { compression: codec, baseOffset, compressOptions: { snappyFraming } });
          const split = splitBatches(batch);
          expect(split.ok).toBe(true);
          const h = readBatchHeader(batch);
          expect(h.recordCount).toBe(records.length);
          expect(h.baseOffset).toBe(baseOffset);
          const read = await readRecords(batch);
          expect(read).toEqual(
            records.map((r, i) => ({
              offset: baseOffset + i,
              timestamp: r.timestamp,
              attributes: 0,
              key: r.key ?? null,
              value: r.value,
              headers: r.headers,
            })),
          );
          if (records.length > 0) {
            expect(h.baseTimestamp).toBe(records[0]!.timestamp);
            expect(h.maxTimestamp).toBe(Math.max(...records.map((r) => r.timestamp!)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('fuzzing: only ProtocolError escapes the readers', () => {
  it('for random mutations of valid batches of every codec', async () => {
    const bases = await Promise.all(CODECS.map((codec) => buildBatch(SAMPLE.concat(SAMPLE), { compression: codec })));
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (base, flips, truncate) => {
          let batch = Buffer.from(base);
          for (const [at, xor] of flips) {
            const i = BATCH_HEADER_SIZE - 40 + (at % (batch.length - BATCH_HEADER_SIZE + 40)); // header tail and records
            batch[i]! ^= xor;
          }
          if (truncate) batch = batch.subarray(0, batch.length - 1 - (flips[0]![0] % 10));
          try {
            readRecordsSync(batch);
          } catch (e) {
            if (!(e instanceof ProtocolError)) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('for random bytes after a valid header', async () => {
    await loadCodecs();
    fc.assert(
      fc.property(fc.constantFrom(...CODECS), fc.uint8Array({ maxLength: 400 }), fc.integer({ min: -1, max: 50 }), (codec, bytes, count) => {
        const header = buildBatchSync([], { compression: codec });
        const batch = Buffer.concat([header, Buffer.from(bytes)]);
        batch.writeInt32BE(batch.length - 12, 8);
        batch.writeInt32BE(count, 57);
        try {
          readRecordsSync(batch);
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
