/**
 * The broker's metadata loader: committed records become one published image per delivery; control
 * records only move the offset; a redelivered prefix is skipped; and a record that does not decode or
 * does not apply stops the loader at the last good image and reports the fault (issue 11: "a metadata
 * record that fails to decode on load ... never a corrupted image").
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PartitionRecord } from '../../protocol/metadata/partition-record.js';
import { encodeMetadataRecord } from '../../protocol/metadata/serde.js';
import { TopicRecord } from '../../protocol/metadata/topic-record.js';
import { MetadataImage } from '../../src/broker/metadata-image.js';
import { MetadataLoader, type CommittedMetadataRecord, type MetadataLoadError } from '../../src/broker/metadata-loader.js';

const T1 = '8f2c5ab0-3c1e-4c7a-9b1e-0d8b6f3a2e11';
const T2 = '1d4b8e2a-7f3c-4a9e-8c2d-5e6f7a8b9c0d';

function topic(offset: number, name: string, topicId: string): CommittedMetadataRecord {
  return { offset, control: null, value: encodeMetadataRecord(TopicRecord, { name, topicId }, 0) };
}
function partition(offset: number, topicId: string, id: number): CommittedMetadataRecord {
  return {
    offset,
    control: null,
    value: encodeMetadataRecord(PartitionRecord, { partitionId: id, topicId, replicas: [1, 2], isr: [1, 2], removingReplicas: [], addingReplicas: [], leader: 1, leaderEpoch: 0, partitionEpoch: 0, directories: [] }, 0),
  };
}

function harness() {
  const published: MetadataImage[] = [];
  const faults: MetadataLoadError[] = [];
  const loader = new MetadataLoader({
    initial: MetadataImage.EMPTY.withCluster('c', -1),
    publish: async (image) => {
      published.push(image);
    },
    onFault: (err) => faults.push(err),
    logger: pino({ level: 'silent' }),
  });
  return { loader, published, faults };
}

describe('MetadataLoader', () => {
  it('publishes one image per delivery, with every record of it applied', async () => {
    const { loader, published } = harness();
    await loader.apply([{ offset: 0, control: 2, value: Buffer.alloc(0) }, topic(1, 'a', T1), partition(2, T1, 0), partition(3, T1, 1)]);
    expect(published).toHaveLength(1);
    expect(published[0]!.offset).toBe(3);
    expect(published[0]!.topic('a')?.partitions.map((p) => p.partition)).toEqual([0, 1]);
    // A redelivered prefix (offsets already applied) changes nothing; new records go on top.
    await loader.apply([topic(1, 'a', T1), partition(2, T1, 0), partition(3, T1, 1), topic(4, 'b', T2)]);
    expect(published).toHaveLength(2);
    expect([...published[1]!.topics()].map((t) => t.name)).toEqual(['a', 'b']);
    expect(loader.appliedOffset).toBe(4);
  });

  it('stops at the last good image on a record that does not apply, and reports it', async () => {
    const { loader, published, faults } = harness();
    // A partition of a topic that does not exist: the log is not one the quorum could have committed.
    await loader.apply([topic(0, 'a', T1), partition(1, T2, 0), topic(2, 'b', T2)]);
    expect(faults).toHaveLength(1);
    expect(faults[0]!.message).toMatch(/offset 1 of __cluster_metadata-0 cannot be applied/);
    expect(loader.latest.offset).toBe(0);
    expect(published.at(-1)!.topic('a')).toBeDefined();
    expect(published.at(-1)!.topic('b')).toBeUndefined();
    // Nothing more is applied after a fault.
    await loader.apply([topic(3, 'c', '2e5c9f3b-8a4d-4b0f-9d3e-6f7a8b9c0d1e')]);
    expect(loader.latest.topic('c')).toBeUndefined();
    expect(loader.fault).toBe(faults[0]);
  });

  it('reports a record that does not decode, naming its offset', async () => {
    const { loader, faults } = harness();
    await loader.apply([topic(0, 'a', T1), { offset: 1, control: null, value: Buffer.from([0x01, 0x7f, 0x00]) }]);
    expect(faults).toHaveLength(1);
    expect(faults[0]!.message).toMatch(/offset 1/);
    expect(loader.latest.offset).toBe(0);
  });
});

describe('MetadataLoader and snapshots (KIP-630)', () => {
  it("loadSnapshot replaces the image by the snapshot's (cluster id and controller kept) and records go on after it", async () => {
    const { loader, published } = harness();
    await loader.apply([topic(0, 'gone', T1)]);
    await loader.setController(3);
    await loader.loadSnapshot([encodeMetadataRecord(TopicRecord, { name: 'a', topicId: T2 }, 0)], 10);
    const image = published.at(-1)!;
    expect([...image.topics()].map((t) => t.name)).toEqual(['a']);
    expect([image.clusterId, image.controllerId, image.offset]).toEqual(['c', 3, 9]);
    await loader.apply([partition(9, T2, 0), partition(10, T2, 0)]);
    expect(published.at(-1)!.topic('a')!.partitions).toHaveLength(1);
  });

  it('a snapshot that does not apply is a fault, never a half image', async () => {
    const { loader, published, faults } = harness();
    await loader.loadSnapshot([encodeMetadataRecord(PartitionRecord, { partitionId: 0, topicId: T1, replicas: [1], isr: [1], removingReplicas: [], addingReplicas: [], leader: 1, leaderEpoch: 0, partitionEpoch: 0, directories: [] }, 0)], 5);
    expect(faults).toHaveLength(1);
    expect(faults[0]!.message).toMatch(/snapshot ending at offset 5 cannot be loaded/);
    expect(published).toHaveLength(0);
  });

  it('asks for a snapshot once metadata.log.max.record.bytes.between.snapshots of records were applied, or the interval passed with some', async () => {
    let now = 0;
    const written: number[] = [];
    const loader = new MetadataLoader({
      initial: MetadataImage.EMPTY.withCluster('c', -1),
      publish: async () => undefined,
      onFault: () => undefined,
      logger: pino({ level: 'silent' }),
      snapshots: { maxNewRecordBytes: 60, maxIntervalMs: 1000, now: () => now, write: async (image) => void written.push(image.offset + 1) },
    });
    const size = topic(0, 'a', T1).value.length;
    expect(size).toBeLessThan(60);
    await loader.apply([topic(0, 'a', T1)]);
    expect(written).toEqual([]);
    await loader.apply([topic(1, 'b', T2), partition(2, T2, 0)]);
    await Promise.resolve();
    expect(written).toEqual([3]);
    // Below the byte limit, the interval triggers one; without new records, nothing.
    await loader.apply([partition(3, T2, 1)]);
    expect(written).toEqual([3]);
    now = 1500;
    await loader.apply([partition(4, T2, 2)]);
    expect(written).toEqual([3, 5]);
    now = 5000;
    await loader.apply([]);
    expect(written).toEqual([3, 5]);
  });
});
