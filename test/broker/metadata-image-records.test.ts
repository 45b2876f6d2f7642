/**
 * imageToRecords / imageFromRecords (src/broker/metadata-image-records.ts): the image written as the
 * records of a KRaft snapshot and replayed back gives the same image (round trip), for images built by
 * replaying the metadata log Kafka 4.4.0 wrote (test/vectors/kafka/cluster-metadata-kafka-4.4.0/) and for
 * one with every state our image keeps (fenced, in controlled shutdown, broker configs, an offline
 * partition recovering); and Kafka's own `.checkpoint` from that directory loads into an image.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeMetadataRecord, type DecodedMetadataRecord } from '../../protocol/metadata/serde.js';
import { isControl, LOG_OVERHEAD, readBatchHeader } from '../../protocol/records/batch.js';
import { readRecordsSync } from '../../protocol/records/record.js';
import { MetadataImage } from '../../src/broker/metadata-image.js';
import { imageFromRecords, imageToRecords } from '../../src/broker/metadata-image-records.js';
import { applyMetadataRecord } from '../../src/broker/metadata-replay.js';
import { decodeSnapshot } from '../../src/controller/raft/snapshot.js';
import { REPO_ROOT } from '../helpers/kafka-specs.js';

const KAFKA_DIR = join(REPO_ROOT, 'test', 'vectors', 'kafka', 'cluster-metadata-kafka-4.4.0', '__cluster_metadata-0');

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

const upTo = (offset: number): MetadataImage => {
  let image = MetadataImage.EMPTY;
  for (const r of kafkaRecords()) if (r.offset <= offset) image = applyMetadataRecord(image, r.record, r.offset);
  return image;
};

/** Everything an image holds, as plain values (maps as sorted entries), for a field-by-field comparison. */
function plain(image: MetadataImage): unknown {
  const entries = <V>(m: ReadonlyMap<string | number, V>) => [...m.entries()].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return {
    offset: image.offset,
    features: entries(image.features),
    brokers: entries(image.brokers),
    topics: [...image.topics()].map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitions.map((p) => ({ leaderRecoveryState: 0, ...p })), configs: entries(t.configs) })),
    brokerConfigs: entries(image.brokerConfigs).map(([k, v]) => [k, entries(v)]),
    nextProducerId: image.nextProducerId,
  };
}

function roundTrip(image: MetadataImage): MetadataImage {
  return imageFromRecords(imageToRecords(image), image.offset + 1);
}

describe('imageToRecords then imageFromRecords gives the same image', () => {
  it('Kafka 4.4.0 cluster after topics, configs and a producer-id block (offset 47)', () => {
    const image = upTo(47);
    expect(image.topicCount).toBe(2);
    expect(plain(roundTrip(image))).toEqual(plain(image));
  });

  it('the whole Kafka-written log: a deleted topic, an offline partition, a fenced broker in controlled shutdown', () => {
    const image = upTo(1000);
    expect(image.brokers.get(1)).toMatchObject({ fenced: true, inControlledShutdown: true });
    expect(plain(roundTrip(image))).toEqual(plain(image));
  });

  it('an image with several brokers (one unfenced), broker configs, a recovering partition and a rack', () => {
    const image = MetadataImage.EMPTY.withFeature('metadata.version', 12)
      .withFeature('kraft.version', 1)
      .withBroker({ nodeId: 3, host: 'h3', port: 9094, rack: 'r1', epoch: 40, incarnationId: '5d1b1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b', fenced: false, listeners: [{ name: 'PLAINTEXT', host: 'h3', port: 9094, securityProtocol: 0 }, { name: 'SSL', host: 'h3', port: 9095, securityProtocol: 1 }] })
      .withBroker({ nodeId: 1, host: 'h1', port: 9092, rack: null, epoch: 7, fenced: true })
      .withTopic({ name: 'a', topicId: 'aa1b1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b', partitions: [{ partition: 0, replicas: [3, 1], isr: [3], leader: 3, leaderEpoch: 4, partitionEpoch: 9, leaderRecoveryState: 1 }, { partition: 1, replicas: [1, 3], isr: [1], leader: -1, leaderEpoch: 2, partitionEpoch: 3 }], configs: new Map([['cleanup.policy', 'compact']]) })
      .withBrokerConfigs('', new Map([['min.insync.replicas', '2']]))
      .withBrokerConfigs('3', new Map([['log.retention.ms', '1000']]))
      .withNextProducerId(5000n)
      .withOffset(99);
    const back = roundTrip(image);
    expect(plain(back)).toEqual(plain(image));
    expect(back.offset).toBe(99);
    // The order Kafka writes (MetadataImage.write): features (metadata.version first), brokers, topics, configs, producer ids.
    const names = imageToRecords(image).map((v) => decodeMetadataRecord(v).codec.decl.name);
    expect(names).toEqual(['FeatureLevelRecord', 'FeatureLevelRecord', 'RegisterBrokerRecord', 'RegisterBrokerRecord', 'TopicRecord', 'PartitionRecord', 'PartitionRecord', 'ConfigRecord', 'ConfigRecord', 'ConfigRecord', 'ProducerIdsRecord']);
    expect(decodeMetadataRecord(imageToRecords(image)[0]!).data).toMatchObject({ name: 'metadata.version' });
  });

  it('an empty image writes no record', () => {
    expect(imageToRecords(MetadataImage.EMPTY)).toEqual([]);
  });
});

describe("Kafka's own .checkpoint", () => {
  it('00000000000000000000-0000000000.checkpoint (Kafka 4.4.0 bootstrap snapshot) loads: its feature levels', () => {
    const content = decodeSnapshot(readFileSync(join(KAFKA_DIR, '00000000000000000000-0000000000.checkpoint')));
    expect(content.lastContainedLogTimestamp).toBe(1796303130036);
    const image = imageFromRecords(content.values, 0);
    expect(Object.fromEntries(image.features)).toEqual({
      'metadata.version': 33,
      'eligible.leader.replicas.version': 1,
      'group.version': 1,
      'share.version': 2,
      'streams.version': 1,
      'transaction.version': 2,
    });
    expect(image.offset).toBe(-1);
  });
});

describe('imageFromRecords onto a node that already has an image', () => {
  it('replaces it (keeping only the cluster id and controller): a topic deleted before the snapshot is gone', () => {
    const before = MetadataImage.EMPTY.withCluster('c1', 2).withTopic({ name: 'old', topicId: 'aa1b1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b', partitions: [], configs: new Map() }).withOffset(10);
    const snap = upTo(47);
    const image = imageFromRecords(imageToRecords(snap), 48, before);
    expect([image.clusterId, image.controllerId, image.offset]).toEqual(['c1', 2, 47]);
    expect([...image.topics()].map((t) => t.name)).toEqual(['golden', 'doomed']);
  });
});
