/**
 * Produce-time record validation over the wire (issue 9): a CRC-valid batch whose records do not parse is
 * refused and never reaches the log, so a kafkajs consumer reads the next good batch from offset 0; a
 * decompression bomb is refused; KIP-467 record errors and the partition error message are in Produce
 * v8+ responses and absent from v7.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { Produce } from '../../protocol/messages/produce.js';
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { ErrorCode } from '../../protocol/errors.js';
import { BATCH_HEADER_SIZE, Compression, LOG_OVERHEAD, Offsets, writeBatchCrc } from '../../protocol/records/batch.js';
import { buildBatch } from '../../protocol/records/record.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => broker.destroy());

function kafka(): Kafka {
  return new Kafka({ clientId: 'validation-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function produceRaw(topic: string, records: Buffer, version = 7) {
  const c = await RawClient.connect(broker.port);
  try {
    const res = await c.request(Produce, version, { acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
    return res.responses[0]!.partitionResponses[0]!;
  } finally {
    c.close();
  }
}

/** A one-record batch whose record length varint is wrong (the record's fields end before it), CRC fixed. */
async function garbageBatch(): Promise<Buffer> {
  const batch = await buildBatch([{ key: Buffer.from('k'), value: Buffer.from('garbage') }]);
  batch[BATCH_HEADER_SIZE] = batch[BATCH_HEADER_SIZE]! + 8; // zig-zag: the length grows by 4, still one byte
  writeBatchCrc(batch, 0);
  return batch;
}

/** A zstd frame without a content size holding one record of 1 GiB of zeros (RLE blocks): 32 KiB on the wire. */
function zstdBombBatch(): Buffer {
  const valueLength = 1 << 30;
  const zz = (v: number): number[] => {
    const out: number[] = [];
    let u = ((v << 1) ^ (v >> 31)) >>> 0;
    while (u >= 0x80) {
      out.push((u & 0x7f) | 0x80);
      u >>>= 7;
    }
    out.push(u);
    return out;
  };
  const head = [0, 0, 0, ...zz(-1), ...zz(valueLength)];
  const prefix = Buffer.from([...zz(head.length + valueLength + 1), ...head]);
  const block = (last: boolean, type: number, size: number): Buffer => {
    const v = (last ? 1 : 0) | (type << 1) | (size << 3);
    return Buffer.from([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff]);
  };
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3]), block(false, 0, prefix.length), prefix];
  for (let left = valueLength + 1; left > 0; ) {
    const n = Math.min(left, 128 * 1024);
    left -= n;
    parts.push(block(left === 0, 1, n), Buffer.from([0]));
  }
  const stored = Buffer.concat(parts);
  const header = Buffer.alloc(BATCH_HEADER_SIZE);
  header.writeInt32BE(BATCH_HEADER_SIZE + stored.length - LOG_OVERHEAD, Offsets.batchLength);
  header.writeInt8(2, Offsets.magic);
  header.writeInt16BE(Compression.ZSTD, Offsets.attributes);
  header.writeBigInt64BE(-1n, Offsets.producerId);
  header.writeInt16BE(-1, Offsets.producerEpoch);
  header.writeInt32BE(-1, Offsets.baseSequence);
  header.writeInt32BE(1, Offsets.recordCount);
  const batch = Buffer.concat([header, stored]);
  writeBatchCrc(batch, 0);
  return batch;
}

describe('garbage records are refused before they reach the log', () => {
  it('a CRC-valid batch whose record does not parse is INVALID_RECORD; kafkajs then consumes the next good batch from offset 0', async () => {
    const topic = 'garbage-then-good';
    await broker.broker.createTopic(topic, 1, 1, new Map());
    const refused = await produceRaw(topic, await garbageBatch());
    expect(refused.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(broker.broker.getPartition(topic, 0)!.logEndOffset).toBe(0);

    const producer = kafka().producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k', value: 'good' }] });
    await producer.disconnect();

    const seen: { offset: string; value: string }[] = [];
    const consumer = kafka().consumer({ groupId: 'validation-group', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push({ offset: message.offset, value: message.value?.toString() ?? '' });
      },
    });
    try {
      await waitFor('the good record', () => seen.length >= 1);
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toEqual([{ offset: '0', value: 'good' }]);
  }, 60_000);

  it('a zstd batch that decompresses to 1 GiB is CORRUPT_MESSAGE, appends nothing, and the broker keeps serving', async () => {
    const topic = 'zstd-bomb';
    await broker.broker.createTopic(topic, 1, 1, new Map());
    const bomb = zstdBombBatch();
    expect(bomb.length).toBeLessThan(64 * 1024);
    const r = await produceRaw(topic, bomb, 8);
    expect(r.errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(r.errorMessage).toMatch(/exceeds the \d+-byte limit/);
    expect(broker.broker.getPartition(topic, 0)!.logEndOffset).toBe(0);
    const c = await RawClient.connect(broker.port);
    expect((await c.request(ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' })).errorCode).toBe(ErrorCode.NONE);
    c.close();
  });
});

describe('KIP-467: Produce v8+ names the failing records', () => {
  const topic = 'kip467-compacted';
  const message = `Compacted topic cannot accept message without key in topic partition ${topic}-0`;

  beforeAll(async () => {
    await broker.broker.createTopic(topic, 1, 1, new Map([['cleanup.policy', 'compact']]));
  });

  const keylessInTheMiddle = () => buildBatch([{ key: Buffer.from('a'), value: Buffer.from('1') }, { key: null, value: Buffer.from('2') }, { key: Buffer.from('c'), value: Buffer.from('3') }]);

  for (const version of [8, 9, 11]) {
    it(`v${version}: record_errors lists the keyless record by index, error_message summarises`, async () => {
      const r = await produceRaw(topic, await keylessInTheMiddle(), version);
      expect(r.errorCode).toBe(ErrorCode.INVALID_RECORD);
      expect(r.recordErrors).toEqual([{ batchIndex: 1, batchIndexErrorMessage: message }]);
      expect(r.errorMessage).toBe(
        `One or more records have been rejected due to 1 record errors in total, and only showing the first three errors at most: [RecordError(batchIndex=1, message='${message}')]`,
      );
      expect(r.baseOffset).toBe(-1n);
      expect(r.logStartOffset).toBe(0n);
      expect(broker.broker.getPartition(topic, 0)!.logEndOffset).toBe(0);
    });
  }

  it('v7 answers INVALID_RECORD without the fields (the raw client refuses trailing bytes)', async () => {
    const r = await produceRaw(topic, await keylessInTheMiddle(), 7);
    expect(r.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(r.recordErrors).toEqual([]);
    expect(r.errorMessage).toBeNull();
  });

  it('timestamps outside message.timestamp.before.max.ms: INVALID_TIMESTAMP with the record errors', async () => {
    const t = 'kip937-before';
    await broker.broker.createTopic(t, 1, 1, new Map([['message.timestamp.before.max.ms', '3600000']]));
    const now = Date.now();
    const batch = await buildBatch([{ key: null, value: Buffer.from('fresh'), timestamp: now }, { key: null, value: Buffer.from('old'), timestamp: now - 7_200_000 }]);
    const r = await produceRaw(t, batch, 9);
    expect(r.errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(r.errorMessage).toBe('One or more records have been rejected due to invalid timestamp');
    expect(r.recordErrors.map((e) => e.batchIndex)).toEqual([1]);
    expect(r.recordErrors[0]!.batchIndexErrorMessage).toMatch(new RegExp(`^Timestamp ${now - 7_200_000} of message with offset 1 is out of range\\. The timestamp should be within \\[\\d+, \\+inf\\]$`));
    const ok = await produceRaw(t, await buildBatch([{ key: null, value: Buffer.from('fresh'), timestamp: Date.now() }]), 9);
    expect(ok.errorCode).toBe(ErrorCode.NONE);
  });
});
