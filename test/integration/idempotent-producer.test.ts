/**
 * Idempotent producers (KIP-98) over the wire, one named test per rule of src/broker/producer-state.ts,
 * with batches built by hand (producer id, epoch, base sequence) and sent by the raw client; InitProducerId;
 * producer state across restarts (snapshot, and a rebuild from the log alone) and truncation; and kafkajs's
 * own idempotent producer.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { InitProducerId } from '../../protocol/messages/init-producer-id.js';
import { Produce } from '../../protocol/messages/produce.js';
import { ErrorCode } from '../../protocol/errors.js';
import { buildBatch, type BuildBatchOptions } from '../../protocol/records/record.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const INT32_MAX = 0x7fffffff;
let broker: TestBroker;
let client: RawClient;
let topicCount = 0;

beforeAll(async () => {
  broker = await startTestBroker();
  client = await RawClient.connect(broker.port);
});
afterAll(async () => {
  client.close();
  await broker.destroy();
});

async function newTopic(b: TestBroker = broker, configs: Record<string, string> = {}): Promise<string> {
  const name = `idem-${++topicCount}`;
  await b.broker.createTopic(name, 1, 1, new Map(Object.entries(configs)));
  return name;
}

/**
 * A batch of `count` records from producer `producerId`/`producerEpoch` starting at `baseSequence`, stamped
 * now (a producer whose last batch is older than producer.id.expiration.ms is forgotten on restart).
 */
function batch(count: number, opts: BuildBatchOptions, timestamp = Date.now()): Promise<Buffer> {
  const records = Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`), timestamp: timestamp + i }));
  return buildBatch(records, opts);
}

async function produce(topic: string, records: Buffer, c: RawClient = client, version = 9): Promise<{ errorCode: number; baseOffset: number }> {
  const res = await c.request(Produce, version, { acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
  const p = res.responses[0]!.partitionResponses[0]!;
  return { errorCode: p.errorCode, baseOffset: Number(p.baseOffset) };
}

function leo(topic: string, b: TestBroker = broker): number {
  return b.broker.getPartition(topic, 0)!.logEndOffset;
}

describe('idempotent produce: sequence and epoch rules', () => {
  it('appends in-sequence batches and answers a retried batch with its original base offset, appending nothing', async () => {
    const topic = await newTopic();
    const first = await batch(3, { producerId: 7, producerEpoch: 0, baseSequence: 0 });
    expect(await produce(topic, first)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect(await produce(topic, await batch(2, { producerId: 7, producerEpoch: 0, baseSequence: 3 }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 3 });
    const retry = await batch(3, { producerId: 7, producerEpoch: 0, baseSequence: 0 });
    expect(await produce(topic, retry)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect(leo(topic)).toBe(5);
  });

  it('recognises a retry of any of the last five batches, and not of the sixth before the last', async () => {
    const topic = await newTopic();
    for (let i = 0; i < 6; i++) {
      expect(await produce(topic, await batch(1, { producerId: 8, producerEpoch: 0, baseSequence: i }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: i });
    }
    // batches with sequences 1..5 are retained: each retry gets its original offset
    for (let i = 1; i < 6; i++) {
      expect(await produce(topic, await batch(1, { producerId: 8, producerEpoch: 0, baseSequence: i }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: i });
    }
    // sequence 0 is no longer retained: neither duplicate nor next in sequence
    expect((await produce(topic, await batch(1, { producerId: 8, producerEpoch: 0, baseSequence: 0 }))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(leo(topic)).toBe(6);
  });

  it('a retry must match the original batch range: same first sequence with another length is out of order', async () => {
    const topic = await newTopic();
    await produce(topic, await batch(3, { producerId: 9, producerEpoch: 0, baseSequence: 0 }));
    expect((await produce(topic, await batch(2, { producerId: 9, producerEpoch: 0, baseSequence: 0 }))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(leo(topic)).toBe(3);
  });

  it('answers OUT_OF_ORDER_SEQUENCE_NUMBER (45) for a gap and appends nothing', async () => {
    const topic = await newTopic();
    await produce(topic, await batch(2, { producerId: 10, producerEpoch: 0, baseSequence: 0 }));
    const r = await produce(topic, await batch(1, { producerId: 10, producerEpoch: 0, baseSequence: 5 }));
    expect(r.errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(r.baseOffset).toBe(-1);
    expect(leo(topic)).toBe(2);
    // the producer can still continue in sequence
    expect(await produce(topic, await batch(1, { producerId: 10, producerEpoch: 0, baseSequence: 2 }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 2 });
  });

  it('answers INVALID_PRODUCER_EPOCH (47) for an epoch older than the last seen, even at the next sequence', async () => {
    const topic = await newTopic();
    await produce(topic, await batch(1, { producerId: 11, producerEpoch: 3, baseSequence: 0 }));
    expect((await produce(topic, await batch(1, { producerId: 11, producerEpoch: 2, baseSequence: 1 }))).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    // also for what would be a duplicate under the old epoch
    expect((await produce(topic, await batch(1, { producerId: 11, producerEpoch: 2, baseSequence: 0 }))).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(leo(topic)).toBe(1);
  });

  it('accepts a bumped epoch starting at sequence 0 and refuses one starting elsewhere (45)', async () => {
    const topic = await newTopic();
    await produce(topic, await batch(4, { producerId: 12, producerEpoch: 0, baseSequence: 0 }));
    expect((await produce(topic, await batch(1, { producerId: 12, producerEpoch: 1, baseSequence: 4 }))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(await produce(topic, await batch(2, { producerId: 12, producerEpoch: 1, baseSequence: 0 }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 4 });
    // the old epoch is now fenced, and the new epoch's sequence continues
    expect((await produce(topic, await batch(1, { producerId: 12, producerEpoch: 0, baseSequence: 4 }))).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(await produce(topic, await batch(1, { producerId: 12, producerEpoch: 1, baseSequence: 2 }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 6 });
    // the bump cleared the old epoch's batches: the epoch-0 batch is no duplicate under epoch 1
    expect((await produce(topic, await batch(4, { producerId: 12, producerEpoch: 1, baseSequence: 0 }))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  });

  it('accepts an unknown producer at any sequence, as Kafka 2.5+ does (no UNKNOWN_PRODUCER_ID)', async () => {
    const topic = await newTopic();
    expect(await produce(topic, await batch(1, { producerId: 13, producerEpoch: 4, baseSequence: 1234 }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect((await produce(topic, await batch(1, { producerId: 13, producerEpoch: 4, baseSequence: 1236 }))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(await produce(topic, await batch(1, { producerId: 13, producerEpoch: 4, baseSequence: 1235 }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 1 });
  });

  it('wraps sequences at Int32 max: the batch after one ending at 2147483647 starts at 0', async () => {
    const topic = await newTopic();
    expect((await produce(topic, await batch(2, { producerId: 14, producerEpoch: 0, baseSequence: INT32_MAX - 1 }))).errorCode).toBe(ErrorCode.NONE);
    // last sequence 2147483647: neither 1 nor 2147483648 (not an Int32) follows it, only 0
    expect((await produce(topic, await batch(1, { producerId: 14, producerEpoch: 0, baseSequence: 1 }))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(await produce(topic, await batch(3, { producerId: 14, producerEpoch: 0, baseSequence: 0 }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 2 });
    // a batch that itself wraps (sequences 2147483647, 0, 1), from another producer first seen there
    expect(await produce(topic, await batch(3, { producerId: 15, producerEpoch: 0, baseSequence: INT32_MAX }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 5 });
    // its last sequence is 1, so the next batch starts at 2, and a retry of it is a duplicate
    expect(await produce(topic, await batch(3, { producerId: 15, producerEpoch: 0, baseSequence: INT32_MAX }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 5 });
    expect((await produce(topic, await batch(1, { producerId: 15, producerEpoch: 0, baseSequence: 0 }))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(await produce(topic, await batch(1, { producerId: 15, producerEpoch: 0, baseSequence: 2 }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 8 });
  });

  it('skips every check for producer id -1 (kafkajs sends epoch 0, sequence 0 in every batch)', async () => {
    const topic = await newTopic();
    for (let i = 0; i < 3; i++) {
      expect(await produce(topic, await batch(2, { producerId: -1, producerEpoch: 0, baseSequence: 0 }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 2 * i });
    }
    expect(await produce(topic, await batch(1, {}))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 6 });
    expect(leo(topic)).toBe(7);
  });

  it('answers INVALID_RECORD for a producer id with a negative base sequence (Kafka LogValidator)', async () => {
    const topic = await newTopic();
    expect((await produce(topic, await batch(1, { producerId: 16, producerEpoch: 0, baseSequence: -1 }))).errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(leo(topic)).toBe(0);
  });

  it('answers INVALID_TXN_STATE for a transactional batch: no transaction can be ongoing', async () => {
    const topic = await newTopic();
    expect((await produce(topic, await batch(1, { producerId: 17, producerEpoch: 0, baseSequence: 0, transactional: true }))).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(leo(topic)).toBe(0);
  });

  it('keeps producers apart; a request with two batches for one partition is refused whole, as Kafka refuses it', async () => {
    const topic = await newTopic();
    const first = await batch(2, { producerId: 18, producerEpoch: 0, baseSequence: 0 });
    const second = await batch(2, { producerId: 18, producerEpoch: 0, baseSequence: 2 });
    // LogValidator: a v2 produce carries one batch per partition ("Compressed outer record has more than one batch").
    expect(await produce(topic, Buffer.concat([first, second]))).toEqual({ errorCode: ErrorCode.INVALID_RECORD, baseOffset: -1 });
    expect(leo(topic)).toBe(0);
    expect(await produce(topic, first)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect(await produce(topic, second)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 2 });
    expect(await produce(topic, await batch(1, { producerId: 19, producerEpoch: 0, baseSequence: 0 }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 4 });
    expect(await produce(topic, await batch(1, { producerId: 18, producerEpoch: 0, baseSequence: 4 }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 5 });
    expect((await produce(topic, await batch(1, { producerId: 19, producerEpoch: 0, baseSequence: 3 }))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(leo(topic)).toBe(6);
  });

  it('appends a batch sent at once on two connections exactly once; both answers carry its offset', async () => {
    const topic = await newTopic();
    await produce(topic, await batch(1, { producerId: 20, producerEpoch: 0, baseSequence: 0 }));
    const other = await RawClient.connect(broker.port);
    const bytes = await batch(5, { producerId: 20, producerEpoch: 0, baseSequence: 1 });
    const [a, b] = await Promise.all([produce(topic, Buffer.from(bytes)), produce(topic, Buffer.from(bytes), other)]);
    other.close();
    expect(a).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 1 });
    expect(b).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 1 });
    expect(leo(topic)).toBe(6);
  });

  it('answers a duplicate on a LogAppendTime topic with the original append time', async () => {
    const topic = await newTopic(broker, { 'message.timestamp.type': 'LogAppendTime' });
    const send = async (): Promise<{ errorCode: number; baseOffset: number; logAppendTimeMs: number }> => {
      const res = await client.request(Produce, 9, {
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records: await batch(1, { producerId: 21, producerEpoch: 0, baseSequence: 0 }) }] }],
      });
      const p = res.responses[0]!.partitionResponses[0]!;
      return { errorCode: p.errorCode, baseOffset: Number(p.baseOffset), logAppendTimeMs: Number(p.logAppendTimeMs) };
    };
    const first = await send();
    await new Promise((r) => setTimeout(r, 5));
    const retry = await send();
    expect(first.logAppendTimeMs).toBeGreaterThan(0);
    expect(retry).toEqual(first);
  });
});

describe('InitProducerId', () => {
  it('is advertised as versions 0-4, without the transaction APIs', async () => {
    const res = await client.request(ApiVersions, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    const key = res.apiKeys.find((k) => k.apiKey === 22);
    expect(key && [key.minVersion, key.maxVersion]).toEqual([0, 4]);
    for (const txnKey of [24, 25, 26, 28]) expect(res.apiKeys.some((k) => k.apiKey === txnKey)).toBe(false);
  });

  it('gives every idempotent producer a new id with epoch 0, at every version', async () => {
    const ids: bigint[] = [];
    for (let v = 0; v <= 4; v++) {
      const res = await client.request(InitProducerId, v, { transactionalId: null, transactionTimeoutMs: 60000 });
      expect(res.errorCode).toBe(ErrorCode.NONE);
      expect(res.producerEpoch).toBe(0);
      ids.push(res.producerId);
    }
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });

  it('ignores the current id and epoch of an idempotent producer (Kafka: a fresh id, epoch 0)', async () => {
    const first = await client.request(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000 });
    const again = await client.request(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: first.producerId, producerEpoch: 0 });
    expect(again.errorCode).toBe(ErrorCode.NONE);
    expect(again.producerId > first.producerId).toBe(true);
    expect(again.producerEpoch).toBe(0);
  });

  it('answers INVALID_REQUEST when only one of producer id and epoch is set', async () => {
    expect((await client.request(InitProducerId, 3, { transactionalId: null, transactionTimeoutMs: 60000, producerId: 5n, producerEpoch: -1 })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await client.request(InitProducerId, 3, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: 2 })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('keeps a transactional id\'s producer id and bumps its epoch on each init (fencing older instances)', async () => {
    const a = await client.request(InitProducerId, 2, { transactionalId: 'txn-a', transactionTimeoutMs: 60000 });
    expect(a.errorCode).toBe(ErrorCode.NONE);
    expect(a.producerEpoch).toBe(0);
    const b = await client.request(InitProducerId, 2, { transactionalId: 'txn-a', transactionTimeoutMs: 60000 });
    expect(b).toMatchObject({ errorCode: ErrorCode.NONE, producerId: a.producerId, producerEpoch: 1 });
    // the fenced instance's batches are refused
    const topic = await newTopic();
    await produce(topic, await batch(1, { producerId: Number(b.producerId), producerEpoch: 1, baseSequence: 0 }));
    expect((await produce(topic, await batch(1, { producerId: Number(a.producerId), producerEpoch: 0, baseSequence: 0 }))).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it('applies KIP-360 to a transactional id: current epoch bumps, a retry repeats, a stale one is fenced', async () => {
    const first = await client.request(InitProducerId, 4, { transactionalId: 'txn-b', transactionTimeoutMs: 60000 });
    const pid = first.producerId;
    const bumped = await client.request(InitProducerId, 4, { transactionalId: 'txn-b', transactionTimeoutMs: 60000, producerId: pid, producerEpoch: 0 });
    expect(bumped).toMatchObject({ errorCode: ErrorCode.NONE, producerId: pid, producerEpoch: 1 });
    // the same request again (its answer lost): the current epoch, not bumped again
    const retried = await client.request(InitProducerId, 4, { transactionalId: 'txn-b', transactionTimeoutMs: 60000, producerId: pid, producerEpoch: 0 });
    expect(retried).toMatchObject({ errorCode: ErrorCode.NONE, producerId: pid, producerEpoch: 1 });
    await client.request(InitProducerId, 4, { transactionalId: 'txn-b', transactionTimeoutMs: 60000 }); // epoch 2, another instance
    expect((await client.request(InitProducerId, 4, { transactionalId: 'txn-b', transactionTimeoutMs: 60000, producerId: pid, producerEpoch: 0 })).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await client.request(InitProducerId, 3, { transactionalId: 'txn-b', transactionTimeoutMs: 60000, producerId: pid, producerEpoch: 0 })).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect((await client.request(InitProducerId, 4, { transactionalId: 'txn-b', transactionTimeoutMs: 60000, producerId: pid + 1000n, producerEpoch: 2 })).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('refuses an empty transactional id (INVALID_REQUEST) and a bad transaction timeout (INVALID_TRANSACTION_TIMEOUT)', async () => {
    expect((await client.request(InitProducerId, 1, { transactionalId: '', transactionTimeoutMs: 60000 })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await client.request(InitProducerId, 1, { transactionalId: 'txn-c', transactionTimeoutMs: 0 })).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await client.request(InitProducerId, 1, { transactionalId: 'txn-c', transactionTimeoutMs: 900001 })).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
  });
});

describe('producer state across restarts and truncation', () => {
  it('never hands out a producer id twice across restarts, and keeps transactional ids', async () => {
    let b = await startTestBroker();
    try {
      let c = await RawClient.connect(b.port);
      const before = await c.request(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000 });
      const txn = await c.request(InitProducerId, 4, { transactionalId: 'keep-me', transactionTimeoutMs: 60000 });
      c.close();
      b = await b.restart();
      c = await RawClient.connect(b.port);
      const after = await c.request(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000 });
      const txnAfter = await c.request(InitProducerId, 4, { transactionalId: 'keep-me', transactionTimeoutMs: 60000 });
      c.close();
      expect(after.producerId > before.producerId).toBe(true);
      expect(after.producerId > txn.producerId).toBe(true);
      expect(txnAfter).toMatchObject({ producerId: txn.producerId, producerEpoch: txn.producerEpoch + 1 });
    } finally {
      await b.destroy();
    }
  });

  it('answers a batch retried after a clean restart as a duplicate (from the shutdown snapshot)', async () => {
    let b = await startTestBroker();
    try {
      const topic = await newTopic(b);
      let c = await RawClient.connect(b.port);
      for (let i = 0; i < 4; i++) await produce(topic, await batch(2, { producerId: 30, producerEpoch: 0, baseSequence: 2 * i }), c);
      c.close();
      b = await b.restart();
      const files = await readdir(join(b.dataDir, `${topic}-0`));
      expect(files).toContain('00000000000000000008.snapshot');
      c = await RawClient.connect(b.port);
      // each of the in-flight window's batches is still a duplicate
      for (let i = 0; i < 4; i++) {
        expect(await produce(topic, await batch(2, { producerId: 30, producerEpoch: 0, baseSequence: 2 * i }), c)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 2 * i });
      }
      expect((await produce(topic, await batch(1, { producerId: 30, producerEpoch: 0, baseSequence: 9 }), c)).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      expect(await produce(topic, await batch(1, { producerId: 30, producerEpoch: 0, baseSequence: 8 }), c)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 8 });
      c.close();
      expect(leo(topic, b)).toBe(9);
    } finally {
      await b.destroy();
    }
  });

  it('rebuilds the state from batch headers when no snapshot is left (as after a crash)', async () => {
    let b = await startTestBroker();
    try {
      const topic = await newTopic(b);
      let c = await RawClient.connect(b.port);
      await produce(topic, await batch(3, { producerId: 31, producerEpoch: 2, baseSequence: 0 }), c);
      await produce(topic, await batch(3, { producerId: 32, producerEpoch: 0, baseSequence: 0 }), c);
      await produce(topic, await batch(3, { producerId: 31, producerEpoch: 2, baseSequence: 3 }), c);
      c.close();
      await b.stop();
      const dir = join(b.dataDir, `${topic}-0`);
      for (const f of await readdir(dir)) if (f.endsWith('.snapshot')) await rm(join(dir, f));
      b = await startTestBroker({}, b.dataDir);
      c = await RawClient.connect(b.port);
      expect(await produce(topic, await batch(3, { producerId: 31, producerEpoch: 2, baseSequence: 3 }), c)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 6 });
      expect(await produce(topic, await batch(3, { producerId: 32, producerEpoch: 0, baseSequence: 0 }), c)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 3 });
      expect((await produce(topic, await batch(1, { producerId: 31, producerEpoch: 1, baseSequence: 6 }), c)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
      c.close();
      expect(leo(topic, b)).toBe(9);
    } finally {
      await b.destroy();
    }
  });

  it('forgets, on restart, a producer whose last batch is older than producer.id.expiration.ms', async () => {
    let b = await startTestBroker({ 'producer.id.expiration.ms': '3600000' });
    try {
      const topic = await newTopic(b);
      let c = await RawClient.connect(b.port);
      await produce(topic, await batch(1, { producerId: 35, producerEpoch: 0, baseSequence: 0 }, Date.now() - 7_200_000), c);
      await produce(topic, await batch(1, { producerId: 36, producerEpoch: 0, baseSequence: 0 }), c);
      c.close();
      b = await b.restart();
      c = await RawClient.connect(b.port);
      // producer 35 is unknown again (its retry is appended), producer 36 is remembered
      expect(await produce(topic, await batch(1, { producerId: 35, producerEpoch: 0, baseSequence: 0 }), c)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 2 });
      expect(await produce(topic, await batch(1, { producerId: 36, producerEpoch: 0, baseSequence: 0 }), c)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 1 });
      c.close();
    } finally {
      await b.destroy();
    }
  });

  it('writes a snapshot when a segment rolls, and keeps only the newest three', async () => {
    const b = await startTestBroker();
    try {
      const topic = await newTopic(b, { 'segment.bytes': '400' });
      const c = await RawClient.connect(b.port);
      for (let i = 0; i < 30; i++) expect((await produce(topic, await batch(2, { producerId: 33, producerEpoch: 0, baseSequence: 2 * i }), c)).errorCode).toBe(ErrorCode.NONE);
      c.close();
      const p = b.broker.getPartition(topic, 0)!;
      expect(p.log.numberOfSegments).toBeGreaterThan(3);
      // Snapshots are written after the produce is answered: poll (with a deadline) for the files to settle.
      const list = async (): Promise<string[]> => (await readdir(p.log.dir)).filter((f) => f.endsWith('.snapshot'));
      let snapshots = await list();
      for (const deadline = Date.now() + 10_000; snapshots.length !== 3 && Date.now() < deadline; snapshots = await list()) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(snapshots.length).toBe(3);
      for (const s of snapshots) expect(Number(s.slice(0, 20))).toBeGreaterThan(0);
    } finally {
      await b.destroy();
    }
  });

  it('forgets batches removed by a truncation: a retry of one is appended again', async () => {
    const topic = await newTopic();
    await produce(topic, await batch(2, { producerId: 34, producerEpoch: 0, baseSequence: 0 }));
    await produce(topic, await batch(2, { producerId: 34, producerEpoch: 0, baseSequence: 2 }));
    await broker.broker.getPartition(topic, 0)!.truncateTo(2);
    expect(leo(topic)).toBe(2);
    expect(await produce(topic, await batch(2, { producerId: 34, producerEpoch: 0, baseSequence: 2 }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 2 });
    expect(await produce(topic, await batch(2, { producerId: 34, producerEpoch: 0, baseSequence: 0 }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    await broker.broker.getPartition(topic, 0)!.truncateFullyAndStartAt(10);
    // the producer is unknown again: any sequence is accepted
    expect(await produce(topic, await batch(1, { producerId: 34, producerEpoch: 0, baseSequence: 40 }))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 10 });
  });
});

describe('kafkajs idempotent producer', () => {
  it('initialises a producer id and sends sequenced batches that are all accepted', async () => {
    const topic = await newTopic();
    const kafka = new Kafka({ clientId: 'idem-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < 5; i++) {
      const [meta] = await producer.send({ topic, acks: -1, messages: [{ value: `a${i}` }, { value: `b${i}` }] });
      expect(meta!.errorCode).toBe(0);
      expect(meta!.baseOffset).toBe(String(2 * i));
    }
    await producer.disconnect();
    expect(leo(topic)).toBe(10);
  });
});
