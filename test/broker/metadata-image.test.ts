/**
 * MetadataImage's partition storage (a chunked persistent vector, src/broker/metadata-image.ts): partitions
 * set or appended one at a time across many chunks, every older image keeping exactly what it had, the
 * frozen `partitions` array, `{ ...topic }` copies, config changes keeping the partitions, and the errors
 * of withPartition.
 */
import { describe, expect, it } from 'vitest';
import { MetadataImage, type PartitionRegistration } from '../../src/broker/metadata-image.js';

const ID = '5d1b1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
const part = (partition: number, leader = partition % 3): PartitionRegistration => ({ partition, replicas: [0, 1, 2], isr: [0, 1, 2], leader, leaderEpoch: 0, partitionEpoch: 0 });

describe('MetadataImage partitions', () => {
  it('appending 300 partitions one by one: each intermediate image keeps its own list', () => {
    let image = MetadataImage.EMPTY.withTopic({ name: 't', topicId: ID, partitions: [], configs: new Map() });
    const history: MetadataImage[] = [image];
    for (let p = 0; p < 300; p++) {
      image = image.withPartition(ID, part(p));
      history.push(image);
    }
    history.forEach((img, n) => {
      expect(img.partitionCount(ID), `image ${n}`).toBe(n);
      expect(img.topic('t')!.partitions.map((p) => p.partition), `image ${n}`).toEqual([...Array(n).keys()]);
    });
    expect(image.partitionOf(ID, 299)).toMatchObject({ partition: 299, leader: 2 });
    expect(image.partitionOf(ID, 300)).toBeUndefined();
    expect(image.partition('t', 150)).toBe(image.partitionOf(ID, 150));
  });

  it('changing one partition in the middle leaves the older image and the other partitions as they were', () => {
    let image = MetadataImage.EMPTY.withTopic({ name: 't', topicId: ID, partitions: [...Array(200).keys()].map((p) => part(p)), configs: new Map() });
    const before = image;
    image = image.withPartition(ID, { ...part(130), leader: 9, leaderEpoch: 4 });
    expect(before.partition('t', 130)).toMatchObject({ leader: 130 % 3, leaderEpoch: 0 });
    expect(image.partition('t', 130)).toMatchObject({ leader: 9, leaderEpoch: 4 });
    for (const p of [0, 63, 64, 127, 128, 129, 131, 199]) expect(image.partition('t', p)).toBe(before.partition('t', p));
  });

  it('the partitions array is frozen, stable per image, and copied by a spread', () => {
    const image = MetadataImage.EMPTY.withTopic({ name: 't', topicId: ID, partitions: [], configs: new Map() }).withPartition(ID, part(0)).withPartition(ID, part(1));
    const t = image.topic('t')!;
    expect(t.partitions).toBe(t.partitions);
    expect(Object.isFrozen(t.partitions)).toBe(true);
    expect(() => (t.partitions as PartitionRegistration[]).push(part(2))).toThrow(TypeError);
    expect(() => ((t.partitions[0]!.isr as number[])[0] = 7)).toThrow(TypeError);
    const copy = { ...t, configs: new Map([['retention.ms', '1']]) };
    expect(copy.partitions).toHaveLength(2);
    expect(image.withTopic(copy).topic('t')!.partitions.map((p) => p.partition)).toEqual([0, 1]);
    expect(JSON.parse(JSON.stringify(t)).partitions).toHaveLength(2);
  });

  it('withTopicConfigs keeps the partitions; withPartition refuses an unknown topic or a gap', () => {
    const image = MetadataImage.EMPTY.withTopic({ name: 't', topicId: ID, partitions: [part(0)], configs: new Map() });
    const configured = image.withTopicConfigs(ID, new Map([['cleanup.policy', 'compact']]));
    expect(configured.topic('t')!.partitions[0]).toBe(image.topic('t')!.partitions[0]);
    expect(Object.fromEntries(configured.topic('t')!.configs)).toEqual({ 'cleanup.policy': 'compact' });
    expect(image.topic('t')!.configs.size).toBe(0);
    expect(() => image.withPartition('00000000-0000-4000-8000-000000000000', part(0))).toThrow(RangeError);
    expect(() => image.withPartition(ID, part(2))).toThrow(/gap/);
  });
});
