/**
 * Internal topics and DeleteTopics on the wire (issue 9):
 * - Produce from a client into an internal topic is INVALID_TOPIC_EXCEPTION (Kafka's ReplicaManager:
 *   "Cannot append to internal topic", sent without a message as Kafka does), and DeleteTopics of one is
 *   refused, so no client can wipe every group's committed offsets.
 * - A Produce or a long-polling Fetch on a partition whose topic is deleted meanwhile is answered
 *   UNKNOWN_TOPIC_OR_PARTITION, as Kafka does: no KAFKA_STORAGE_ERROR, no dropped connection, and the
 *   waiting fetch is woken by the deletion instead of sleeping out its max wait.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteTopics } from '../../protocol/messages/delete-topics.js';
import { Fetch } from '../../protocol/messages/fetch.js';
import { FindCoordinator } from '../../protocol/messages/find-coordinator.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { Produce } from '../../protocol/messages/produce.js';
import { ListOffsets } from '../../protocol/messages/list-offsets.js';
import { DeleteRecords } from '../../protocol/messages/delete-records.js';
import { ErrorCode } from '../../protocol/errors.js';
import { NULL_UUID } from '../../protocol/primitives.js';
import { buildBatch } from '../../protocol/records/record.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: TestBroker;
let c: RawClient;

beforeAll(async () => {
  broker = await startTestBroker({ 'offsets.topic.num.partitions': '2' });
  c = await RawClient.connect(broker.port);
});
afterAll(async () => {
  c.close();
  await broker.destroy();
});

/** Keyed records, so that a compacted topic such as __consumer_offsets would take them but for the rule tested. */
async function batch(count = 1, size = 10): Promise<Buffer> {
  return buildBatch(Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.alloc(size, 0x61) })));
}

async function ensureOffsetsTopic(): Promise<void> {
  const res = await c.request(FindCoordinator, 3, { key: 'g-internal', keyType: 0 });
  expect(res.errorCode).toBe(ErrorCode.NONE);
  expect((broker.broker.image.topic('__consumer_offsets') !== undefined)).toBe(true);
}

describe('internal topics', () => {
  it('Produce into __consumer_offsets is INVALID_TOPIC_EXCEPTION and appends nothing', async () => {
    await ensureOffsetsTopic();
    const before = broker.broker.getPartition('__consumer_offsets', 0)!.logEndOffset;
    for (const version of [3, 8, 9, 11]) {
      const res = await c.request(Produce, version, { acks: -1, timeoutMs: 5000, topicData: [{ name: '__consumer_offsets', partitionData: [{ index: 0, records: await batch() }] }] });
      const p = res.responses[0]!.partitionResponses[0]!;
      expect(p.errorCode, `v${version}`).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
      expect(p.baseOffset).toBe(-1n);
      // Kafka builds the LogAppendResult with hasCustomErrorMessage = false: the message stays on the broker.
      if (version >= 8) expect(p.errorMessage).toBeNull();
    }
    expect(broker.broker.getPartition('__consumer_offsets', 0)!.logEndOffset).toBe(before);
  });

  it('acks=0 Produce into __consumer_offsets closes the connection (the only signal acks=0 has)', async () => {
    await ensureOffsetsTopic();
    const own = await RawClient.connect(broker.port);
    own.sendRaw(own.encodeRequest(Produce, 9, { acks: 0, timeoutMs: 5000, topicData: [{ name: '__consumer_offsets', partitionData: [{ index: 1, records: await batch() }] }] }));
    expect(await own.nextFrame()).toBeNull();
    own.close();
  });

  it('Metadata marks only Kafka\'s internal topics isInternal (not any name starting with "__")', async () => {
    await ensureOffsetsTopic();
    await broker.broker.createTopic('__not_internal', 1, 1, new Map());
    const res = await c.request(Metadata, 12, { topics: [{ name: '__consumer_offsets', topicId: NULL_UUID }, { name: '__not_internal', topicId: NULL_UUID }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(res.topics.map((t) => [t.name, t.isInternal])).toEqual([['__consumer_offsets', true], ['__not_internal', false]]);
    // And an ordinary topic whose name starts with "__" takes produce as any other.
    const p = await c.request(Produce, 9, { acks: -1, timeoutMs: 5000, topicData: [{ name: '__not_internal', partitionData: [{ index: 0, records: await batch() }] }] });
    expect(p.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NONE);
  });

  for (const version of [1, 5, 6]) {
    it(`DeleteTopics v${version} of __consumer_offsets is refused and the topic (and its offsets) stay`, async () => {
      await ensureOffsetsTopic();
      const topicId = broker.broker.image.topic('__consumer_offsets')!.topicId;
      const body = version >= 6 ? { topics: [{ name: '__consumer_offsets', topicId: NULL_UUID }], timeoutMs: 5000 } : { topicNames: ['__consumer_offsets'], timeoutMs: 5000 };
      const res = await c.request(DeleteTopics, version, body);
      const r = res.responses[0]!;
      expect(r.errorCode).toBe(ErrorCode.INVALID_REQUEST);
      if (version >= 5) expect(r.errorMessage).toBe('Topic __consumer_offsets is a kafka internal topic and is not allowed to be marked for deletion.');
      expect(broker.broker.image.topic('__consumer_offsets')?.topicId).toBe(topicId);
    });
  }

  it('DeleteTopics v6 by topic id of __consumer_offsets is refused too', async () => {
    await ensureOffsetsTopic();
    const topicId = broker.broker.image.topic('__consumer_offsets')!.topicId;
    const res = await c.request(DeleteTopics, 6, { topics: [{ name: null, topicId }], timeoutMs: 5000 });
    expect(res.responses[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(broker.broker.image.topic('__consumer_offsets')?.topicId).toBe(topicId);
  });
});

describe('races with DeleteTopics', () => {
  it('a long-polling Fetch on a topic deleted meanwhile returns at once with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const name = 'race-fetch';
    await broker.broker.createTopic(name, 2, 1, new Map());
    const fetcher = await RawClient.connect(broker.port);
    const waitMs = 120_000;
    const fetching = fetcher.request(Fetch, 12, {
      replicaId: -1, maxWaitMs: waitMs, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: name, partitions: [0, 1].map((partition) => ({ partition, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 })) }],
      forgottenTopicsData: [], rackId: '',
    });
    // The fetch is parked in the purgatory before the topic goes.
    const deadline = Date.now() + 10_000;
    while (broker.broker.replicaManager.purgatory.size === 0) {
      if (Date.now() > deadline) throw new Error('the fetch never waited in the purgatory');
      await new Promise((r) => setImmediate(r));
    }
    const started = Date.now();
    const del = await c.request(DeleteTopics, 6, { topics: [{ name, topicId: NULL_UUID }], timeoutMs: 5000 });
    expect(del.responses[0]!.errorCode).toBe(ErrorCode.NONE);
    // RawClient gives up after 10 s, far below the 120 s max wait: only a woken fetch gets here.
    const res = await fetching;
    expect(Date.now() - started).toBeLessThan(waitMs);
    const parts = res.responses[0]!.partitions;
    expect(parts.map((p) => p.errorCode)).toEqual([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    expect(parts.map((p) => p.highWatermark)).toEqual([-1n, -1n]);
    expect(broker.broker.replicaManager.purgatory.size).toBe(0);
    expect(fetcher.closed).toBe(false);
    fetcher.close();
  });

  it('Produce racing DeleteTopics: every answer is NONE or UNKNOWN_TOPIC_OR_PARTITION, never KAFKA_STORAGE_ERROR, and the connection stays', async () => {
    const records = await batch(50, 200);
    for (let round = 0; round < 5; round++) {
      const name = `race-produce-${round}`;
      await broker.broker.createTopic(name, 1, 1, new Map());
      const producer = await RawClient.connect(broker.port);
      const pipelined = 60;
      const answers = Array.from({ length: pipelined }, () =>
        producer.request(Produce, 9, { acks: -1, timeoutMs: 5000, topicData: [{ name, partitionData: [{ index: 0, records }] }] }),
      );
      // Delete as soon as the first append is acknowledged: the rest are queued behind it or mid-append.
      await answers[0];
      const deleting = broker.broker.deleteTopic(name);
      const codes = (await Promise.all(answers)).map((r) => r.responses[0]!.partitionResponses[0]!.errorCode);
      await deleting;
      expect(new Set(codes.filter((code) => code !== ErrorCode.NONE && code !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)), `round ${round}: ${codes.join(',')}`).toEqual(new Set());
      expect(codes[0]).toBe(ErrorCode.NONE);
      expect(producer.closed).toBe(false);
      // After the deletion the topic is unknown to later produces on the same connection.
      const after = await producer.request(Produce, 9, { acks: -1, timeoutMs: 5000, topicData: [{ name, partitionData: [{ index: 0, records }] }] });
      expect(after.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      producer.close();
    }
  });

  it('an append in flight when the topic\'s log is deleted is UNKNOWN_TOPIC_OR_PARTITION', async () => {
    // Deterministic: the topic is removed and its log deleted between the handler finding the partition
    // and the append reaching the log, by deleting from inside the partition's own append path.
    const name = 'race-inflight';
    await broker.broker.createTopic(name, 1, 1, new Map());
    const partition = broker.broker.getPartition(name, 0)!;
    const append = partition.appendAsLeader.bind(partition);
    partition.appendAsLeader = async (records: Buffer) => {
      await broker.broker.deleteTopic(name);
      return append(records);
    };
    const res = await c.request(Produce, 9, { acks: -1, timeoutMs: 5000, topicData: [{ name, partitionData: [{ index: 0, records: await batch() }] }] });
    expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(c.closed).toBe(false);
  });

  it('ListOffsets by timestamp and DeleteRecords in flight when the topic is deleted are UNKNOWN_TOPIC_OR_PARTITION; the connection stays', async () => {
    for (const api of ['list-offsets', 'delete-records'] as const) {
      const name = `race-${api}`;
      await broker.broker.createTopic(name, 1, 1, new Map());
      const produced = await c.request(Produce, 9, { acks: -1, timeoutMs: 5000, topicData: [{ name, partitionData: [{ index: 0, records: await batch(3) }] }] });
      expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NONE);
      const partition = broker.broker.getPartition(name, 0)!;
      // The deletion lands between the handler finding the partition and the log being read.
      if (api === 'list-offsets') {
        const lookup = partition.offsetForTimestamp.bind(partition);
        partition.offsetForTimestamp = async (ts: number) => {
          await broker.broker.deleteTopic(name);
          return lookup(ts);
        };
        const res = await c.request(ListOffsets, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: 0n }] }] });
        expect(res.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      } else {
        const deleteBefore = partition.deleteRecordsBefore.bind(partition);
        partition.deleteRecordsBefore = async (offset: number) => {
          await broker.broker.deleteTopic(name);
          return deleteBefore(offset);
        };
        const res = await c.request(DeleteRecords, 2, { topics: [{ name, partitions: [{ partitionIndex: 0, offset: 2n }] }], timeoutMs: 5000 });
        expect(res.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      }
      expect(c.closed).toBe(false);
    }
  });
});
