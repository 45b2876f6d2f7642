/**
 * The admin APIs on the wire, at every advertised version, with our own codecs (test/helpers/raw-client):
 * CreatePartitions, AlterConfigs, IncrementalAlterConfigs, DescribeCluster, DeleteRecords and
 * OffsetForLeaderEpoch. One test per rule for the error codes (and Kafka's messages) clients act on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { CreatePartitions } from '../../protocol/messages/create-partitions.js';
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { AlterConfigs } from '../../protocol/messages/alter-configs.js';
import { IncrementalAlterConfigs } from '../../protocol/messages/incremental-alter-configs.js';
import { DescribeCluster } from '../../protocol/messages/describe-cluster.js';
import { DescribeConfigs } from '../../protocol/messages/describe-configs.js';
import { DeleteRecords } from '../../protocol/messages/delete-records.js';
import { OffsetForLeaderEpoch } from '../../protocol/messages/offset-for-leader-epoch.js';
import { Produce } from '../../protocol/messages/produce.js';
import { Fetch } from '../../protocol/messages/fetch.js';
import { ListOffsets } from '../../protocol/messages/list-offsets.js';
import { Metadata } from '../../protocol/messages/metadata.js';
import { ErrorCode } from '../../protocol/errors.js';
import { buildBatch } from '../../protocol/records/record.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const TOPIC = 2;
const BROKER = 4;
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

let broker: TestBroker;
let c: RawClient;
let nodeId: number;

beforeAll(async () => {
  broker = await startTestBroker({ 'num.partitions': '1' });
  nodeId = broker.broker.nodeId;
  c = await RawClient.connect(broker.port);
});
afterAll(async () => {
  c.close();
  await broker.destroy();
});

async function topic(name: string, partitions = 1, configs: Record<string, string> = {}): Promise<void> {
  await broker.broker.createTopic(name, partitions, 1, new Map(Object.entries(configs)));
}

async function produce(name: string, partition: number, count: number, size = 10): Promise<number> {
  const records = Array.from({ length: count }, () => ({ key: null, value: Buffer.alloc(size, 0x61) }));
  const res = await c.request(Produce, 9, { acks: -1, timeoutMs: 5000, topicData: [{ name, partitionData: [{ index: partition, records: await buildBatch(records) }] }] });
  return res.responses[0]!.partitionResponses[0]!.errorCode;
}

function overrides(name: string): Record<string, string> {
  return Object.fromEntries(broker.broker.image.topic(name)!.configs);
}

describe('ApiVersions', () => {
  it('advertises the admin APIs at Kafka 3.9\'s versions, OffsetForLeaderEpoch from v2', async () => {
    const res = await c.request(ApiVersions, 3, {});
    const range = (key: number) => {
      const k = res.apiKeys.find((a) => a.apiKey === key);
      return k ? [k.minVersion, k.maxVersion] : null;
    };
    expect(range(37)).toEqual([0, 3]);
    expect(range(33)).toEqual([0, 2]);
    expect(range(44)).toEqual([0, 1]);
    expect(range(60)).toEqual([0, 1]);
    expect(range(21)).toEqual([0, 2]);
    expect(range(23)).toEqual([2, 4]);
  });
});

describe('CreatePartitions', () => {
  for (const version of [0, 1, 2, 3]) {
    it(`v${version} adds partitions that Metadata lists at once`, async () => {
      const name = `cp-v${version}`;
      await topic(name, 2);
      const res = await c.request(CreatePartitions, version, { topics: [{ name, count: 4, assignments: null }], timeoutMs: 5000, validateOnly: false });
      expect(res.results).toEqual([{ name, errorCode: ErrorCode.NONE, errorMessage: null }]);
      const md = await c.request(Metadata, 9, { topics: [{ name }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
      expect(md.topics[0]!.partitions.map((p) => p.partitionIndex)).toEqual([0, 1, 2, 3]);
      expect(await produce(name, 3, 1)).toBe(ErrorCode.NONE);
    });
  }

  const create = (name: string, count: number, assignments: number[][] | null = null, validateOnly = false) =>
    c.request(CreatePartitions, 3, { topics: [{ name, count, assignments: assignments && assignments.map((brokerIds) => ({ brokerIds })) }], timeoutMs: 5000, validateOnly }).then((r) => r.results[0]!);

  it('INVALID_PARTITIONS when the count equals the current one', async () => {
    await topic('cp-equal', 3);
    expect(await create('cp-equal', 3)).toEqual({ name: 'cp-equal', errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'Topic already has 3 partition(s).' });
  });

  it('INVALID_PARTITIONS when the count is smaller', async () => {
    await topic('cp-smaller', 3);
    expect(await create('cp-smaller', 1)).toEqual({ name: 'cp-smaller', errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'The topic cp-smaller currently has 3 partition(s); 1 would not be an increase.' });
  });

  it('INVALID_REPLICA_ASSIGNMENT when the assignment count differs from the partitions added', async () => {
    await topic('cp-count', 1);
    expect(await create('cp-count', 3, [[nodeId]])).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: 'Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.' });
  });

  it('INVALID_REPLICA_ASSIGNMENT when an assignment names another broker, a broker twice, or none', async () => {
    await topic('cp-assign', 1);
    expect(await create('cp-assign', 2, [[nodeId + 1]])).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: `The manual partition assignment includes broker ${nodeId + 1}, but no such broker is registered.` });
    expect(await create('cp-assign', 2, [[nodeId, nodeId]])).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: `The manual partition assignment includes the broker ${nodeId} more than once.` });
    expect(await create('cp-assign', 2, [[]])).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: 'The manual partition assignment includes an empty replica list.' });
    expect(broker.broker.image.topic('cp-assign')!.partitions.length).toBe(1);
    expect(await create('cp-assign', 2, [[nodeId]])).toMatchObject({ errorCode: ErrorCode.NONE });
    expect(broker.broker.image.topic('cp-assign')!.partitions.length).toBe(2);
  });

  it('UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist', async () => {
    expect(await create('cp-missing', 2)).toEqual({ name: 'cp-missing', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' });
  });

  it('POLICY_VIOLATION for more than 10,000 new partitions in one request (a hostile count opens no logs)', async () => {
    await topic('cp-huge', 1);
    expect(await create('cp-huge', 2147483647)).toEqual({ name: 'cp-huge', errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: 'Excessively large number of partitions per request.' });
    expect(broker.broker.image.topic('cp-huge')!.partitions.length).toBe(1);
  });

  it('POLICY_VIOLATION for every growing topic when the request adds more than 10,000 partitions in all', async () => {
    await topic('cp-sum-a', 1);
    await topic('cp-sum-b', 1);
    const res = await c.request(CreatePartitions, 3, { topics: [{ name: 'cp-sum-a', count: 6000, assignments: null }, { name: 'cp-sum-b', count: 6000, assignments: null }], timeoutMs: 5000, validateOnly: false });
    expect(res.results.map((r) => [r.name, r.errorCode, r.errorMessage])).toEqual([
      ['cp-sum-a', ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'],
      ['cp-sum-b', ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'],
    ]);
    expect(broker.broker.image.topic('cp-sum-a')!.partitions.length).toBe(1);
    expect(broker.broker.image.topic('cp-sum-b')!.partitions.length).toBe(1);
  });

  it('INVALID_REQUEST for a topic named twice, once in the answer; the other topics proceed', async () => {
    await topic('cp-twice', 1);
    await topic('cp-once', 1);
    const res = await c.request(CreatePartitions, 2, {
      topics: [{ name: 'cp-twice', count: 2, assignments: null }, { name: 'cp-once', count: 2, assignments: null }, { name: 'cp-twice', count: 3, assignments: null }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expect(res.results).toEqual([
      { name: 'cp-twice', errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' },
      { name: 'cp-once', errorCode: ErrorCode.NONE, errorMessage: null },
    ]);
    expect(broker.broker.image.topic('cp-twice')!.partitions.length).toBe(1);
  });

  it('validateOnly checks and creates nothing', async () => {
    await topic('cp-validate', 1);
    expect(await create('cp-validate', 5, null, true)).toMatchObject({ errorCode: ErrorCode.NONE });
    expect(await create('cp-validate', 1, null, true)).toMatchObject({ errorCode: ErrorCode.INVALID_PARTITIONS });
    expect(broker.broker.image.topic('cp-validate')!.partitions.length).toBe(1);
  });
});

describe('CreateTopics partition cap', () => {
  const topicSpec = (name: string, numPartitions: number) => ({ name, numPartitions, replicationFactor: -1, assignments: [], configs: [] });

  it('POLICY_VIOLATION for every topic of a request asking more than 10,000 partitions; nothing is created', async () => {
    const res = await c.request(CreateTopics, 7, { topics: [topicSpec('ct-huge', 2147483647), topicSpec('ct-small', 1)], timeoutMs: 5000, validateOnly: false });
    expect(res.topics.map((t) => [t.name, t.errorCode, t.errorMessage])).toEqual([
      ['ct-huge', ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'],
      ['ct-small', ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'],
    ]);
    expect((broker.broker.image.topic('ct-huge') !== undefined)).toBe(false);
    expect((broker.broker.image.topic('ct-small') !== undefined)).toBe(false);
  });

  it('the cap is on the sum over the request\'s topics (two of 6,000), also with validateOnly', async () => {
    for (const validateOnly of [true, false]) {
      const res = await c.request(CreateTopics, 5, { topics: [topicSpec('ct-sum-a', 6000), topicSpec('ct-sum-b', 6000)], timeoutMs: 5000, validateOnly });
      expect(res.topics.map((t) => t.errorCode)).toEqual([ErrorCode.POLICY_VIOLATION, ErrorCode.POLICY_VIOLATION]);
    }
    expect((broker.broker.image.topic('ct-sum-a') !== undefined)).toBe(false);
  });

  it('exactly 10,000 in all is within the cap (validateOnly, so no logs are opened)', async () => {
    const res = await c.request(CreateTopics, 5, { topics: [topicSpec('ct-cap-a', 5000), topicSpec('ct-cap-b', 5000)], timeoutMs: 5000, validateOnly: true });
    expect(res.topics.map((t) => t.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.NONE]);
  });
});

describe('AlterConfigs', () => {
  const alter = (version: number, resources: { resourceType: number; resourceName: string; configs: { name: string; value: string | null }[] }[], validateOnly = false) =>
    c.request(AlterConfigs, version, { resources, validateOnly }).then((r) => r.responses);

  for (const version of [0, 1, 2]) {
    it(`v${version} replaces a topic's overrides`, async () => {
      const name = `ac-v${version}`;
      await topic(name, 1, { 'retention.ms': '1000' });
      const res = await alter(version, [{ resourceType: TOPIC, resourceName: name, configs: [{ name: 'segment.ms', value: '60000' }] }]);
      expect(res).toEqual([{ errorCode: ErrorCode.NONE, errorMessage: null, resourceType: TOPIC, resourceName: name }]);
      expect(overrides(name)).toEqual({ 'segment.ms': '60000' });
      expect(broker.broker.getPartition(name, 0)!.log.config).toMatchObject({ segmentMs: 60000, retentionMs: 604800000 });
    });
  }

  it('INVALID_CONFIG with Kafka\'s messages for a bad number, an unknown name, a value out of range, a bad enum', async () => {
    await topic('ac-invalid');
    const one = async (name: string, value: string) => (await alter(2, [{ resourceType: TOPIC, resourceName: 'ac-invalid', configs: [{ name, value }] }]))[0]!;
    expect(await one('retention.ms', 'soon')).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'Invalid value soon for configuration retention.ms: Not a number of type LONG' });
    expect(await one('segment.bytes', '3000000000')).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'Invalid value 3000000000 for configuration segment.bytes: Not a number of type INT' });
    expect(await one('no.such.config', '1')).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'Unknown topic config name: no.such.config' });
    expect(await one('min.insync.replicas', '0')).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'Invalid value 0 for configuration min.insync.replicas: Value must be at least 1' });
    expect(await one('min.cleanable.dirty.ratio', '1.5')).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1' });
    expect(await one('cleanup.policy', 'shred')).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'Invalid value shred for configuration cleanup.policy: String must be one of: compact, delete' });
    expect(overrides('ac-invalid')).toEqual({});
  });

  it('INVALID_CONFIG when min.compaction.lag.ms exceeds max.compaction.lag.ms', async () => {
    await topic('ac-lag');
    const [r] = await alter(1, [{ resourceType: TOPIC, resourceName: 'ac-lag', configs: [{ name: 'min.compaction.lag.ms', value: '5000' }, { name: 'max.compaction.lag.ms', value: '1000' }] }]);
    expect(r).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'conflict topic config setting min.compaction.lag.ms (5000) > max.compaction.lag.ms (1000)' });
  });

  it('UNKNOWN_TOPIC_OR_PARTITION for a missing topic, INVALID_REQUEST for the empty name, INVALID_TOPIC_EXCEPTION for an illegal one', async () => {
    const res = await alter(2, [
      { resourceType: TOPIC, resourceName: 'ac-missing', configs: [{ name: 'retention.ms', value: '1' }] },
      { resourceType: TOPIC, resourceName: '', configs: [{ name: 'retention.ms', value: '1' }] },
      { resourceType: TOPIC, resourceName: 'bad/name', configs: [{ name: 'retention.ms', value: '1' }] },
    ]);
    expect(res.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The topic 'ac-missing' does not exist."],
      [ErrorCode.INVALID_REQUEST, 'Default topic resources are not allowed.'],
      [ErrorCode.INVALID_TOPIC_EXCEPTION, 'Topic name "bad/name" is illegal, it contains a character other than ASCII alphanumerics, \'.\', \'_\' and \'-\''],
    ]);
  });

  it('INVALID_REQUEST for a resource named twice (every copy), a config named twice, a null value; the rest proceeds', async () => {
    await topic('ac-dup');
    await topic('ac-ok');
    const res = await alter(2, [
      { resourceType: TOPIC, resourceName: 'ac-dup', configs: [{ name: 'retention.ms', value: '1' }] },
      { resourceType: TOPIC, resourceName: 'ac-ok', configs: [{ name: 'retention.ms', value: '2' }, { name: 'retention.ms', value: '3' }] },
      { resourceType: TOPIC, resourceName: 'ac-dup', configs: [] },
    ]);
    expect(res.map((r) => [r.resourceName, r.errorCode, r.errorMessage])).toEqual([
      ['ac-dup', ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'],
      ['ac-ok', ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys'],
      ['ac-dup', ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'],
    ]);
    const [nulls] = await alter(0, [{ resourceType: TOPIC, resourceName: 'ac-ok', configs: [{ name: 'retention.ms', value: null }] }]);
    expect(nulls).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Null value not supported for : retention.ms' });
    expect(overrides('ac-dup')).toEqual({});
    expect(overrides('ac-ok')).toEqual({});
  });

  it('validateOnly validates and changes nothing', async () => {
    await topic('ac-validate', 1, { 'retention.ms': '1000' });
    const [ok] = await alter(1, [{ resourceType: TOPIC, resourceName: 'ac-validate', configs: [{ name: 'retention.bytes', value: '1000' }] }], true);
    expect(ok!.errorCode).toBe(ErrorCode.NONE);
    const [bad] = await alter(1, [{ resourceType: TOPIC, resourceName: 'ac-validate', configs: [{ name: 'retention.bytes', value: 'x' }] }], true);
    expect(bad!.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(overrides('ac-validate')).toEqual({ 'retention.ms': '1000' });
  });

  it('broker resource: another node id, a non-numeric name, a static config and a bad value are INVALID_REQUEST (Kafka\'s messages)', async () => {
    const res = await alter(2, [
      { resourceType: BROKER, resourceName: String(nodeId + 7), configs: [{ name: 'log.retention.ms', value: '1000' }] },
      { resourceType: BROKER, resourceName: 'one', configs: [{ name: 'log.retention.ms', value: '1000' }] },
      { resourceType: BROKER, resourceName: String(nodeId), configs: [{ name: 'auto.create.topics.enable', value: 'false' }, { name: 'log.dirs', value: '/tmp' }] },
      { resourceType: BROKER, resourceName: '', configs: [{ name: 'log.retention.ms', value: 'later' }] },
    ]);
    expect(res.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      [ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${nodeId}, but received ${nodeId + 7}`],
      [ErrorCode.INVALID_REQUEST, 'Node id must be an integer, but it is: one'],
      [ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: Set(auto.create.topics.enable, log.dirs)'],
      [ErrorCode.INVALID_REQUEST, 'Invalid value later for configuration log.retention.ms: Not a number of type LONG'],
    ]);
    expect([...broker.broker.dynamicConfig.get('perBroker')]).toEqual([]);
    expect([...broker.broker.dynamicConfig.get('clusterDefault')]).toEqual([]);
  });

  it('INVALID_REQUEST for resource types this broker does not alter (BROKER_LOGGER, unknown)', async () => {
    const res = await alter(2, [
      { resourceType: 8, resourceName: String(nodeId), configs: [{ name: 'kafka.server', value: 'DEBUG' }] },
      { resourceType: 3, resourceName: 'x', configs: [] },
    ]);
    expect(res.map((r) => r.errorCode)).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
  });
});

describe('IncrementalAlterConfigs', () => {
  const incremental = (version: number, resources: { resourceType: number; resourceName: string; configs: { name: string; configOperation: number; value: string | null }[] }[], validateOnly = false) =>
    c.request(IncrementalAlterConfigs, version, { resources, validateOnly }).then((r) => r.responses);

  for (const version of [0, 1]) {
    it(`v${version}: SET and DELETE change single configs and keep the others`, async () => {
      const name = `iac-v${version}`;
      await topic(name, 1, { 'retention.ms': '1000', 'segment.ms': '50000' });
      const [r] = await incremental(version, [{ resourceType: TOPIC, resourceName: name, configs: [{ name: 'retention.bytes', configOperation: SET, value: '4096' }, { name: 'segment.ms', configOperation: DELETE, value: null }] }]);
      expect(r).toEqual({ errorCode: ErrorCode.NONE, errorMessage: null, resourceType: TOPIC, resourceName: name });
      expect(overrides(name)).toEqual({ 'retention.ms': '1000', 'retention.bytes': '4096' });
      expect(broker.broker.getPartition(name, 0)!.log.config).toMatchObject({ retentionBytes: 4096, retentionMs: 1000, segmentMs: 604800000 });
    });
  }

  it('APPEND and SUBTRACT edit the LIST config cleanup.policy, starting from its default', async () => {
    await topic('iac-list');
    const op = (configOperation: number, value: string) => incremental(1, [{ resourceType: TOPIC, resourceName: 'iac-list', configs: [{ name: 'cleanup.policy', configOperation, value }] }]);
    expect((await op(APPEND, 'compact'))[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(overrides('iac-list')).toEqual({ 'cleanup.policy': 'delete,compact' });
    expect((await op(APPEND, 'compact'))[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(overrides('iac-list')).toEqual({ 'cleanup.policy': 'delete,compact' });
    expect((await op(SUBTRACT, 'delete'))[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(overrides('iac-list')).toEqual({ 'cleanup.policy': 'compact' });
    expect(broker.broker.getPartition('iac-list', 0)!.log.config.cleanupPolicy).toBe('compact');
  });

  it('INVALID_CONFIG for APPEND / SUBTRACT on a config that is not a LIST', async () => {
    await topic('iac-notlist');
    const [r] = await incremental(1, [{ resourceType: TOPIC, resourceName: 'iac-notlist', configs: [{ name: 'retention.ms', configOperation: APPEND, value: '1' }] }]);
    expect(r).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: "Can't APPEND to key retention.ms because its type is not LIST." });
    const [s] = await incremental(1, [{ resourceType: BROKER, resourceName: String(nodeId), configs: [{ name: 'log.retention.ms', configOperation: SUBTRACT, value: '1' }] }]);
    expect(s).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'Config value subtract is not allowed for config key: log.retention.ms' });
  });

  it('INVALID_REQUEST for a null value with SET, an unknown operation, a config named twice', async () => {
    await topic('iac-bad');
    const res = await incremental(0, [{ resourceType: TOPIC, resourceName: 'iac-bad', configs: [{ name: 'retention.ms', configOperation: SET, value: null }] }]);
    expect(res[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Null value not supported for : retention.ms' });
    const op = await incremental(0, [{ resourceType: TOPIC, resourceName: 'iac-bad', configs: [{ name: 'retention.ms', configOperation: 9, value: '1' }] }]);
    expect(op[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unknown operations type 9' });
    const twice = await incremental(0, [{ resourceType: TOPIC, resourceName: 'iac-bad', configs: [{ name: 'retention.ms', configOperation: SET, value: '1' }, { name: 'retention.ms', configOperation: DELETE, value: null }] }]);
    expect(twice[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Error due to duplicate config keys' });
    expect(overrides('iac-bad')).toEqual({});
  });

  it('validateOnly changes nothing', async () => {
    await topic('iac-validate');
    const [r] = await incremental(1, [{ resourceType: TOPIC, resourceName: 'iac-validate', configs: [{ name: 'max.message.bytes', configOperation: SET, value: '100' }] }], true);
    expect(r!.errorCode).toBe(ErrorCode.NONE);
    expect(overrides('iac-validate')).toEqual({});
    expect(await produce('iac-validate', 0, 1, 500)).toBe(ErrorCode.NONE);
  });

  it('max.message.bytes SET on a live topic: the next produce is MESSAGE_TOO_LARGE; DELETE: accepted again', async () => {
    await topic('iac-live');
    expect(await produce('iac-live', 0, 1, 500)).toBe(ErrorCode.NONE);
    await incremental(1, [{ resourceType: TOPIC, resourceName: 'iac-live', configs: [{ name: 'max.message.bytes', configOperation: SET, value: '100' }] }]);
    expect(await produce('iac-live', 0, 1, 500)).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    await incremental(1, [{ resourceType: TOPIC, resourceName: 'iac-live', configs: [{ name: 'max.message.bytes', configOperation: DELETE, value: null }] }]);
    expect(await produce('iac-live', 0, 1, 500)).toBe(ErrorCode.NONE);
  });

  it('message.timestamp.type SET to LogAppendTime on a live topic: the next produce gets the broker\'s time', async () => {
    await topic('iac-ts');
    await incremental(1, [{ resourceType: TOPIC, resourceName: 'iac-ts', configs: [{ name: 'message.timestamp.type', configOperation: SET, value: 'LogAppendTime' }] }]);
    const before = Date.now();
    const records = [{ key: null, value: Buffer.from('v'), timestamp: 1000 }];
    const res = await c.request(Produce, 9, { acks: 1, timeoutMs: 5000, topicData: [{ name: 'iac-ts', partitionData: [{ index: 0, records: await buildBatch(records) }] }] });
    expect(Number(res.responses[0]!.partitionResponses[0]!.logAppendTimeMs)).toBeGreaterThanOrEqual(before);
  });

  it('broker configs: the cluster default and this node\'s value layer over server.properties; DescribeConfigs reports their sources', async () => {
    await topic('iac-broker');
    const set = (resourceName: string, configOperation: number, value: string | null) =>
      incremental(1, [{ resourceType: BROKER, resourceName, configs: [{ name: 'log.segment.bytes', configOperation, value }] }]).then((r) => r[0]!.errorCode);
    const describeTopic = async () => {
      const res = await c.request(DescribeConfigs, 4, { resources: [{ resourceType: TOPIC, resourceName: 'iac-broker', configurationKeys: ['segment.bytes'] }], includeSynonyms: true, includeDocumentation: false });
      return res.results[0]!.configs[0]!;
    };
    expect(await set('', SET, '2000000')).toBe(ErrorCode.NONE);
    expect(await describeTopic()).toMatchObject({ value: '2000000', configSource: 3 });
    expect(broker.broker.getPartition('iac-broker', 0)!.log.config.segmentBytes).toBe(2000000);
    expect(await set(String(nodeId), SET, '3000000')).toBe(ErrorCode.NONE);
    const described = await describeTopic();
    expect(described).toMatchObject({ value: '3000000', configSource: 2 });
    expect(described.synonyms.map((s) => [s.name, s.value, s.source])).toEqual([
      ['log.segment.bytes', '3000000', 2],
      ['log.segment.bytes', '2000000', 3],
      ['log.segment.bytes', '1073741824', 5],
    ]);
    const defaults = await c.request(DescribeConfigs, 4, { resources: [{ resourceType: BROKER, resourceName: '', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
    expect(defaults.results[0]!.configs.map((e) => [e.name, e.value, e.configSource, e.readOnly])).toEqual([['log.segment.bytes', '2000000', 3, false]]);
    expect(await set(String(nodeId), DELETE, null)).toBe(ErrorCode.NONE);
    expect(await set('', DELETE, null)).toBe(ErrorCode.NONE);
    expect(await describeTopic()).toMatchObject({ value: '1073741824', configSource: 5 });
    expect(broker.broker.getPartition('iac-broker', 0)!.log.config.segmentBytes).toBe(1073741824);
  });

  it('broker APPEND to log.cleanup.policy; a static config is INVALID_REQUEST; DELETE of a static config is a no-op, as in Kafka', async () => {
    const id = String(nodeId);
    const [a] = await incremental(1, [{ resourceType: BROKER, resourceName: id, configs: [{ name: 'log.cleanup.policy', configOperation: APPEND, value: 'compact' }] }]);
    expect(a!.errorCode).toBe(ErrorCode.NONE);
    expect(broker.broker.dynamicConfig.get('perBroker').get('log.cleanup.policy')).toBe('delete,compact');
    const [s] = await incremental(1, [{ resourceType: BROKER, resourceName: id, configs: [{ name: 'num.partitions', configOperation: SET, value: '3' }] }]);
    expect(s).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Cannot update these configs dynamically: Set(num.partitions)' });
    const [d] = await incremental(1, [{ resourceType: BROKER, resourceName: id, configs: [{ name: 'num.partitions', configOperation: DELETE, value: null }, { name: 'log.cleanup.policy', configOperation: DELETE, value: null }] }]);
    expect(d!.errorCode).toBe(ErrorCode.NONE);
    expect([...broker.broker.dynamicConfig.get('perBroker')]).toEqual([]);
  });
});

describe('Kafka\'s other dynamic broker configs (kept and described, not applied)', () => {
  const iac = (resourceName: string, configs: { name: string; configOperation: number; value: string | null }[]) =>
    c.request(IncrementalAlterConfigs, 1, { resources: [{ resourceType: BROKER, resourceName, configs }], validateOnly: false }).then((r) => r.responses[0]!);
  const describeBroker = async (resourceName: string, keys: string[]) => {
    const res = await c.request(DescribeConfigs, 4, { resources: [{ resourceType: BROKER, resourceName, configurationKeys: keys }], includeSynonyms: true, includeDocumentation: false });
    return res.results[0]!.configs;
  };
  const clear = () =>
    c.request(AlterConfigs, 2, { resources: [{ resourceType: BROKER, resourceName: '', configs: [] }, { resourceType: BROKER, resourceName: String(nodeId), configs: [] }], validateOnly: false });

  it('per-broker: SASL, thread pool, cleaner and listener-prefixed configs are accepted and described as DYNAMIC_BROKER_CONFIG', async () => {
    const node = String(nodeId);
    const r = await iac(node, [
      { name: 'sasl.kerberos.min.time.before.relogin', configOperation: SET, value: '30000' },
      { name: 'num.io.threads', configOperation: SET, value: '16' },
      { name: 'log.cleaner.threads', configOperation: SET, value: '2' },
      { name: 'listener.name.plaintext.ssl.keystore.location', configOperation: SET, value: '/etc/ks.jks' },
    ]);
    expect(r).toMatchObject({ errorCode: ErrorCode.NONE, errorMessage: null });
    const configs = await describeBroker(node, ['sasl.kerberos.min.time.before.relogin', 'num.io.threads', 'log.cleaner.threads', 'listener.name.plaintext.ssl.keystore.location']);
    expect(configs.map((e) => [e.name, e.value, e.configSource, e.readOnly]).sort()).toEqual([
      ['listener.name.plaintext.ssl.keystore.location', '/etc/ks.jks', 2, false],
      ['log.cleaner.threads', '2', 2, false],
      ['num.io.threads', '16', 2, false],
      ['sasl.kerberos.min.time.before.relogin', '30000', 2, false],
    ]);
    // Unset, they are described with Kafka's default.
    await clear();
    expect((await describeBroker(node, ['num.io.threads']))[0]).toMatchObject({ value: '8', configSource: 5, readOnly: false });
  });

  it('cluster default: num.io.threads at the empty name is DYNAMIC_DEFAULT_BROKER_CONFIG on the node', async () => {
    expect((await iac('', [{ name: 'num.io.threads', configOperation: SET, value: '12' }])).errorCode).toBe(ErrorCode.NONE);
    expect((await describeBroker(String(nodeId), ['num.io.threads']))[0]).toMatchObject({ value: '12', configSource: 3 });
    expect((await describeBroker('', ['num.io.threads']))[0]).toMatchObject({ value: '12', configSource: 3 });
    await clear();
  });

  it('Kafka\'s refusals, INVALID_REQUEST: unprefixed keystore settings, per-broker settings at the cluster default, bad types and ranges', async () => {
    expect(await iac(String(nodeId), [{ name: 'ssl.keystore.location', configOperation: SET, value: '/x' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'These security configs can be dynamically updated only per-listener using the listener prefix: Set(ssl.keystore.location)',
    });
    expect(await iac('', [{ name: 'sasl.kerberos.min.time.before.relogin', configOperation: SET, value: '1000' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Cannot update these configs at default cluster level, broker id must be specified: Set(sasl.kerberos.min.time.before.relogin)',
    });
    expect(await iac(String(nodeId), [{ name: 'num.io.threads', configOperation: SET, value: 'many' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Invalid value many for configuration num.io.threads: Not a number of type INT',
    });
    expect(await iac('', [{ name: 'producer.id.expiration.ms', configOperation: SET, value: '0' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Invalid value 0 for configuration producer.id.expiration.ms: Value must be at least 1',
    });
    expect(await iac(String(nodeId), [{ name: 'num.io.threads', configOperation: SET, value: '0' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Invalid value 0 for configuration num.io.threads: Value must be at least 1',
    });
    expect([...broker.broker.dynamicConfig.get('perBroker')]).toEqual([]);
    expect([...broker.broker.dynamicConfig.get('clusterDefault')]).toEqual([]);
  });

  it('a password is kept but described sensitive, with no value', async () => {
    expect((await iac(String(nodeId), [{ name: 'listener.name.plaintext.ssl.keystore.password', configOperation: SET, value: 's3cret' }])).errorCode).toBe(ErrorCode.NONE);
    const [e] = await describeBroker(String(nodeId), ['listener.name.plaintext.ssl.keystore.password']);
    expect(e).toMatchObject({ value: null, isSensitive: true, configSource: 2 });
    expect(e!.synonyms.every((syn) => syn.value === null)).toBe(true);
    await clear();
  });

  it('APPEND to a LIST config (sasl.enabled.mechanisms) starts from Kafka\'s default', async () => {
    expect((await iac(String(nodeId), [{ name: 'sasl.enabled.mechanisms', configOperation: APPEND, value: 'PLAIN' }])).errorCode).toBe(ErrorCode.NONE);
    expect((await describeBroker(String(nodeId), ['sasl.enabled.mechanisms']))[0]!.value).toBe('GSSAPI,PLAIN');
    await clear();
  });
});

describe('dynamic broker configs across a restart', () => {
  it('keeps this node\'s values and the cluster defaults, and applies them to the reopened logs', async () => {
    await topic('dyn-restart');
    const r = await c.request(IncrementalAlterConfigs, 1, {
      resources: [
        { resourceType: BROKER, resourceName: '', configs: [{ name: 'log.retention.bytes', configOperation: SET, value: '5000000' }] },
        { resourceType: BROKER, resourceName: String(nodeId), configs: [{ name: 'message.max.bytes', configOperation: SET, value: '400' }] },
      ],
      validateOnly: false,
    });
    expect(r.responses.map((x) => x.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.NONE]);
    const kept = await c.request(IncrementalAlterConfigs, 1, { resources: [{ resourceType: BROKER, resourceName: String(nodeId), configs: [{ name: 'message.max.bytes', configOperation: SET, value: '400' }, { name: 'num.network.threads', configOperation: SET, value: '5' }, { name: 'log.cleaner.backoff.ms', configOperation: SET, value: '777' }] }], validateOnly: false });
    expect(kept.responses[0]!.errorCode).toBe(ErrorCode.NONE);
    c.close();
    broker = await broker.restart();
    c = await RawClient.connect(broker.port);
    expect(broker.broker.getPartition('dyn-restart', 0)!.log.config.retentionBytes).toBe(5000000);
    expect(await produce('dyn-restart', 0, 1, 600)).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    const afterRestart = await c.request(DescribeConfigs, 4, { resources: [{ resourceType: BROKER, resourceName: String(nodeId), configurationKeys: ['num.network.threads'] }], includeSynonyms: false, includeDocumentation: false });
    expect(afterRestart.results[0]!.configs[0]).toMatchObject({ value: '5', configSource: 2 });
    // log.cleaner.backoff.ms is dynamic in Kafka and used by Samsa's cleaner, reconfigured from the replayed log.
    expect((broker.broker.logCleaner as unknown as { backoffMs: number }).backoffMs).toBe(777);
    const cleared = await c.request(AlterConfigs, 2, {
      resources: [{ resourceType: BROKER, resourceName: '', configs: [] }, { resourceType: BROKER, resourceName: String(nodeId), configs: [] }],
      validateOnly: false,
    });
    expect(cleared.responses.map((x) => x.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.NONE]);
    expect(await produce('dyn-restart', 0, 1, 600)).toBe(ErrorCode.NONE);
  });
});

describe('DescribeCluster', () => {
  for (const version of [0, 1]) {
    it(`v${version} describes this broker, the controller and the cluster id`, async () => {
      const res = await c.request(DescribeCluster, version, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      expect(res).toMatchObject({
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        clusterId: broker.broker.config.clusterId,
        controllerId: nodeId,
        brokers: [{ brokerId: nodeId, host: '127.0.0.1', port: broker.port, rack: null }],
        clusterAuthorizedOperations: -2147483648,
      });
      if (version >= 1) expect(res.endpointType).toBe(1);
    });
  }

  it('reports every cluster operation as authorized when asked (no authorizer)', async () => {
    const res = await c.request(DescribeCluster, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 });
    // CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE
    expect(res.clusterAuthorizedOperations).toBe(0b1_1111_1010_0000);
  });

  it('v1: MISMATCHED_ENDPOINT_TYPE for controllers, UNSUPPORTED_ENDPOINT_TYPE for unknown types', async () => {
    const controllers = await c.request(DescribeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 2 });
    expect(controllers).toMatchObject({ errorCode: ErrorCode.MISMATCHED_ENDPOINT_TYPE, errorMessage: 'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER', brokers: [] });
    const unknown = await c.request(DescribeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 7 });
    expect(unknown).toMatchObject({ errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, errorMessage: 'Unsupported endpoint type 7' });
  });
});

describe('Metadata authorized operations (KIP-430, no authorizer)', () => {
  // Bits of AclOperation codes: TOPIC READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8,
  // DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11; CLUSTER CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
  // DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
  const TOPIC_OPS = 0b1101_1111_1000;
  const CLUSTER_OPS = 0b1_1111_1010_0000;
  const OMITTED = -2147483648;

  for (const version of [8, 9, 10, 11, 12]) {
    it(`v${version}: every topic operation for each topic when asked${version <= 10 ? ', every cluster operation' : ''}; "omitted" when not`, async () => {
      await topic(`md-ops-v${version}`, 1);
      const ask = (include: boolean) =>
        c.request(Metadata, version, {
          topics: [{ name: `md-ops-v${version}`, topicId: '00000000-0000-0000-0000-000000000000' }, { name: 'md-ops-missing', topicId: '00000000-0000-0000-0000-000000000000' }],
          allowAutoTopicCreation: false,
          includeClusterAuthorizedOperations: include && version <= 10,
          includeTopicAuthorizedOperations: include,
        });
      const asked = await ask(true);
      expect(asked.topics.map((t) => [t.name, t.errorCode, t.topicAuthorizedOperations])).toEqual([
        [`md-ops-v${version}`, ErrorCode.NONE, TOPIC_OPS],
        ['md-ops-missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, TOPIC_OPS],
      ]);
      if (version <= 10) expect(asked.clusterAuthorizedOperations).toBe(CLUSTER_OPS);
      const notAsked = await ask(false);
      expect(notAsked.topics.map((t) => t.topicAuthorizedOperations)).toEqual([OMITTED, OMITTED]);
      if (version <= 10) expect(notAsked.clusterAuthorizedOperations).toBe(OMITTED);
    });
  }
});

describe('DeleteRecords', () => {
  const del = (version: number, name: string, partitions: { partitionIndex: number; offset: bigint }[]) =>
    c.request(DeleteRecords, version, { topics: [{ name, partitions }], timeoutMs: 5000 }).then((r) => r.topics[0]!.partitions);

  for (const version of [0, 1, 2]) {
    it(`v${version} moves the log start offset and answers the low watermark`, async () => {
      const name = `dr-v${version}`;
      await topic(name, 2);
      await produce(name, 0, 10);
      const res = await del(version, name, [{ partitionIndex: 0, offset: 6n }, { partitionIndex: 1, offset: 0n }]);
      expect(res).toEqual([
        { partitionIndex: 0, lowWatermark: 6n, errorCode: ErrorCode.NONE },
        { partitionIndex: 1, lowWatermark: 0n, errorCode: ErrorCode.NONE },
      ]);
    });
  }

  it('-1 means the high watermark; an offset at or below the start changes nothing', async () => {
    await topic('dr-hw');
    await produce('dr-hw', 0, 7);
    expect(await del(2, 'dr-hw', [{ partitionIndex: 0, offset: -1n }])).toEqual([{ partitionIndex: 0, lowWatermark: 7n, errorCode: ErrorCode.NONE }]);
    expect(await del(2, 'dr-hw', [{ partitionIndex: 0, offset: 3n }])).toEqual([{ partitionIndex: 0, lowWatermark: 7n, errorCode: ErrorCode.NONE }]);
  });

  it('OFFSET_OUT_OF_RANGE above the high watermark and for a negative offset other than -1', async () => {
    await topic('dr-range');
    await produce('dr-range', 0, 3);
    expect(await del(1, 'dr-range', [{ partitionIndex: 0, offset: 4n }, { partitionIndex: 0, offset: -2n }])).toEqual([
      { partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE },
      { partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE },
    ]);
    expect(broker.broker.getPartition('dr-range', 0)!.logStartOffset).toBe(0);
  });

  it('UNKNOWN_TOPIC_OR_PARTITION for a missing topic or partition', async () => {
    await topic('dr-unknown');
    expect(await del(2, 'dr-unknown', [{ partitionIndex: 3, offset: 0n }])).toEqual([{ partitionIndex: 3, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }]);
    expect(await del(2, 'dr-nothing', [{ partitionIndex: 0, offset: 0n }])).toEqual([{ partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }]);
  });

  it('POLICY_VIOLATION on a compacted topic', async () => {
    await topic('dr-compact', 1, { 'cleanup.policy': 'compact' });
    await produce('dr-compact', 0, 3);
    expect(await del(2, 'dr-compact', [{ partitionIndex: 0, offset: 2n }])).toEqual([{ partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.POLICY_VIOLATION }]);
  });

  it('records below the new start are gone: Fetch is OFFSET_OUT_OF_RANGE, ListOffsets EARLIEST is the new start, also after a restart', async () => {
    await topic('dr-read');
    await produce('dr-read', 0, 10);
    await del(2, 'dr-read', [{ partitionIndex: 0, offset: 4n }]);
    const fetch = (offset: bigint) =>
      c.request(Fetch, 11, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, topics: [{ topic: 'dr-read', partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }] }).then((r) => r.responses[0]!.partitions[0]!);
    expect((await fetch(2n)).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect(await fetch(4n)).toMatchObject({ errorCode: ErrorCode.NONE, logStartOffset: 4n });
    const earliest = async () =>
      (await c.request(ListOffsets, 5, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'dr-read', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -2n }] }] })).topics[0]!.partitions[0]!.offset;
    expect(await earliest()).toBe(4n);
    c.close();
    broker = await broker.restart();
    c = await RawClient.connect(broker.port);
    expect(await earliest()).toBe(4n);
  });
});

describe('OffsetForLeaderEpoch', () => {
  const ask = (version: number, name: string, partitions: { partition: number; currentLeaderEpoch: number; leaderEpoch: number }[], replicaId = -1) =>
    c.request(OffsetForLeaderEpoch, version, { replicaId, topics: [{ topic: name, partitions }] }).then((r) => r.topics[0]!.partitions);

  for (const version of [2, 3, 4]) {
    it(`v${version}: the current epoch ends at the log end offset, also on an empty partition`, async () => {
      const name = `ofle-v${version}`;
      await topic(name, 2);
      await produce(name, 0, 5);
      expect(await ask(version, name, [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }, { partition: 1, currentLeaderEpoch: -1, leaderEpoch: 0 }])).toEqual([
        { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: 0, endOffset: 5n },
        { errorCode: ErrorCode.NONE, partition: 1, leaderEpoch: 0, endOffset: 0n },
      ]);
    });
  }

  it('an epoch above every known one, or -1, is leaderEpoch -1 / endOffset -1 with no error', async () => {
    await topic('ofle-unknown');
    await produce('ofle-unknown', 0, 2);
    expect(await ask(3, 'ofle-unknown', [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 4 }, { partition: 0, currentLeaderEpoch: -1, leaderEpoch: -1 }])).toEqual([
      { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: -1, endOffset: -1n },
      { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: -1, endOffset: -1n },
    ]);
  });

  it('older epochs end where the next one starts, with the largest known epoch at or below the one asked', async () => {
    await topic('ofle-history');
    const partition = broker.broker.getPartition('ofle-history', 0)!;
    await produce('ofle-history', 0, 4); // epoch 0: offsets 0-3
    partition.makeLeader({ partition: 0, replicas: [nodeId], isr: [nodeId], leader: nodeId, leaderEpoch: 2, partitionEpoch: 2 }, nodeId); // as after two leader changes
    await produce('ofle-history', 0, 3); // epoch 2: offsets 4-6
    expect(await ask(4, 'ofle-history', [0, 1, 2].map((leaderEpoch) => ({ partition: 0, currentLeaderEpoch: 2, leaderEpoch })))).toEqual([
      { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: 0, endOffset: 4n },
      { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: 0, endOffset: 4n },
      { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: 2, endOffset: 7n },
    ]);
    // currentLeaderEpoch fencing (KIP-320): older is FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH.
    expect(await ask(2, 'ofle-history', [{ partition: 0, currentLeaderEpoch: 1, leaderEpoch: 0 }, { partition: 0, currentLeaderEpoch: 3, leaderEpoch: 0 }])).toEqual([
      { errorCode: ErrorCode.FENCED_LEADER_EPOCH, partition: 0, leaderEpoch: -1, endOffset: -1n },
      { errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH, partition: 0, leaderEpoch: -1, endOffset: -1n },
    ]);
  });

  it('a follower replica id (v3+) gets the same answer as a consumer', async () => {
    await topic('ofle-replica');
    await produce('ofle-replica', 0, 2);
    const consumer = await ask(3, 'ofle-replica', [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }], -1);
    expect(await ask(3, 'ofle-replica', [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }], nodeId + 1)).toEqual(consumer);
    expect(await ask(4, 'ofle-replica', [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }], -2)).toEqual(consumer);
  });

  it('UNKNOWN_TOPIC_OR_PARTITION for a missing topic or partition', async () => {
    await topic('ofle-missing');
    expect(await ask(4, 'ofle-missing', [{ partition: 1, currentLeaderEpoch: -1, leaderEpoch: 0 }])).toEqual([{ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partition: 1, leaderEpoch: -1, endOffset: -1n }]);
    expect(await ask(4, 'ofle-nothing', [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }])).toEqual([{ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partition: 0, leaderEpoch: -1, endOffset: -1n }]);
  });

  it('v0-1 are not advertised: the connection is closed, as for any unsupported version', async () => {
    const other = await RawClient.connect(broker.port);
    other.sendRaw(other.encodeRequest(OffsetForLeaderEpoch, 1, { replicaId: -2, topics: [] }));
    expect(await other.nextFrame()).toBeNull();
  });
});
