/**
 * applyMetadataRecord (src/broker/metadata-replay.ts): each metadata record type applied to the image with
 * Kafka's semantics (records encoded and decoded by our serde, as they travel in the log), the refusals
 * (typed MetadataReplayError, image unchanged), and the replay of a metadata log written by Kafka 4.4.0
 * itself (test/vectors/kafka/cluster-metadata-kafka-4.4.0/, conformance/tools/capture-cluster-metadata.sh):
 * an independent source for what the image must hold after its topics, configs, producer ids, deletion
 * and controlled shutdown.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOG_OVERHEAD, isControl, readBatchHeader } from '../../protocol/records/batch.js';
import { readRecordsSync } from '../../protocol/records/record.js';
import { BrokerRegistrationChangeRecord } from '../../protocol/metadata/broker-registration-change-record.js';
import { ConfigRecord } from '../../protocol/metadata/config-record.js';
import { FeatureLevelRecord } from '../../protocol/metadata/feature-level-record.js';
import { FenceBrokerRecord } from '../../protocol/metadata/fence-broker-record.js';
import { NoOpRecord } from '../../protocol/metadata/no-op-record.js';
import { PartitionChangeRecord } from '../../protocol/metadata/partition-change-record.js';
import { PartitionRecord } from '../../protocol/metadata/partition-record.js';
import { ProducerIdsRecord } from '../../protocol/metadata/producer-ids-record.js';
import { RegisterBrokerRecord } from '../../protocol/metadata/register-broker-record.js';
import { RemoveTopicRecord } from '../../protocol/metadata/remove-topic-record.js';
import { decodeMetadataRecord, encodeMetadataRecord, type DecodedMetadataRecord } from '../../protocol/metadata/serde.js';
import { TopicRecord } from '../../protocol/metadata/topic-record.js';
import { UnfenceBrokerRecord } from '../../protocol/metadata/unfence-broker-record.js';
import { UnregisterBrokerRecord } from '../../protocol/metadata/unregister-broker-record.js';
import type { MessageCodec, MessageDecl, MessageInput } from '../../protocol/schema.js';
import { MetadataImage } from '../../src/broker/metadata-image.js';
import { applyMetadataRecord, MetadataReplayError } from '../../src/broker/metadata-replay.js';
import { parseKafkaUuidString } from '../../storage/kafka-uuid.js';
import { REPO_ROOT } from '../helpers/kafka-specs.js';

/** A record as it comes out of the log: encoded at `version` by our serde, then decoded. */
function rec<M extends MessageDecl>(codec: MessageCodec<M>, value: MessageInput<M>, version = codec.validVersions.max): DecodedMetadataRecord {
  return decodeMetadataRecord(encodeMetadataRecord(codec, value, version));
}

/** Applies records at consecutive offsets from `from`. */
function replay(image: MetadataImage, records: readonly DecodedMetadataRecord[], from = image.offset + 1): MetadataImage {
  let i = image;
  records.forEach((r, k) => {
    i = applyMetadataRecord(i, r, from + k);
  });
  return i;
}

const T1 = '5d1b1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
const INC = 'aa1b1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b';

const register = (brokerId: number, epoch: bigint, port = 9092 + brokerId) =>
  rec(RegisterBrokerRecord, {
    brokerId,
    incarnationId: INC,
    brokerEpoch: epoch,
    endPoints: [{ name: 'PLAINTEXT', host: '127.0.0.1', port, securityProtocol: 0 }],
    features: [],
    rack: null,
    fenced: true,
  });

/** Three registered brokers (epochs 0, 1, 2) and a topic with one partition on all of them, led by 1. */
function cluster(): MetadataImage {
  return replay(MetadataImage.EMPTY, [
    register(1, 0n),
    register(2, 1n),
    register(3, 2n),
    rec(TopicRecord, { name: 't', topicId: T1 }),
    rec(PartitionRecord, { partitionId: 0, topicId: T1, replicas: [1, 2, 3], isr: [1, 2, 3], removingReplicas: [], addingReplicas: [], leader: 1, leaderEpoch: 0, partitionEpoch: 0, directories: [] }),
  ]);
}

describe('applyMetadataRecord', () => {
  it('RegisterBrokerRecord registers a fenced broker with its epoch, incarnation and listeners', () => {
    const image = applyMetadataRecord(MetadataImage.EMPTY, register(2, 7n), 7);
    const b = image.brokers.get(2)!;
    expect(b).toMatchObject({ nodeId: 2, host: '127.0.0.1', port: 9094, epoch: 7, incarnationId: INC, fenced: true, inControlledShutdown: false, rack: null });
    expect(b.listeners).toEqual([{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9094, securityProtocol: 0 }]);
    expect(image.offset).toBe(7);
    expect(MetadataImage.EMPTY.brokers.size).toBe(0);
  });

  it('a re-registration replaces the registration and its epoch', () => {
    const image = replay(MetadataImage.EMPTY, [register(1, 0n, 1111), register(1, 1n, 2222)]);
    expect(image.brokers.get(1)).toMatchObject({ epoch: 1, port: 2222 });
  });

  it('Fence/Unfence and BrokerRegistrationChangeRecord change fencing and controlled shutdown of the registration with that epoch', () => {
    let image = cluster();
    image = applyMetadataRecord(image, rec(UnfenceBrokerRecord, { id: 2, epoch: 1n }), 10);
    expect(image.brokers.get(2)!.fenced).toBe(false);
    image = applyMetadataRecord(image, rec(FenceBrokerRecord, { id: 2, epoch: 1n }), 11);
    expect(image.brokers.get(2)!.fenced).toBe(true);
    image = applyMetadataRecord(image, rec(BrokerRegistrationChangeRecord, { brokerId: 2, brokerEpoch: 1n, fenced: -1 }), 12);
    expect(image.brokers.get(2)).toMatchObject({ fenced: false, inControlledShutdown: false });
    image = applyMetadataRecord(image, rec(BrokerRegistrationChangeRecord, { brokerId: 2, brokerEpoch: 1n, inControlledShutdown: 1 }), 13);
    expect(image.brokers.get(2)).toMatchObject({ fenced: false, inControlledShutdown: true });
    image = applyMetadataRecord(image, rec(BrokerRegistrationChangeRecord, { brokerId: 2, brokerEpoch: 1n, fenced: 1 }), 14);
    expect(image.brokers.get(2)).toMatchObject({ fenced: true, inControlledShutdown: true });
  });

  it('a broker change with a stale epoch or for an unknown broker is refused', () => {
    const image = cluster();
    expect(() => applyMetadataRecord(image, rec(UnfenceBrokerRecord, { id: 2, epoch: 0n }), 10)).toThrow(MetadataReplayError);
    expect(() => applyMetadataRecord(image, rec(FenceBrokerRecord, { id: 9, epoch: 0n }), 10)).toThrow(/no broker registration found for broker 9/);
    expect(() => applyMetadataRecord(image, rec(UnregisterBrokerRecord, { brokerId: 3, brokerEpoch: 5n }), 10)).toThrow(/with epoch 5/);
    expect(() => applyMetadataRecord(image, rec(BrokerRegistrationChangeRecord, { brokerId: 2, brokerEpoch: 1n, fenced: 3 }), 10)).toThrow(/invalid fencing change 3/);
    expect(image.offset).toBe(4);
  });

  it('UnregisterBrokerRecord removes the registration', () => {
    const image = applyMetadataRecord(cluster(), rec(UnregisterBrokerRecord, { brokerId: 3, brokerEpoch: 2n }), 10);
    expect([...image.brokers.keys()]).toEqual([1, 2]);
  });

  it('TopicRecord and PartitionRecords create a topic', () => {
    const image = cluster();
    expect(image.topic('t')).toMatchObject({ name: 't', topicId: T1 });
    expect(image.topicById(T1)!.partitions).toEqual([{ partition: 0, replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 0, leaderRecoveryState: 0 }]);
  });

  it('a second TopicRecord with the same id or name, a PartitionRecord for an unknown topic or past the end are refused', () => {
    const image = cluster();
    expect(() => applyMetadataRecord(image, rec(TopicRecord, { name: 'u', topicId: T1 }), 10)).toThrow(/topic id .* already exists/);
    expect(() => applyMetadataRecord(image, rec(TopicRecord, { name: 't', topicId: INC }), 10)).toThrow(/a topic named t already exists/);
    const orphan = { partitionId: 0, topicId: INC, replicas: [1], isr: [1], removingReplicas: [], addingReplicas: [], leader: 1, leaderEpoch: 0, partitionEpoch: 0, directories: [] };
    expect(() => applyMetadataRecord(image, rec(PartitionRecord, orphan), 10)).toThrow(/PartitionRecord at offset 10: no topic with id/);
    expect(() => applyMetadataRecord(image, rec(PartitionRecord, { ...orphan, topicId: T1, partitionId: 2 }), 10)).toThrow(/gap/);
    expect(image.topic('t')!.partitions).toHaveLength(1);
  });

  it('PartitionChangeRecord: leader -2 keeps the leader and its epoch; null lists are unchanged; every change bumps the partition epoch', () => {
    let image = applyMetadataRecord(cluster(), rec(PartitionChangeRecord, { partitionId: 0, topicId: T1, isr: [1, 2] }), 10);
    expect(image.partition('t', 0)).toMatchObject({ isr: [1, 2], replicas: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 1 });
    image = applyMetadataRecord(image, rec(PartitionChangeRecord, { partitionId: 0, topicId: T1, leader: 2 }), 11);
    expect(image.partition('t', 0)).toMatchObject({ isr: [1, 2], leader: 2, leaderEpoch: 1, partitionEpoch: 2 });
    image = applyMetadataRecord(image, rec(PartitionChangeRecord, { partitionId: 0, topicId: T1, leader: -1, isr: [2] }), 12);
    expect(image.partition('t', 0)).toMatchObject({ isr: [2], leader: -1, leaderEpoch: 2, partitionEpoch: 3 });
    image = applyMetadataRecord(image, rec(PartitionChangeRecord, { partitionId: 0, topicId: T1, leader: 2, leaderRecoveryState: 1, replicas: [2, 3] }), 13);
    expect(image.partition('t', 0)).toMatchObject({ replicas: [2, 3], leader: 2, leaderEpoch: 3, partitionEpoch: 4, leaderRecoveryState: 1 });
    // leaderRecoveryState -1 is "no change".
    image = applyMetadataRecord(image, rec(PartitionChangeRecord, { partitionId: 0, topicId: T1 }), 14);
    expect(image.partition('t', 0)).toMatchObject({ leaderRecoveryState: 1, partitionEpoch: 5, leaderEpoch: 3 });
  });

  it('a PartitionChangeRecord for an unknown partition is refused and the image keeps its state', () => {
    const image = cluster();
    const before = image.partition('t', 0);
    expect(() => applyMetadataRecord(image, rec(PartitionChangeRecord, { partitionId: 1, topicId: T1, leader: 2 }), 10)).toThrow(/no partition 1 in topic t/);
    expect(image.partition('t', 0)).toBe(before);
    expect(image.offset).toBe(4);
  });

  it('RemoveTopicRecord removes the topic by id (and its configs); an unknown id is refused', () => {
    let image = applyMetadataRecord(cluster(), rec(ConfigRecord, { resourceType: 2, resourceName: 't', name: 'retention.ms', value: '1' }), 10);
    image = applyMetadataRecord(image, rec(RemoveTopicRecord, { topicId: T1 }), 11);
    expect(image.topic('t')).toBeUndefined();
    expect(image.topicById(T1)).toBeUndefined();
    expect(() => applyMetadataRecord(image, rec(RemoveTopicRecord, { topicId: T1 }), 12)).toThrow(MetadataReplayError);
    // A topic of the same name created again starts without the old overrides.
    image = replay(image, [rec(TopicRecord, { name: 't', topicId: INC })]);
    expect(image.topic('t')!.configs.size).toBe(0);
  });

  it('ConfigRecord sets and (null value) deletes topic and broker configs', () => {
    let image = replay(cluster(), [
      rec(ConfigRecord, { resourceType: 2, resourceName: 't', name: 'retention.ms', value: '1000' }),
      rec(ConfigRecord, { resourceType: 2, resourceName: 't', name: 'cleanup.policy', value: 'compact' }),
      rec(ConfigRecord, { resourceType: 4, resourceName: '', name: 'min.insync.replicas', value: '2' }),
      rec(ConfigRecord, { resourceType: 4, resourceName: '2', name: 'log.retention.ms', value: '5' }),
      // Client metrics are not in the image: skipped, only the offset moves.
      rec(ConfigRecord, { resourceType: 16, resourceName: 'm', name: 'metrics', value: 'x' }),
    ]);
    expect(Object.fromEntries(image.topic('t')!.configs)).toEqual({ 'retention.ms': '1000', 'cleanup.policy': 'compact' });
    expect(Object.fromEntries(image.brokerConfigs.get('')!)).toEqual({ 'min.insync.replicas': '2' });
    expect(Object.fromEntries(image.brokerConfigs.get('2')!)).toEqual({ 'log.retention.ms': '5' });
    image = replay(image, [
      rec(ConfigRecord, { resourceType: 2, resourceName: 't', name: 'retention.ms', value: null }),
      rec(ConfigRecord, { resourceType: 4, resourceName: '2', name: 'log.retention.ms', value: null }),
    ]);
    expect(Object.fromEntries(image.topic('t')!.configs)).toEqual({ 'cleanup.policy': 'compact' });
    expect(image.brokerConfigs.has('2')).toBe(false);
    expect(() => (image.topic('t')!.configs as Map<string, string>).set('a', 'b')).toThrow(/immutable/);
    expect(() => applyMetadataRecord(image, rec(ConfigRecord, { resourceType: 2, resourceName: 'nope', name: 'retention.ms', value: '1' }), 99)).toThrow(/no topic named nope/);
  });

  it('ProducerIdsRecord moves nextProducerId forward only', () => {
    const image = applyMetadataRecord(cluster(), rec(ProducerIdsRecord, { brokerId: 1, brokerEpoch: 0n, nextProducerId: 1000n }), 10);
    expect(image.nextProducerId).toBe(1000n);
    expect(() => applyMetadataRecord(image, rec(ProducerIdsRecord, { brokerId: 1, brokerEpoch: 0n, nextProducerId: 1000n }), 11)).toThrow(/not greater/);
  });

  it('FeatureLevelRecord sets metadata.version; NoOpRecord moves only the offset', () => {
    let image = applyMetadataRecord(MetadataImage.EMPTY, rec(FeatureLevelRecord, { name: 'metadata.version', featureLevel: 27 }), 0);
    expect(image.metadataVersion).toBe(27);
    image = applyMetadataRecord(image, rec(NoOpRecord, {}), 1);
    expect(image.offset).toBe(1);
    expect(image.metadataVersion).toBe(27);
    image = applyMetadataRecord(image, rec(FeatureLevelRecord, { name: 'metadata.version', featureLevel: 0 }), 2);
    expect(image.metadataVersion).toBe(0);
  });

  it('records must come in offset order', () => {
    const image = cluster();
    expect(() => applyMetadataRecord(image, rec(NoOpRecord, {}), 4)).toThrow(/already at offset 4/);
    expect(() => applyMetadataRecord(image, rec(NoOpRecord, {}), -3)).toThrow(/invalid offset/);
  });
});

// ---------------------------------------------------------------------------------------------------

const KAFKA_DIR = join(REPO_ROOT, 'test', 'vectors', 'kafka', 'cluster-metadata-kafka-4.4.0', '__cluster_metadata-0');

/** The metadata (non-control) records of a Kafka-written segment, with their offsets. */
function kafkaRecords(): { offset: number; record: DecodedMetadataRecord }[] {
  const bytes = readFileSync(join(KAFKA_DIR, '00000000000000000000.log'));
  const out: { offset: number; record: DecodedMetadataRecord }[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const size = LOG_OVERHEAD + bytes.readInt32BE(pos + 8);
    const batch = bytes.subarray(pos, pos + size);
    if (!isControl(readBatchHeader(batch).attributes)) {
      for (const r of readRecordsSync(batch)) out.push({ offset: r.offset, record: decodeMetadataRecord(r.value!) });
    }
    pos += size;
  }
  return out;
}

describe('replaying the metadata log Kafka 4.4.0 wrote', () => {
  const records = kafkaRecords();
  const uuid = (kafka: string): string => parseKafkaUuidString(kafka)!;
  const GOLDEN = uuid('YmxRW3RqSwagyak8YUkULw');
  const DOOMED = uuid('5eA8o_YIRJSfaAK76IvOUQ');
  const upTo = (offset: number): MetadataImage => {
    let image = MetadataImage.EMPTY;
    for (const r of records) if (r.offset <= offset) image = applyMetadataRecord(image, r.record, r.offset);
    return image;
  };

  it('after the bootstrap, registration and unfencing: metadata.version 33, broker 1 unfenced with epoch 18', () => {
    const image = upTo(22);
    expect(image.metadataVersion).toBe(33);
    expect(Object.fromEntries(image.features)).toMatchObject({ 'metadata.version': 33, 'group.version': 1, 'transaction.version': 2 });
    expect(Object.fromEntries(image.brokerConfigs.get('')!)).toEqual({ 'min.insync.replicas': '1' });
    const b = image.brokers.get(1)!;
    expect(b).toMatchObject({ nodeId: 1, epoch: 18, incarnationId: uuid('Iely_6h_R3WQ5LUdkfKWNA'), fenced: false, inControlledShutdown: false, rack: null, host: '127.0.0.1', port: 50021 });
    expect(b.listeners).toEqual([{ name: 'PLAINTEXT', host: '127.0.0.1', port: 50021, securityProtocol: 0 }]);
  });

  it('kafka-topics --create golden --partitions 2 and doomed: the topics, partitions and leaders Kafka created', () => {
    const image = upTo(47);
    expect([...image.topics()].map((t) => t.name)).toEqual(['golden', 'doomed']);
    expect(image.topic('golden')!.topicId).toBe(GOLDEN);
    expect(image.topic('golden')!.partitions).toEqual([0, 1].map((partition) => ({ partition, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0, leaderRecoveryState: 0 })));
    expect(image.topicById(DOOMED)!.partitions).toHaveLength(1);
    expect(Object.fromEntries(image.topic('golden')!.configs)).toEqual({ 'retention.ms': '3600000' });
    expect(image.nextProducerId).toBe(1000n);
  });

  it('the whole log: doomed deleted, golden offline after the controlled shutdown, broker 1 fenced', () => {
    const last = records[records.length - 1]!.offset;
    const image = upTo(last);
    expect(image.offset).toBe(61);
    expect([...image.topics()].map((t) => t.name)).toEqual(['golden']);
    expect(image.topicById(DOOMED)).toBeUndefined();
    // Kafka 4.4 with ELR (KIP-966) empties the ISR on controlled shutdown; one leader change each.
    expect(image.topic('golden')!.partitions).toEqual([0, 1].map((partition) => ({ partition, replicas: [1], isr: [], leader: -1, leaderEpoch: 1, partitionEpoch: 1, leaderRecoveryState: 0 })));
    expect(image.brokers.get(1)).toMatchObject({ epoch: 18, fenced: true, inControlledShutdown: true });
    expect(image.nextProducerId).toBe(1000n);
  });
});
