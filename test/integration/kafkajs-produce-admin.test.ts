/**
 * kafkajs 2.2.4 against an in-process broker: producer with acks 1 and -1 (plain and gzip), admin
 * createTopics / deleteTopics / fetchTopicOffsets / fetchTopicOffsetsByTimestamp, and a restart that
 * keeps every acknowledged record. Records are read back with our own Fetch codec (test/helpers/read-all.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { readPartition } from '../helpers/read-all.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({ 'num.partitions': '1' });
});
afterAll(async () => broker.destroy());

function client(b: TestBroker): Kafka {
  return new Kafka({ clientId: 'samsa-test', brokers: [b.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
}

async function readAll(b: TestBroker, topic: string, partition: number) {
  return (await readPartition(b.port, topic, partition)).records;
}

describe('kafkajs producer and admin', () => {
  it('creates, lists offsets of, and deletes topics', async () => {
    const admin = client(broker).admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: 'admin-a', numPartitions: 3 }] })).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: 'admin-a', numPartitions: 3 }] })).toBe(false);
    expect((await admin.listTopics()).sort()).toContain('admin-a');
    const offsets = await admin.fetchTopicOffsets('admin-a');
    expect(offsets.map((o) => [o.partition, o.offset, o.low, o.high]).sort()).toEqual([[0, '0', '0', '0'], [1, '0', '0', '0'], [2, '0', '0', '0']]);
    await admin.deleteTopics({ topics: ['admin-a'] });
    expect(await admin.listTopics()).not.toContain('admin-a');
    await admin.disconnect();
  });

  for (const acks of [1, -1]) {
    for (const compression of [CompressionTypes.None, CompressionTypes.GZIP]) {
      it(`produces with acks=${acks} compression=${compression} and every record reads back`, async () => {
        const topic = `kjs-${acks === 1 ? 'one' : 'all'}-${compression}`;
        const admin = client(broker).admin();
        await admin.connect();
        await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
        await admin.disconnect();
        const producer = client(broker).producer();
        await producer.connect();
        const sent: { key: string; value: string }[] = [];
        for (let batch = 0; batch < 10; batch++) {
          const messages = Array.from({ length: 100 }, (_, i) => ({ key: `k${batch}-${i}`, value: `value ${batch * 100 + i}` }));
          const res = await producer.send({ topic, acks, compression, messages });
          expect(res[0]!.errorCode).toBe(0);
          expect(res[0]!.baseOffset).toBe(String(batch * 100));
          sent.push(...messages);
        }
        await producer.disconnect();
        const got = await readAll(broker, topic, 0);
        expect(got.map((r) => ({ key: r.key, value: r.value }))).toEqual(sent);
        expect(got.map((r) => r.offset)).toEqual(sent.map((_, i) => i));
      });
    }
  }

  it('finds offsets by timestamp', async () => {
    const topic = 'kjs-by-time';
    const producer = client(broker).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'a', timestamp: '1000' }, { value: 'b', timestamp: '2000' }] });
    await producer.send({ topic, messages: [{ value: 'c', timestamp: '3000' }] });
    await producer.disconnect();
    const admin = client(broker).admin();
    await admin.connect();
    const at = async (ts: number) => (await admin.fetchTopicOffsetsByTimestamp(topic, ts))[0]!.offset;
    expect(await at(500)).toBe('0');
    expect(await at(2000)).toBe('1');
    expect(await at(2500)).toBe('2');
    await admin.disconnect();
  });
});

describe('kafkajs consumer', () => {
  it('reads from a given offset (seek) to the end of a partition', async () => {
    const topic = 'kjs-seek';
    const kafka = client(broker);
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'seek-reader', maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic });
    const seen: { offset: number; value: string }[] = [];
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ message }) => {
          seen.push({ offset: Number(message.offset), value: message.value!.toString() });
          if (seen.length === 400) resolve();
        },
      });
    });
    consumer.seek({ topic, partition: 0, offset: '600' });
    await done;
    await consumer.disconnect();
    expect(seen.map((s) => s.offset)).toEqual(Array.from({ length: 400 }, (_, i) => 600 + i));
    expect(seen.map((s) => s.value)).toEqual(Array.from({ length: 400 }, (_, i) => `v${600 + i}`));
  });
});

describe('restart', () => {
  it('keeps every acknowledged record across a broker restart', async () => {
    let b = await startTestBroker();
    try {
      const producer = client(b).producer({ allowAutoTopicCreation: true });
      await producer.connect();
      for (let i = 0; i < 20; i++) {
        await producer.send({ topic: 'restart-topic', acks: 1, messages: Array.from({ length: 50 }, (_, j) => ({ value: `m${i * 50 + j}` })) });
      }
      await producer.disconnect();
      b = await b.restart();
      const got = await readAll(b, 'restart-topic', 0);
      expect(got.map((r) => r.value)).toEqual(Array.from({ length: 1000 }, (_, i) => `m${i}`));
      // New appends continue after the recovered log end offset.
      const p2 = client(b).producer();
      await p2.connect();
      const res = await p2.send({ topic: 'restart-topic', messages: [{ value: 'after' }] });
      expect(res[0]!.baseOffset).toBe('1000');
      await p2.disconnect();
    } finally {
      await b.destroy();
    }
  });
});
