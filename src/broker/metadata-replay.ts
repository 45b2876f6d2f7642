/**
 * Replay of one KRaft metadata record (KIP-631) onto the metadata image: the node's view of the cluster is
 * the committed `__cluster_metadata` log applied record by record, in offset order, to an immutable
 * `MetadataImage` (metadata-image.ts). The rules are Kafka's (metadata/src/main/java/org/apache/kafka/image/
 * *Delta.java, ClusterControlManager.replay, PartitionRegistration.merge):
 *
 * - RegisterBrokerRecord replaces any registration of that id (a re-registration gets a new epoch);
 *   UnregisterBrokerRecord, FenceBrokerRecord, UnfenceBrokerRecord and BrokerRegistrationChangeRecord
 *   need a registration with exactly the record's broker epoch, else the record is refused.
 * - PartitionChangeRecord merges: a null list (isr, replicas) leaves it unchanged; leader -2 is "no
 *   change", anything else (-1 included) is a new leader and bumps the leader epoch; leaderRecoveryState
 *   -1 is "no change"; the partition epoch is bumped by every record.
 * - ConfigRecord with a null value deletes the key; TOPIC resources go to the topic's overrides, BROKER
 *   resources ('' = cluster default, 'N' = node N) to the image's broker configs. Other resource types
 *   (client metrics, groups) are not part of our image and are skipped.
 * - ProducerIdsRecord must move nextProducerId forward (Kafka's ProducerIdControlManager.replay).
 * - FeatureLevelRecord sets a finalized level (0 removes the feature); metadata.version is one of them.
 * - NoOpRecord, RegisterControllerRecord (controller registrations, KIP-919: not in our image) and the
 *   KIP-868 transaction markers (Begin/End/AbortTransactionRecord) change nothing but the offset. Our
 *   controller writes each operation as one batch, so it never needs the markers; a Kafka-written log
 *   that aborted a transaction would need the reader to drop the records between the markers, which
 *   this function alone cannot do (it sees one record): the caller that reads whole batches must.
 *
 * A record that cannot apply (a PartitionRecord for an unknown topic, a change for an unknown partition, a
 * fence with a stale broker epoch, an offset not after the image's) throws MetadataReplayError and the
 * image is untouched: every change is built on a copy and returned only when complete.
 */
import { AbortTransactionRecord } from '../../protocol/metadata/abort-transaction-record.js';
import { BeginTransactionRecord } from '../../protocol/metadata/begin-transaction-record.js';
import { BrokerRegistrationChangeRecord } from '../../protocol/metadata/broker-registration-change-record.js';
import { ConfigRecord } from '../../protocol/metadata/config-record.js';
import { EndTransactionRecord } from '../../protocol/metadata/end-transaction-record.js';
import { FeatureLevelRecord } from '../../protocol/metadata/feature-level-record.js';
import { FenceBrokerRecord } from '../../protocol/metadata/fence-broker-record.js';
import { NoOpRecord } from '../../protocol/metadata/no-op-record.js';
import { PartitionChangeRecord } from '../../protocol/metadata/partition-change-record.js';
import { PartitionRecord } from '../../protocol/metadata/partition-record.js';
import { ProducerIdsRecord } from '../../protocol/metadata/producer-ids-record.js';
import { RegisterBrokerRecord } from '../../protocol/metadata/register-broker-record.js';
import { RegisterControllerRecord } from '../../protocol/metadata/register-controller-record.js';
import { RemoveTopicRecord } from '../../protocol/metadata/remove-topic-record.js';
import type { DecodedMetadataRecord } from '../../protocol/metadata/serde.js';
import { TopicRecord } from '../../protocol/metadata/topic-record.js';
import { UnfenceBrokerRecord } from '../../protocol/metadata/unfence-broker-record.js';
import { UnregisterBrokerRecord } from '../../protocol/metadata/unregister-broker-record.js';
import type { MessageCodec, MessageDecl, MessageValue } from '../../protocol/schema.js';
import type { BrokerRegistration, MetadataImage, PartitionRegistration } from './metadata-image.js';

/** A metadata record that does not apply to the image it was replayed onto; the image is unchanged. */
export class MetadataReplayError extends Error {
  override readonly name = 'MetadataReplayError';
  constructor(
    /** The record's type name (TopicRecord, ...), or its number when unknown. */
    readonly recordType: string,
    /** The metadata log offset of the record. */
    readonly offset: number,
    message: string,
  ) {
    super(`Unable to replay ${recordType} at offset ${offset}: ${message}`);
  }
}

/** Kafka's ConfigResource.Type ids that the image keeps. */
const TOPIC_RESOURCE = 2;
const BROKER_RESOURCE = 4;

/** LeaderConstants.NO_LEADER_CHANGE: PartitionChangeRecord's leader -2. */
export const NO_LEADER_CHANGE = -2;
/** LeaderConstants.NO_LEADER. */
export const NO_LEADER = -1;

/** BrokerRegistrationFencingChange: the tagged `fenced` int8 of BrokerRegistrationChangeRecord. */
export const FencingChange = { UNFENCE: -1, NONE: 0, FENCE: 1 } as const;
/** BrokerRegistrationInControlledShutdownChange. */
export const ControlledShutdownChange = { NONE: 0, IN_CONTROLLED_SHUTDOWN: 1 } as const;

function is<M extends MessageDecl>(record: DecodedMetadataRecord, codec: MessageCodec<M>): record is DecodedMetadataRecord & { data: MessageValue<M> } {
  return record.type === codec.decl.apiKey;
}

/**
 * The image after applying `record`, read at metadata log offset `offset`. Throws MetadataReplayError
 * (the input image is never changed: images are immutable) when the record does not apply.
 */
export function applyMetadataRecord(image: MetadataImage, record: DecodedMetadataRecord, offset: number): MetadataImage {
  const name = record.codec.decl.name;
  const fail = (message: string): never => {
    throw new MetadataReplayError(name, offset, message);
  };
  if (!Number.isSafeInteger(offset) || offset < 0) fail(`invalid offset ${offset}`);
  if (offset <= image.offset) fail(`the image is already at offset ${image.offset}; records apply in offset order`);

  let next: MetadataImage;
  if (is(record, RegisterBrokerRecord)) {
    const r = record.data;
    const listeners = r.endPoints.map((e) => ({ name: e.name, host: e.host, port: e.port, securityProtocol: e.securityProtocol }));
    const client = listeners[0];
    next = image.withBroker({
      nodeId: r.brokerId,
      host: client?.host ?? '',
      port: client?.port ?? -1,
      rack: r.rack,
      epoch: epochNumber(r.brokerEpoch, fail),
      incarnationId: r.incarnationId,
      fenced: r.fenced,
      inControlledShutdown: r.inControlledShutdown,
      listeners,
    });
  } else if (is(record, UnregisterBrokerRecord)) {
    const r = record.data;
    registration(image, r.brokerId, r.brokerEpoch, fail);
    next = image.withoutBroker(r.brokerId);
  } else if (is(record, FenceBrokerRecord)) {
    next = changeRegistration(image, record.data.id, record.data.epoch, FencingChange.FENCE, ControlledShutdownChange.NONE, fail);
  } else if (is(record, UnfenceBrokerRecord)) {
    next = changeRegistration(image, record.data.id, record.data.epoch, FencingChange.UNFENCE, ControlledShutdownChange.NONE, fail);
  } else if (is(record, BrokerRegistrationChangeRecord)) {
    const r = record.data;
    next = changeRegistration(image, r.brokerId, r.brokerEpoch, r.fenced, r.inControlledShutdown, fail);
  } else if (is(record, TopicRecord)) {
    const r = record.data;
    if (image.topicById(r.topicId)) fail(`topic id ${r.topicId} already exists`);
    if (image.topic(r.name)) fail(`a topic named ${r.name} already exists`);
    next = image.withTopic({ name: r.name, topicId: r.topicId, partitions: [], configs: new Map() });
  } else if (is(record, PartitionRecord)) {
    const r = record.data;
    const topic = image.topicById(r.topicId) ?? fail(`no topic with id ${r.topicId}`);
    const count = image.partitionCount(r.topicId);
    if (r.partitionId < 0 || r.partitionId > count) fail(`partition ${r.partitionId} of ${topic.name} would leave a gap: the topic has ${count} partition(s)`);
    const p: PartitionRegistration = {
      partition: r.partitionId,
      replicas: r.replicas,
      isr: r.isr,
      leader: r.leader,
      leaderEpoch: r.leaderEpoch,
      partitionEpoch: r.partitionEpoch,
      leaderRecoveryState: r.leaderRecoveryState,
    };
    next = image.withPartition(topic.topicId, p);
  } else if (is(record, PartitionChangeRecord)) {
    const r = record.data;
    const topic = image.topicById(r.topicId) ?? fail(`no topic with id ${r.topicId}`);
    const current = image.partitionOf(r.topicId, r.partitionId) ?? fail(`no partition ${r.partitionId} in topic ${topic.name}`);
    next = image.withPartition(topic.topicId, mergePartitionChange(current, r));
  } else if (is(record, RemoveTopicRecord)) {
    const topicId = record.data.topicId;
    if (!image.topicById(topicId)) fail(`no topic with id ${topicId}`);
    next = image.withoutTopic(topicId);
  } else if (is(record, ConfigRecord)) {
    const r = record.data;
    if (r.resourceType === TOPIC_RESOURCE) {
      const topic = image.topic(r.resourceName) ?? fail(`no topic named ${r.resourceName}`);
      next = image.withTopicConfigs(topic.topicId, withConfig(topic.configs, r.name, r.value));
    } else if (r.resourceType === BROKER_RESOURCE) {
      next = image.withBrokerConfigs(r.resourceName, withConfig(image.brokerConfigs.get(r.resourceName) ?? new Map(), r.name, r.value));
    } else {
      next = image;
    }
  } else if (is(record, ProducerIdsRecord)) {
    const r = record.data;
    if (r.nextProducerId <= image.nextProducerId) {
      fail(`next producer id ${r.nextProducerId} is not greater than the current next producer id ${image.nextProducerId}`);
    }
    next = image.withNextProducerId(r.nextProducerId);
  } else if (is(record, FeatureLevelRecord)) {
    next = image.withFeature(record.data.name, record.data.featureLevel);
  } else if (
    is(record, NoOpRecord) ||
    is(record, RegisterControllerRecord) ||
    is(record, BeginTransactionRecord) ||
    is(record, EndTransactionRecord) ||
    is(record, AbortTransactionRecord)
  ) {
    next = image;
  } else {
    return fail(`record type ${record.type} is not applied to the metadata image`);
  }
  return next.withOffset(offset);
}

/** Kafka's PartitionRegistration.merge. */
export function mergePartitionChange(current: PartitionRegistration, r: MessageValue<typeof PartitionChangeRecord.decl>): PartitionRegistration {
  const leaderChanged = r.leader !== NO_LEADER_CHANGE;
  return {
    partition: current.partition,
    replicas: r.replicas ?? current.replicas,
    isr: r.isr ?? current.isr,
    leader: leaderChanged ? r.leader : current.leader,
    leaderEpoch: leaderChanged ? current.leaderEpoch + 1 : current.leaderEpoch,
    partitionEpoch: current.partitionEpoch + 1,
    leaderRecoveryState: r.leaderRecoveryState === -1 ? (current.leaderRecoveryState ?? 0) : r.leaderRecoveryState,
  };
}

function withConfig(current: ReadonlyMap<string, string>, name: string, value: string | null): Map<string, string> {
  const configs = new Map(current);
  if (value === null) configs.delete(name);
  else configs.set(name, value);
  return configs;
}

function epochNumber(epoch: bigint, fail: (m: string) => never): number {
  if (epoch < -1n || epoch > BigInt(Number.MAX_SAFE_INTEGER)) fail(`broker epoch ${epoch} out of range`);
  return Number(epoch);
}

function registration(image: MetadataImage, brokerId: number, epoch: bigint, fail: (m: string) => never): BrokerRegistration {
  const current = image.brokers.get(brokerId) ?? fail(`no broker registration found for broker ${brokerId}`);
  if (BigInt(current.epoch) !== epoch) fail(`no registration of broker ${brokerId} with epoch ${epoch} (its epoch is ${current.epoch})`);
  return current;
}

/** ClusterControlManager.replayRegistrationChange: fencing and controlled shutdown of the registration with that epoch. */
function changeRegistration(image: MetadataImage, brokerId: number, epoch: bigint, fenced: number, inControlledShutdown: number, fail: (m: string) => never): MetadataImage {
  const current = registration(image, brokerId, epoch, fail);
  if (fenced !== FencingChange.UNFENCE && fenced !== FencingChange.NONE && fenced !== FencingChange.FENCE) fail(`invalid fencing change ${fenced}`);
  if (inControlledShutdown !== ControlledShutdownChange.NONE && inControlledShutdown !== ControlledShutdownChange.IN_CONTROLLED_SHUTDOWN) {
    fail(`invalid controlled shutdown change ${inControlledShutdown}`);
  }
  return image.withBroker({
    ...current,
    fenced: fenced === FencingChange.NONE ? current.fenced : fenced === FencingChange.FENCE,
    inControlledShutdown: inControlledShutdown === ControlledShutdownChange.IN_CONTROLLED_SHUTDOWN ? true : current.inControlledShutdown,
  });
}
