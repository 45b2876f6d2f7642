/**
 * The metadata image written out as metadata records: what a KRaft snapshot (`.checkpoint`, KIP-630)
 * holds between its SnapshotHeader and SnapshotFooter, and the way back (a snapshot's records replayed
 * onto an empty image). Kafka's MetadataImage.write does the same, in this order: features
 * (FeaturesImage), the cluster's brokers (ClusterImage: one RegisterBrokerRecord per broker carrying its
 * current fenced / in-controlled-shutdown state, no change records), topics (TopicsImage: a TopicRecord
 * then a PartitionRecord per partition, with the current leader, epochs and ISR), configs
 * (ConfigurationsImage), producer ids (ProducerIdsImage: broker id and epoch -1).
 *
 * Replaying these records with metadata-replay.ts gives back the same image (test/broker/
 * metadata-image-records.test.ts checks it field by field), which is what lets a node start from a
 * snapshot instead of the whole log, and a follower catch up by FetchSnapshot.
 *
 * Versions: the ones our controller writes at metadata.version 12 (quorum-controller.ts); what the image
 * does not keep (a broker's supported features, a producer-id block's owner) is written as Kafka writes
 * an unknown: empty or -1.
 */
import { ConfigRecord } from '../../protocol/metadata/config-record.js';
import { FeatureLevelRecord } from '../../protocol/metadata/feature-level-record.js';
import { PartitionRecord } from '../../protocol/metadata/partition-record.js';
import { ProducerIdsRecord } from '../../protocol/metadata/producer-ids-record.js';
import { RegisterBrokerRecord } from '../../protocol/metadata/register-broker-record.js';
import { decodeMetadataRecord, encodeMetadataRecord } from '../../protocol/metadata/serde.js';
import { TopicRecord } from '../../protocol/metadata/topic-record.js';
import { MetadataImage } from './metadata-image.js';
import { applyMetadataRecord, MetadataReplayError } from './metadata-replay.js';

/** ConfigResource.Type ids (metadata-replay.ts reads the same). */
const TOPIC_RESOURCE = 2;
const BROKER_RESOURCE = 4;

/** RegisterBrokerRecord v2: the version our controller writes (it has inControlledShutdown). */
const REGISTER_BROKER_VERSION = 2;

/** The image as metadata record frames (record values of the snapshot's data batches), in Kafka's order. */
export function imageToRecords(image: MetadataImage): Buffer[] {
  const out: Buffer[] = [];
  // metadata.version first: a reader needs it before anything whose format depends on it.
  const features = [...image.features.entries()].sort(([a], [b]) => (a === 'metadata.version' ? -1 : b === 'metadata.version' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  for (const [name, featureLevel] of features) out.push(encodeMetadataRecord(FeatureLevelRecord, { name, featureLevel }, 0));
  for (const b of [...image.brokers.values()].sort((x, y) => x.nodeId - y.nodeId)) {
    out.push(
      encodeMetadataRecord(
        RegisterBrokerRecord,
        {
          brokerId: b.nodeId,
          incarnationId: b.incarnationId,
          brokerEpoch: BigInt(b.epoch),
          endPoints: b.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port, securityProtocol: l.securityProtocol })),
          features: [],
          rack: b.rack,
          fenced: b.fenced,
          inControlledShutdown: b.inControlledShutdown,
        },
        REGISTER_BROKER_VERSION,
      ),
    );
  }
  for (const t of image.topics()) {
    out.push(encodeMetadataRecord(TopicRecord, { name: t.name, topicId: t.topicId }, 0));
    for (const p of t.partitions) {
      out.push(
        encodeMetadataRecord(
          PartitionRecord,
          {
            partitionId: p.partition,
            topicId: t.topicId,
            replicas: [...p.replicas],
            isr: [...p.isr],
            removingReplicas: [],
            addingReplicas: [],
            leader: p.leader,
            leaderRecoveryState: p.leaderRecoveryState ?? 0,
            leaderEpoch: p.leaderEpoch,
            partitionEpoch: p.partitionEpoch,
          },
          0,
        ),
      );
    }
  }
  for (const t of image.topics()) {
    for (const [name, value] of t.configs) out.push(encodeMetadataRecord(ConfigRecord, { resourceType: TOPIC_RESOURCE, resourceName: t.name, name, value }, 0));
  }
  for (const [resourceName, configs] of image.brokerConfigs) {
    for (const [name, value] of configs) out.push(encodeMetadataRecord(ConfigRecord, { resourceType: BROKER_RESOURCE, resourceName, name, value }, 0));
  }
  if (image.nextProducerId > 0n) out.push(encodeMetadataRecord(ProducerIdsRecord, { brokerId: -1, brokerEpoch: -1n, nextProducerId: image.nextProducerId }, 0));
  return out;
}

/**
 * The image a snapshot's records build: replayed onto an empty image (with `identity`'s cluster id and
 * controller id: they are not in the log), then placed at the snapshot's end (its last contained offset is
 * endOffset - 1). Throws MetadataReplayError (or MetadataParseError) on a record that does not decode or
 * apply: a snapshot is loaded whole or not at all.
 */
export function imageFromRecords(values: readonly Buffer[], endOffset: number, identity: MetadataImage = MetadataImage.EMPTY): MetadataImage {
  let image = MetadataImage.EMPTY.withCluster(identity.clusterId, identity.controllerId);
  values.forEach((v, i) => {
    image = applyMetadataRecord(image, decodeMetadataRecord(v), i);
  });
  if (!Number.isSafeInteger(endOffset) || endOffset < 0) throw new MetadataReplayError('snapshot', endOffset, `invalid snapshot end offset ${endOffset}`);
  return image.withOffset(endOffset - 1);
}
