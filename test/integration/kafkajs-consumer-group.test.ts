/**
 * kafkajs 2.2.4 consumer groups against an in-process broker: three consumers of one group share a
 * 6-partition topic and consume every message exactly once between them while one of them leaves in the
 * middle of the stream; the committed offsets cover everything consumed; a new consumer of the group
 * resumes from them; committed offsets survive a broker restart; two groups on one topic are independent.
 * At volume: 60,000 messages over 6 partitions, auto-commit, one member leaving and another joining while
 * the stream goes on, every message exactly once, and a later member resuming at the committed offsets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

const TOPIC = 'orders';
const PARTITIONS = 6;

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '300', 'offsets.topic.num.partitions': '4' });
  const admin = client(broker).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
  await admin.disconnect();
});
afterAll(async () => broker?.destroy());

function client(b: TestBroker, clientId = 'samsa-group-test'): Kafka {
  return new Kafka({ clientId, brokers: [b.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Seen {
  consumer: string;
  partition: number;
  value: string;
}

async function startConsumer(b: TestBroker, groupId: string, name: string, seen: Seen[], topic = TOPIC): Promise<Consumer> {
  // A short long-poll: disconnect waits for the fetch in flight.
  const consumer = client(b, name).consumer({ groupId, heartbeatInterval: 200, sessionTimeout: 10_000, rebalanceTimeout: 20_000, maxWaitTimeInMs: 300 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      seen.push({ consumer: name, partition, value: message.value!.toString() });
    },
  });
  return consumer;
}

async function produce(producer: Producer, prefix: string, count: number, topic = TOPIC): Promise<string[]> {
  const values = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await producer.send({ topic, messages: values.map((value, i) => ({ key: `key-${i}`, value, partition: i % PARTITIONS })) });
  return values;
}

async function committedTotal(b: TestBroker, groupId: string, topic = TOPIC): Promise<number> {
  const admin = client(b).admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return t!.partitions.reduce((sum, p) => sum + Math.max(Number(p.offset), 0), 0);
  } finally {
    await admin.disconnect();
  }
}

async function describeGroup(b: TestBroker, groupId: string) {
  const admin = client(b).admin();
  await admin.connect();
  try {
    return (await admin.describeGroups([groupId])).groups[0]!;
  } finally {
    await admin.disconnect();
  }
}

function expectExactlyOnce(seen: Seen[], expected: string[]): void {
  const counts = new Map<string, number>();
  for (const s of seen) counts.set(s.value, (counts.get(s.value) ?? 0) + 1);
  const duplicates = [...counts].filter(([, n]) => n > 1).map(([v]) => v);
  expect(duplicates).toEqual([]);
  expect([...counts.keys()].sort()).toEqual([...expected].sort());
}

describe('kafkajs consumer group', () => {
  it('shares a topic between three consumers exactly once, survives a member leaving mid-stream, and resumes from committed offsets', async () => {
    const groupId = 'orders-group';
    const seen: Seen[] = [];
    const producer = client(broker).producer();
    await producer.connect();
    const consumers = [
      await startConsumer(broker, groupId, 'c1', seen),
      await startConsumer(broker, groupId, 'c2', seen),
      await startConsumer(broker, groupId, 'c3', seen),
    ];
    await waitFor('a stable group of three', async () => {
      const g = await describeGroup(broker, groupId);
      return g.state === 'Stable' && g.members.length === 3;
    });

    // Phase 1: every consumer gets two partitions and its share of the messages.
    const phase1 = await produce(producer, 'p1', 300);
    await waitFor('phase 1 consumed', () => seen.length >= phase1.length);
    const partitionsOf = new Map<string, Set<number>>();
    for (const s of seen) {
      if (!partitionsOf.has(s.consumer)) partitionsOf.set(s.consumer, new Set());
      partitionsOf.get(s.consumer)!.add(s.partition);
    }
    expect([...partitionsOf.keys()].sort()).toEqual(['c1', 'c2', 'c3']);
    expect([...partitionsOf.values()].map((p) => p.size)).toEqual([2, 2, 2]);
    const described = await describeGroup(broker, groupId);
    expect(described.protocolType).toBe('consumer');
    expect(described.protocol).toBe('RoundRobinAssigner');
    expect(described.members.every((m) => m.clientHost === '/127.0.0.1')).toBe(true);

    // Phase 2: c3 leaves while messages keep coming.
    const phase2: string[] = [];
    for (let chunk = 0; chunk < 10; chunk++) {
      phase2.push(...(await produce(producer, `p2-${chunk}`, 30)));
      if (chunk === 3) await consumers[2]!.disconnect();
      await new Promise((r) => setTimeout(r, 30));
    }
    await waitFor('phase 2 consumed', () => new Set(seen.map((s) => s.value)).size >= phase1.length + phase2.length);
    await waitFor('a stable group of two', async () => {
      const g = await describeGroup(broker, groupId);
      return g.state === 'Stable' && g.members.length === 2;
    });
    const phase2Consumers = new Set(seen.filter((s) => s.value.startsWith('p2-9-')).map((s) => s.consumer));
    expect(phase2Consumers.has('c3')).toBe(false);
    await waitFor('offsets committed', async () => (await committedTotal(broker, groupId)) === phase1.length + phase2.length);

    // Phase 3: everyone leaves; the group is Empty with its offsets; a newcomer resumes from them.
    await consumers[0]!.disconnect();
    await consumers[1]!.disconnect();
    expect((await describeGroup(broker, groupId)).state).toBe('Empty');
    const phase3 = await produce(producer, 'p3', 60);
    const c4 = await startConsumer(broker, groupId, 'c4', seen);
    await waitFor('phase 3 consumed', () => seen.filter((s) => s.consumer === 'c4').length >= phase3.length);
    await waitFor('phase 3 committed', async () => (await committedTotal(broker, groupId)) === phase1.length + phase2.length + phase3.length);
    // disconnect() returns once the consumer's eachMessage calls are done: `seen` is then final, so a
    // duplicate delivery cannot slip past the checks below (no sleep needed to give it time to show up).
    await c4.disconnect();
    expect(seen.filter((s) => s.consumer === 'c4').map((s) => s.value).sort()).toEqual([...phase3].sort());
    expectExactlyOnce(seen, [...phase1, ...phase2, ...phase3]);
    await producer.disconnect();
  }, 90_000);

  it('60,000 messages over 6 partitions: three members with auto-commit, one leaves and one joins mid-stream, exactly once; a new member resumes from the committed offsets', async () => {
    const topic = 'orders-60k';
    const groupId = 'orders-60k-group';
    const admin = client(broker).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
    await admin.disconnect();
    const seen: Seen[] = [];
    const producer = client(broker).producer();
    await producer.connect();
    const members = new Map<string, Consumer>();
    for (const name of ['m1', 'm2', 'm3']) members.set(name, await startConsumer(broker, groupId, name, seen, topic));
    await waitFor('a stable group of three', async () => {
      const g = await describeGroup(broker, groupId);
      return g.state === 'Stable' && g.members.length === 3;
    });

    // 20 chunks of 3,000: m3 leaves after chunk 5, m4 joins after chunk 11, while the stream goes on.
    const produced: string[] = [];
    const distinct = (): number => new Set(seen.map((s) => s.value)).size;
    for (let chunk = 0; chunk < 20; chunk++) {
      for (let part = 0; part < 3; part++) produced.push(...(await produce(producer, `c${chunk}-${part}`, 1000, topic)));
      if (chunk === 5) {
        await members.get('m3')!.disconnect();
        members.delete('m3');
      }
      if (chunk === 11) members.set('m4', await startConsumer(broker, groupId, 'm4', seen, topic));
      // keep the stream going while the group rebalances, but not too far ahead of the consumers
      await waitFor(`chunk ${chunk} mostly consumed`, () => distinct() >= produced.length - 6000, 30_000);
    }
    expect(produced.length).toBe(60_000);
    await waitFor('all 60,000 consumed', () => distinct() >= produced.length, 40_000);
    await waitFor('a stable group of m1, m2, m4', async () => {
      const g = await describeGroup(broker, groupId);
      return g.state === 'Stable' && g.members.length === 3;
    });
    await waitFor('every offset committed', async () => (await committedTotal(broker, groupId, topic)) === produced.length, 20_000);

    const byMember = new Map<string, number>();
    for (const s of seen) byMember.set(s.consumer, (byMember.get(s.consumer) ?? 0) + 1);
    expect([...byMember.keys()].sort()).toEqual(['m1', 'm2', 'm3', 'm4']);
    // m3 stopped reading when it left; m4 read its share of the second half
    const m3Last = seen.filter((s) => s.consumer === 'm3').map((s) => Number(s.value.split('-')[0]!.slice(1)));
    expect(Math.max(...m3Last)).toBeLessThanOrEqual(6);
    expect(seen.some((s) => s.consumer === 'm4' && s.value.startsWith('c19-'))).toBe(true);
    expectExactlyOnce(seen, produced);

    // Everyone stops; 3,000 more arrive; a new member resumes exactly where the group left off.
    for (const c of members.values()) await c.disconnect();
    expect((await describeGroup(broker, groupId)).state).toBe('Empty');
    expect(await committedTotal(broker, groupId, topic)).toBe(produced.length);
    const tail = await produce(producer, 'tail', 3000, topic);
    const before = seen.length;
    const m5 = await startConsumer(broker, groupId, 'm5', seen, topic);
    await waitFor('the tail consumed', () => seen.length - before >= tail.length, 30_000);
    await m5.disconnect(); // waits for its eachMessage calls: `seen` is final
    expect(seen.slice(before).map((s) => s.value).sort()).toEqual([...tail].sort());
    expect(seen.slice(before).every((s) => s.consumer === 'm5')).toBe(true);
    expectExactlyOnce(seen, [...produced, ...tail]);
    await producer.disconnect();
  }, 120_000);

  // Its own topic and messages: it used to count what the previous test had committed, and passed
  // without reading anything when run alone.
  it('keeps two groups on one topic independent', async () => {
    const topic = 'independent-topic';
    const admin = client(broker).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
    await admin.disconnect();
    const producer = client(broker).producer();
    await producer.connect();
    const values = await produce(producer, 'ind', 120, topic);
    await producer.disconnect();
    const seenA: Seen[] = [];
    const seenB: Seen[] = [];
    const a = await startConsumer(broker, 'independent-a', 'a1', seenA, topic);
    const b = await startConsumer(broker, 'independent-b', 'b1', seenB, topic);
    await waitFor('both groups read the whole topic', () => seenA.length >= values.length && seenB.length >= values.length);
    await a.disconnect();
    expect((await describeGroup(broker, 'independent-a')).state).toBe('Empty');
    expect((await describeGroup(broker, 'independent-b')).state).toBe('Stable');
    await b.disconnect();
    expectExactlyOnce(seenA, values);
    expectExactlyOnce(seenB, values);
  }, 60_000);
});

describe('committed offsets across a restart', () => {
  it('keeps committed offsets (and the __consumer_offsets topic) through a broker restart', async () => {
    let b = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '3' });
    try {
      const admin = client(b).admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
      await admin.disconnect();
      const producer = client(b).producer();
      await producer.connect();
      const before = await produce(producer, 'before', 120);
      await producer.disconnect();
      const seen: Seen[] = [];
      const c1 = await startConsumer(b, 'restart-group', 'r1', seen);
      await waitFor('consumed before restart', () => seen.length >= before.length);
      await waitFor('committed before restart', async () => (await committedTotal(b, 'restart-group')) === before.length);
      await c1.disconnect();

      b = await b.restart();
      const offsetsTopic = b.broker.image.topic('__consumer_offsets')!;
      expect(offsetsTopic.partitions.length).toBe(3);
      expect(offsetsTopic.configs.get('cleanup.policy')).toBe('compact');
      expect(await committedTotal(b, 'restart-group')).toBe(before.length);

      const producer2 = client(b).producer();
      await producer2.connect();
      const after = await produce(producer2, 'after', 60);
      await producer2.disconnect();
      const c2 = await startConsumer(b, 'restart-group', 'r2', seen);
      await waitFor('consumed after restart', () => seen.filter((s) => s.consumer === 'r2').length >= after.length);
      await c2.disconnect(); // waits for its eachMessage calls: `seen` is final
      expect(seen.filter((s) => s.consumer === 'r2').map((s) => s.value).sort()).toEqual([...after].sort());
      expectExactlyOnce(seen, [...before, ...after]);
    } finally {
      await b.destroy();
    }
  }, 60_000);
});
