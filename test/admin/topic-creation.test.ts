/**
 * Topic creation rules that depend on the broker's configuration (issue 9), on the wire:
 * - `a.b_c` and `a_b.c` collide ('.' and '_' are one character in metric names): the second is
 *   INVALID_TOPIC_EXCEPTION "Topic 'x' collides with existing topic: y", by CreateTopics and by auto-creation.
 * - Auto-creation with default.replication.factor above the brokers there are answers Metadata with
 *   INVALID_REPLICATION_FACTOR in the topic instead of dropping the connection.
 * - Every log.dirs entry holds partitions, and a restart finds them all.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { Produce } from '../../protocol/messages/produce.js';
import { ErrorCode } from '../../protocol/errors.js';
import { NULL_UUID } from '../../protocol/primitives.js';
import { buildBatch } from '../../protocol/records/record.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const spec = (name: string, numPartitions = 1) => ({ name, numPartitions, replicationFactor: -1, assignments: [], configs: [] });

describe('topic name collisions', () => {
  let broker: TestBroker;
  let c: RawClient;
  beforeAll(async () => {
    broker = await startTestBroker();
    c = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    c.close();
    await broker.destroy();
  });

  it('CreateTopics of a.b_c after a_b.c is INVALID_TOPIC_EXCEPTION with Kafka\'s message; the same name is TOPIC_ALREADY_EXISTS', async () => {
    expect((await c.request(CreateTopics, 7, { topics: [spec('metrics.in_x')], timeoutMs: 5000, validateOnly: false })).topics[0]!.errorCode).toBe(ErrorCode.NONE);
    const res = await c.request(CreateTopics, 7, { topics: [spec('metrics_in.x'), spec('metrics.in_x'), spec('metrics-in-x')], timeoutMs: 5000, validateOnly: false });
    expect(res.topics.map((t) => [t.name, t.errorCode, t.errorMessage])).toEqual([
      ['metrics_in.x', ErrorCode.INVALID_TOPIC_EXCEPTION, "Topic 'metrics_in.x' collides with existing topic: metrics.in_x"],
      ['metrics.in_x', ErrorCode.TOPIC_ALREADY_EXISTS, "Topic 'metrics.in_x' already exists."],
      ['metrics-in-x', ErrorCode.NONE, null],
    ]);
    expect((broker.broker.image.topic('metrics_in.x') !== undefined)).toBe(false);
  });

  it('validateOnly sees the collision too', async () => {
    await broker.broker.createTopic('vo.a_b', 1, 1, new Map());
    const res = await c.request(CreateTopics, 5, { topics: [spec('vo_a.b')], timeoutMs: 5000, validateOnly: true });
    expect(res.topics[0]!.errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
  });

  it('Metadata auto-creation of a colliding name answers INVALID_TOPIC_EXCEPTION in the topic, and the connection stays', async () => {
    await broker.broker.createTopic('auto.x_y', 1, 1, new Map());
    const res = await c.request(Metadata, 12, { topics: [{ name: 'auto_x.y', topicId: NULL_UUID }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
    expect(res.topics.map((t) => [t.name, t.errorCode])).toEqual([['auto_x.y', ErrorCode.INVALID_TOPIC_EXCEPTION]]);
    expect((broker.broker.image.topic('auto_x.y') !== undefined)).toBe(false);
    expect(c.closed).toBe(false);
  });
});

describe('default.replication.factor larger than the cluster', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ 'default.replication.factor': '3' });
  });
  afterAll(() => broker.destroy());

  for (const version of [1, 4, 9, 12]) {
    it(`Metadata v${version} auto-creation answers INVALID_REPLICATION_FACTOR in the topic; the connection stays`, async () => {
      const c = await RawClient.connect(broker.port);
      const name = `rf3-v${version}`;
      // Before v4 auto-creation follows the broker setting alone (no allowAutoTopicCreation field).
      const flags = version >= 4 ? { allowAutoTopicCreation: true } : {};
      const res = await c.request(Metadata, version, { topics: [{ name, topicId: NULL_UUID }], ...flags });
      expect(res.topics.map((t) => [t.name, t.errorCode, t.partitions.length])).toEqual([[name, ErrorCode.INVALID_REPLICATION_FACTOR, 0]]);
      expect((broker.broker.image.topic(name) !== undefined)).toBe(false);
      // The connection still answers.
      const again = await c.request(Metadata, version, { topics: [] });
      expect(again.brokers.length).toBe(1);
      c.close();
    });
  }
});

describe('several log.dirs', () => {
  it('partitions are spread over every directory, and a restart reads them all', async () => {
    const a = await mkdtemp(join(tmpdir(), 'samsa-dirs-a-'));
    const b = await mkdtemp(join(tmpdir(), 'samsa-dirs-b-'));
    try {
      let broker = await startTestBroker({ 'log.dirs': `${a},${b}` }, a);
      await broker.broker.createTopic('spread', 4, 1, new Map());
      let c = await RawClient.connect(broker.port);
      for (let p = 0; p < 4; p++) {
        const res = await c.request(Produce, 9, { acks: -1, timeoutMs: 5000, topicData: [{ name: 'spread', partitionData: [{ index: p, records: await buildBatch([{ key: null, value: Buffer.from(`v${p}`) }]) }] }] });
        expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NONE);
      }
      c.close();
      const partitionsIn = async (dir: string) => (await readdir(dir)).filter((n) => n.startsWith('spread-')).length;
      expect(await partitionsIn(a)).toBe(2);
      expect(await partitionsIn(b)).toBe(2);
      // Each directory is held with Kafka's .lock and marked with meta.properties, not only the first.
      for (const dir of [a, b]) expect(await readdir(dir)).toEqual(expect.arrayContaining(['.lock', 'meta.properties']));
      broker = await broker.restart();
      c = await RawClient.connect(broker.port);
      for (let p = 0; p < 4; p++) expect(broker.broker.getPartition('spread', p)!.logEndOffset).toBe(1);
      c.close();
      await broker.broker.createTopic('spread2', 2, 1, new Map());
      expect((await partitionsIn(a)) + (await partitionsIn(b))).toBe(4);
      await broker.destroy();
    } finally {
      await rm(a, { recursive: true, force: true });
      await rm(b, { recursive: true, force: true });
    }
  });
});
