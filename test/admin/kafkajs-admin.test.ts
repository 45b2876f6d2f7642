/**
 * kafkajs 2.2.4's admin client against an in-process broker: createPartitions, describeConfigs,
 * alterConfigs, deleteTopicRecords, describeCluster, fetchTopicOffsets; and topic config changes that take
 * effect live: the next produce obeys a lowered max.message.bytes, a smaller segment.bytes rolls segments,
 * a shorter retention.ms deletes them at the next retention pass. Also across a restart.
 */
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { Produce } from '../../protocol/messages/produce.js';
import { ErrorCode } from '../../protocol/errors.js';
import { buildBatch } from '../../protocol/records/record.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: TestBroker;
let admin: Admin;

beforeAll(async () => {
  broker = await startTestBroker({ 'num.partitions': '1' });
  admin = client(broker).admin();
  await admin.connect();
});
afterAll(async () => {
  await admin.disconnect();
  await broker.destroy();
});

function client(b: TestBroker): Kafka {
  return new Kafka({ clientId: 'samsa-admin-test', brokers: [b.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
}

/** Produces one batch of `count` records of `size` bytes each with Produce v9; returns the partition's error code and base offset. */
async function produce(topic: string, partition: number, count: number, size = 10, timestamp?: number): Promise<{ errorCode: number; baseOffset: bigint }> {
  const c = await RawClient.connect(broker.port);
  try {
    const records = Array.from({ length: count }, () => ({ key: null, value: Buffer.alloc(size, 0x61), timestamp }));
    const res = await c.request(Produce, 9, { acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records: await buildBatch(records) }] }] });
    const p = res.responses[0]!.partitionResponses[0]!;
    return { errorCode: p.errorCode, baseOffset: p.baseOffset };
  } finally {
    c.close();
  }
}

async function describeTopicConfig(topic: string, name: string): Promise<{ value: string; isDefault: boolean; configSource: number } | undefined> {
  const res = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [name] }], includeSynonyms: false });
  const entry = res.resources[0]!.configEntries.find((e) => e.configName === name);
  return entry ? { value: entry.configValue, isDefault: entry.isDefault, configSource: entry.configSource } : undefined;
}

describe('kafkajs admin: partitions, cluster, records', () => {
  it('describeCluster names this broker as the only broker and the controller', async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toEqual([{ nodeId: broker.broker.nodeId, host: '127.0.0.1', port: broker.port }]);
    expect(cluster.controller).toBe(broker.broker.nodeId);
    expect(cluster.clusterId).toBe(broker.broker.config.clusterId);
  });

  it('createPartitions grows a topic, Metadata and ListOffsets see the new partitions, and a restart keeps them', async () => {
    await admin.createTopics({ topics: [{ topic: 'grow', numPartitions: 2 }] });
    await admin.createPartitions({ topicPartitions: [{ topic: 'grow', count: 5 }] });
    const md = await admin.fetchTopicMetadata({ topics: ['grow'] });
    expect(md.topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2, 3, 4]);
    expect((await admin.fetchTopicOffsets('grow')).length).toBe(5);
    expect((await produce('grow', 4, 3)).errorCode).toBe(ErrorCode.NONE);

    await admin.disconnect();
    broker = await broker.restart();
    admin = client(broker).admin();
    await admin.connect();
    const after = await admin.fetchTopicOffsets('grow');
    expect(after.map((o) => [o.partition, o.high]).sort()).toEqual([[0, '0'], [1, '0'], [2, '0'], [3, '0'], [4, '3']]);
  });

  it('createPartitions refuses a count that is not larger, and validateOnly creates nothing', async () => {
    await admin.createTopics({ topics: [{ topic: 'grow-errors', numPartitions: 3 }] });
    await expect(admin.createPartitions({ topicPartitions: [{ topic: 'grow-errors', count: 3 }] })).rejects.toMatchObject({ type: 'INVALID_PARTITIONS' });
    await expect(admin.createPartitions({ topicPartitions: [{ topic: 'grow-errors', count: 2 }] })).rejects.toMatchObject({ type: 'INVALID_PARTITIONS' });
    await expect(admin.createPartitions({ topicPartitions: [{ topic: 'grow-errors', count: 4, assignments: [[99]] }] })).rejects.toMatchObject({ type: 'INVALID_REPLICA_ASSIGNMENT' });
    await admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: 'grow-errors', count: 6 }] });
    expect(broker.broker.image.topic('grow-errors')!.partitions.length).toBe(3);
    await admin.createPartitions({ topicPartitions: [{ topic: 'grow-errors', count: 4, assignments: [[broker.broker.nodeId]] }] });
    expect(broker.broker.image.topic('grow-errors')!.partitions.length).toBe(4);
  });

  it('deleteTopicRecords moves the low watermark; fetchTopicOffsets reports it; -1 deletes up to the high watermark', async () => {
    await admin.createTopics({ topics: [{ topic: 'trim', numPartitions: 1 }] });
    await produce('trim', 0, 10);
    await admin.fetchTopicMetadata({ topics: ['trim'] });
    await admin.deleteTopicRecords({ topic: 'trim', partitions: [{ partition: 0, offset: '4' }] });
    expect((await admin.fetchTopicOffsets('trim'))[0]).toMatchObject({ low: '4', high: '10' });
    await produce('trim', 0, 5);
    await admin.deleteTopicRecords({ topic: 'trim', partitions: [{ partition: 0, offset: '-1' }] });
    expect((await admin.fetchTopicOffsets('trim'))[0]).toMatchObject({ low: '15', high: '15' });
  });
});

describe('kafkajs admin: configs', () => {
  it('alterConfigs sets topic overrides that describeConfigs reports as DYNAMIC_TOPIC_CONFIG, and removes unnamed ones', async () => {
    await admin.createTopics({ topics: [{ topic: 'cfg', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '1000000' }] }] });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg', configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.ms', value: '3600000' }] }] });
    expect(await describeTopicConfig('cfg', 'cleanup.policy')).toEqual({ value: 'compact', isDefault: false, configSource: 1 });
    expect(await describeTopicConfig('cfg', 'segment.ms')).toMatchObject({ value: '3600000', configSource: 1 });
    // AlterConfigs replaces the whole set: retention.ms was not named, so it is back to the default.
    expect(await describeTopicConfig('cfg', 'retention.ms')).toEqual({ value: '604800000', isDefault: true, configSource: 5 });
  });

  it('alterConfigs answers INVALID_CONFIG for bad values, UNKNOWN_TOPIC_OR_PARTITION for a missing topic, and validateOnly changes nothing', async () => {
    await admin.createTopics({ topics: [{ topic: 'cfg-bad', numPartitions: 1 }] });
    const alter = (name: string, value: string, topic = 'cfg-bad', validateOnly = false) =>
      admin.alterConfigs({ validateOnly, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name, value }] }] });
    // kafkajs shows the code's description, not the broker's message: the messages are checked on the wire (admin-wire.test.ts).
    await expect(alter('retention.ms', 'soon')).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    await expect(alter('no.such.config', '1')).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    await expect(alter('segment.bytes', '10')).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    await expect(alter('retention.ms', '1', 'cfg-missing')).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await alter('retention.ms', '1', 'cfg-bad', true);
    expect(await describeTopicConfig('cfg-bad', 'retention.ms')).toMatchObject({ value: '604800000', configSource: 5 });
  });

  it('max.message.bytes lowered: the next produce is MESSAGE_TOO_LARGE (kafkajs producer and raw); raised again: accepted', async () => {
    await admin.createTopics({ topics: [{ topic: 'live-size', numPartitions: 1 }] });
    expect((await produce('live-size', 0, 1, 500)).errorCode).toBe(ErrorCode.NONE);
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'live-size', configEntries: [{ name: 'max.message.bytes', value: '200' }] }] });
    expect((await produce('live-size', 0, 1, 500)).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect((await produce('live-size', 0, 1, 10)).errorCode).toBe(ErrorCode.NONE);
    const producer = client(broker).producer();
    await producer.connect();
    await expect(producer.send({ topic: 'live-size', messages: [{ value: Buffer.alloc(500, 0x62) }] })).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE' });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'live-size', configEntries: [] }] });
    const sent = await producer.send({ topic: 'live-size', messages: [{ value: Buffer.alloc(500, 0x62) }] });
    expect(sent[0]!.errorCode).toBe(0);
    await producer.disconnect();
  });

  it('segment.bytes and retention.ms changed on a live topic: new appends roll, the next retention pass deletes old segments', async () => {
    await admin.createTopics({ topics: [{ topic: 'live-retention', numPartitions: 1 }] });
    const partition = broker.broker.getPartition('live-retention', 0)!;
    const old = Date.now() - 3_600_000;
    await produce('live-retention', 0, 5, 100, old);
    expect(partition.log.config.segmentBytes).toBe(1073741824);
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'live-retention', configEntries: [{ name: 'segment.bytes', value: '600' }] }] });
    expect(partition.log.config.segmentBytes).toBe(600);
    for (let i = 0; i < 4; i++) await produce('live-retention', 0, 5, 100, old);
    await produce('live-retention', 0, 5, 100);
    const logFiles = (await readdir(partition.log.dir)).filter((n) => n.endsWith('.log'));
    expect(logFiles.length).toBeGreaterThan(2);
    await broker.broker.applyRetention();
    expect((await admin.fetchTopicOffsets('live-retention'))[0]!.low).toBe('0');
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'live-retention', configEntries: [{ name: 'segment.bytes', value: '600' }, { name: 'retention.ms', value: '60000' }] }] });
    expect(partition.log.config.retentionMs).toBe(60000);
    await broker.broker.applyRetention();
    const low = Number((await admin.fetchTopicOffsets('live-retention'))[0]!.low);
    expect(low).toBeGreaterThan(0);
    expect(low).toBeLessThanOrEqual(25); // the recent records stay
  });

  it('topic overrides survive a restart and are applied to the reopened logs', async () => {
    await admin.createTopics({ topics: [{ topic: 'cfg-restart', numPartitions: 1 }] });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg-restart', configEntries: [{ name: 'max.message.bytes', value: '150' }, { name: 'retention.bytes', value: '123456' }] }] });
    await admin.disconnect();
    broker = await broker.restart();
    admin = client(broker).admin();
    await admin.connect();
    expect(await describeTopicConfig('cfg-restart', 'max.message.bytes')).toMatchObject({ value: '150', configSource: 1 });
    expect(broker.broker.getPartition('cfg-restart', 0)!.log.config.retentionBytes).toBe(123456);
    expect((await produce('cfg-restart', 0, 1, 300)).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
  });

  it('broker configs: a dynamic one (log.retention.ms) applies to topics without an override; a static one is INVALID_REQUEST', async () => {
    const id = String(broker.broker.nodeId);
    await admin.createTopics({ topics: [{ topic: 'cfg-broker', numPartitions: 1 }] });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.BROKER, name: id, configEntries: [{ name: 'log.retention.ms', value: '7200000' }] }] });
    expect(await describeTopicConfig('cfg-broker', 'retention.ms')).toEqual({ value: '7200000', isDefault: false, configSource: 2 });
    expect(broker.broker.getPartition('cfg-broker', 0)!.log.config.retentionMs).toBe(7200000);
    const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: id, configNames: ['log.retention.ms', 'num.partitions'] }], includeSynonyms: false });
    const entries = Object.fromEntries(described.resources[0]!.configEntries.map((e) => [e.configName, e]));
    expect(entries['log.retention.ms']).toMatchObject({ configValue: '7200000', readOnly: false, configSource: 2 });
    expect(entries['num.partitions']).toMatchObject({ readOnly: true });
    await expect(
      admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.BROKER, name: id, configEntries: [{ name: 'num.partitions', value: '3' }] }] }),
    ).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.BROKER, name: id, configEntries: [] }] });
    expect(await describeTopicConfig('cfg-broker', 'retention.ms')).toMatchObject({ value: '604800000', configSource: 5 });
  });

  it('broker configs Kafka changes at runtime beyond the topic defaults (SASL, thread pools) are accepted and described with their source', async () => {
    const id = String(broker.broker.nodeId);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.BROKER, name: id, configEntries: [{ name: 'sasl.kerberos.min.time.before.relogin', value: '60001' }, { name: 'num.io.threads', value: '9' }] }],
    });
    const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: id, configNames: ['sasl.kerberos.min.time.before.relogin', 'num.io.threads'] }], includeSynonyms: false });
    const entries = Object.fromEntries(described.resources[0]!.configEntries.map((e) => [e.configName, e]));
    expect(entries['sasl.kerberos.min.time.before.relogin']).toMatchObject({ configValue: '60001', readOnly: false, configSource: 2 });
    expect(entries['num.io.threads']).toMatchObject({ configValue: '9', readOnly: false, configSource: 2 });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.BROKER, name: id, configEntries: [] }] });
  });
});
