/**
 * Compaction end to end with kafkajs 2.2.4 against an in-process broker (the cleaner runs in its worker
 * thread): 100,000 records over 1,000 keys with updates and tombstones into a compacted topic whose
 * segments roll every 64 KiB; after cleaning, a read from the beginning holds exactly the latest value of
 * every live key, offsets ascending, and no tombstone once delete.retention.ms has passed. Then
 * __consumer_offsets: many commits of one group compact down and still answer OffsetFetch after a restart.
 * Also: keyless records are refused by compacted topics (INVALID_RECORD), and retention by time moves
 * ListOffsets(earliest) forward.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { OffsetCommit } from '../../protocol/messages/offset-commit.js';
import { splitBatches } from '../../protocol/records/batch.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { readPartition, type ReadRecord } from '../helpers/read-all.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({ 'num.partitions': '1', 'log.cleaner.backoff.ms': '100', 'log.retention.check.interval.ms': '200', 'offsets.topic.num.partitions': '1' });
});
afterAll(async () => broker?.destroy());

function client(b: TestBroker): Kafka {
  return new Kafka({ clientId: 'samsa-compaction-test', brokers: [b.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
}

async function readAll(b: TestBroker, topic: string, partition: number, from = 0): Promise<ReadRecord[]> {
  return (await readPartition(b.port, topic, partition, from)).records;
}

async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await fn();
  }
  return last;
}

describe('compaction end to end (kafkajs)', () => {
  it('100,000 updates and tombstones over 1,000 keys compact to the latest value per live key', async () => {
    const topic = 'compacted-e2e';
    const admin = client(broker).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{
        topic,
        numPartitions: 1,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.bytes', value: String(64 * 1024) },
          { name: 'segment.ms', value: '1500' },
          { name: 'delete.retention.ms', value: '1000' },
          { name: 'min.cleanable.dirty.ratio', value: '0.01' },
        ],
      }],
    });
    await admin.disconnect();

    const producer = client(broker).producer();
    await producer.connect();
    const latest = new Map<string, string | null>();
    const total = 100_000;
    const perSend = 1000;
    for (let start = 0; start < total; start += perSend) {
      const messages: { key: string; value: string | null }[] = [];
      for (let i = start; i < start + perSend; i++) {
        const key = `key-${(i * 7) % 1000}`;
        const value = i % 53 === 0 ? null : `value-${i}`;
        messages.push({ key, value });
        latest.set(key, value);
      }
      await producer.send({ topic, acks: 1, messages });
    }
    const live = [...latest].filter(([, v]) => v !== null);
    const deleted = [...latest].filter(([, v]) => v === null).map(([k]) => k);
    expect(deleted.length).toBeGreaterThan(0);
    expect(live.length).toBeGreaterThan(900);
    // After segment.ms, one more record rolls the last segment of the load, so all of it is cleanable.
    await new Promise((r) => setTimeout(r, 1600));
    await producer.send({ topic, acks: 1, messages: [{ key: 'end-marker', value: 'end' }] });
    await producer.disconnect();

    const expected = new Map(live);
    expected.set('end-marker', 'end');
    const got = await waitFor(
      'the log to compact and tombstones to expire',
      () => readAll(broker, topic, 0),
      (records) => records.length === expected.size && records.every((r) => r.value !== null),
    );
    const offsets = got.map((r) => r.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(new Set(offsets).size).toBe(offsets.length);
    expect(new Map(got.map((r) => [r.key!, r.value]))).toEqual(expected);
    for (const k of deleted) expect(got.some((r) => r.key === k)).toBe(false);
    // Offsets are the ones assigned at produce time: the marker is the last of 100,001.
    expect(got.at(-1)).toEqual({ offset: total, key: 'end-marker', value: 'end' });
    const cleaner = broker.broker.logCleaner!;
    expect(cleaner.uncleanable.size).toBe(0);
  });

  it('a kafkajs consumer group reads a compacted log with gaps and empty producer batches to its end', async () => {
    const topic = 'compacted-idempotent';
    const admin = client(broker).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '4096' }, { name: 'min.cleanable.dirty.ratio', value: '0.01' }] }],
    });
    await admin.disconnect();
    const producer = client(broker).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < 300; i++) await producer.send({ topic, messages: [{ key: `k${i % 10}`, value: `v${i}` }] });
    await producer.disconnect();
    const p2 = client(broker).producer();
    await p2.connect();
    // A later write of k9 by another producer empties the idempotent producer's last batch (offset 299).
    await p2.send({ topic, messages: [{ key: 'k9', value: 'later' }] });
    for (let i = 0; i < 30; i++) await p2.send({ topic, messages: [{ key: `other-${i}`, value: 'x'.repeat(100) }] });
    await p2.disconnect();
    await waitFor('the idempotent batches to compact', () => readAll(broker, topic, 0), (records) => records.filter((r) => r.key!.startsWith('k')).length === 10);
    const log = broker.broker.getPartition(topic, 0)!.log;
    const raw = await log.read(0, 1 << 20, log.logEndOffset, true);
    const split = splitBatches(Buffer.concat(raw.records));
    if (!split.ok) throw new Error(split.message);
    expect(split.batches.filter((b) => b.header.recordCount === 0).map((b) => [b.header.baseOffset, b.header.producerId >= 0])).toEqual([[299, true]]);

    const consumer = client(broker).consumer({ groupId: 'compacted-reader', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Map<string, string>();
    let last = -1;
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.set(message.key!.toString(), message.value!.toString());
        last = Number(message.offset);
      },
    });
    await waitFor('the consumer to reach the end', async () => last, (o) => o === 330, 30_000);
    await consumer.disconnect();
    for (let k = 0; k < 9; k++) expect(seen.get(`k${k}`)).toBe(`v${290 + k}`);
    expect(seen.get('k9')).toBe('later');
    expect(seen.size).toBe(40);
  });

  it('refuses records without a key on a compacted topic with INVALID_RECORD', async () => {
    const admin = client(broker).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'compacted-keyless', numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact,delete' }] }] });
    await admin.disconnect();
    const producer = client(broker).producer({ retry: { retries: 0 } });
    await producer.connect();
    await expect(producer.send({ topic: 'compacted-keyless', messages: [{ key: 'k', value: 'a' }, { value: 'no key' }] })).rejects.toThrow(/without key|INVALID_RECORD|failed the validation/i);
    await producer.send({ topic: 'compacted-keyless', messages: [{ key: 'k', value: 'b' }] });
    await producer.disconnect();
    expect((await readAll(broker, 'compacted-keyless', 0)).map((r) => r.value)).toEqual(['b']);
  });

  it('compacts __consumer_offsets: a group committing 4 partitions 500 times keeps its offsets across a restart', async () => {
    const topic = 'offsets-source';
    const groupId = 'compaction-group';
    const admin = client(broker).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const producer = client(broker).producer();
    await producer.connect();
    for (let p = 0; p < 4; p++) await producer.send({ topic, messages: Array.from({ length: 600 }, (_, i) => ({ partition: p, value: `m${i}` })) });
    await producer.disconnect();
    const c = await RawClient.connect(broker.port);
    const commit = async (group: string, offset: number, partitions = [0, 1, 2, 3]): Promise<void> => {
      const r = await c.request(OffsetCommit, 2, {
        groupId: group, generationIdOrMemberEpoch: -1, memberId: '', retentionTimeMs: -1n,
        topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, committedOffset: BigInt(offset), committedMetadata: '' })) }],
      });
      expect(r.topics[0]!.partitions.every((p) => p.errorCode === 0)).toBe(true);
    };
    // The first commit creates __consumer_offsets; then it gets small segments and eager cleaning.
    await commit(groupId, 0);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{
        type: 2,
        name: '__consumer_offsets',
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.bytes', value: String(16 * 1024) },
          { name: 'min.cleanable.dirty.ratio', value: '0.01' },
        ],
      }],
    });
    for (let i = 1; i <= 500; i++) await commit(groupId, i);
    // Commits of other groups roll the last segment holding the commits above.
    for (let i = 0; i < 200; i++) await commit(`filler-${i}`, 1, [0]);
    c.close();
    const offsetsLog = () => readAll(broker, '__consumer_offsets', 0);
    const committed = await waitFor('__consumer_offsets to compact', offsetsLog, (records) => records.filter((r) => r.key?.includes(groupId)).length <= 8);
    expect(committed.length).toBeGreaterThan(0);
    await admin.disconnect();

    broker = await broker.restart();
    const admin2 = client(broker).admin();
    await admin2.connect();
    const fetched = await admin2.fetchOffsets({ groupId, topics: [topic] });
    expect(fetched[0]!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([[0, '500'], [1, '500'], [2, '500'], [3, '500']]);
    await admin2.disconnect();
  });
});

describe('retention end to end', () => {
  it('deletes old segments by retention.ms and ListOffsets(earliest) moves forward', async () => {
    const topic = 'retained';
    const admin = client(broker).admin();
    await admin.connect();
    // The old records are 60 s old and 'new' is current: retention.ms between the two (30 s) deletes the
    // old segments and keeps 'new'; with 3 s, a slow machine let 'new' expire too while the test read.
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '4096' }, { name: 'retention.ms', value: '30000' }, { name: 'file.delete.delay.ms', value: '0' }] }] });
    const producer = client(broker).producer();
    await producer.connect();
    const old = Date.now() - 60_000;
    for (let i = 0; i < 20; i++) {
      await producer.send({ topic, messages: Array.from({ length: 20 }, (_, j) => ({ value: `old-${i * 20 + j}-${'x'.repeat(40)}`, timestamp: String(old) })) });
    }
    await producer.send({ topic, messages: [{ value: 'new', timestamp: String(Date.now()) }] });
    await producer.disconnect();
    const earliest = async (): Promise<number> => Number((await admin.fetchTopicOffsets(topic))[0]!.low);
    const low = await waitFor('retention to delete the old segments', earliest, (o) => o > 0, 20_000);
    expect(low).toBeGreaterThan(0);
    expect(low).toBeLessThanOrEqual(400);
    const records = await readAll(broker, topic, 0, low);
    expect(records.at(-1)!.value).toBe('new');
    expect(records[0]!.offset).toBe(low);
    await admin.disconnect();
  });
});
