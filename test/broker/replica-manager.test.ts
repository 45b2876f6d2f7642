/**
 * The metadata image and the replica manager below the wire: the image is immutable and replaced whole;
 * the replica manager tells a partition missing from the image (UNKNOWN_TOPIC_OR_PARTITION) from one the
 * image has but this node does not lead (NOT_LEADER_OR_FOLLOWER), and refuses to become a follower.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { LogManager } from '../../storage/log-manager.js';
import { defaultLogConfig } from '../../storage/log-config.js';
import { MetadataImage, localPartition, type TopicImage } from '../../src/broker/metadata-image.js';
import { ReplicaManager } from '../../src/broker/replica-manager.js';
import { randomTopicId } from '../../storage/kafka-uuid.js';
import { buildBatchSync } from '../../protocol/records/record.js';
import { ManualClock } from '../../src/util/clock.js';

const batch = (value: string): Buffer => buildBatchSync([{ key: null, value: Buffer.from(value) }]);

const NODE = 1;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(minIsr = 1, clock = new ManualClock()): Promise<{ rm: ReplicaManager; publish: (image: MetadataImage) => void; image: () => MetadataImage; clock: ManualClock }> {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-replica-manager-'));
  const logger = pino({ level: 'silent' });
  const logManager = new LogManager(dir, { logger });
  let image = MetadataImage.EMPTY.withCluster('c', NODE).withBroker({ nodeId: NODE, host: '127.0.0.1', port: 9092, rack: null });
  const rm_ = new ReplicaManager({
    nodeId: NODE,
    logManager,
    logger,
    image: () => image,
    logConfigFor: () => ({ ...defaultLogConfig }),
    appendSettings: () => ({ maxMessageBytes: 1048588, messageTimestampType: 'CreateTime', timestampBeforeMaxMs: Infinity, timestampAfterMaxMs: Infinity, minInSyncReplicas: minIsr }),
    producerStateOptions: { logger, now: () => clock.now() },
    clock,
  });
  cleanups.push(async () => {
    await rm_.shutdown();
    await logManager.closeAll();
    await rm(dir, { recursive: true, force: true });
  });
  return { rm: rm_, publish: (next) => (image = next), image: () => image, clock };
}

const ids = new Map<string, string>();
const topic = (name: string, partitions: TopicImage['partitions']): TopicImage => {
  if (!ids.has(name)) ids.set(name, randomTopicId());
  return { name, topicId: ids.get(name)!, partitions, configs: new Map() };
};

describe('metadata image', () => {
  it('is immutable: changes build a new image and leave the old one as it was', () => {
    const before = MetadataImage.EMPTY.withCluster('c', NODE);
    const after = before.withTopic(topic('t', [localPartition(NODE, 0)]));
    expect(before.topic('t')).toBeUndefined();
    expect(after.topic('t')!.partitions).toHaveLength(1);
    expect(after.topicById(after.topic('t')!.topicId)).toBe(after.topic('t'));
    const t = after.topic('t')!;
    expect(() => (t.partitions as unknown as unknown[]).push(localPartition(NODE, 1))).toThrow(TypeError);
    expect(() => (t.configs as Map<string, string>).set('retention.ms', '1')).toThrow(TypeError);
    expect(() => ((t.partitions[0]!.isr as number[])[0] = 7)).toThrow(TypeError);
    expect(after.withoutTopic(t.topicId).topic('t')).toBeUndefined();
    expect(after.topic('t')).toBe(t);
  });
});

describe('replica manager', () => {
  it('answers UNKNOWN_TOPIC_OR_PARTITION for what the image lacks and NOT_LEADER_OR_FOLLOWER for what another node leads', async () => {
    const { rm, publish, image } = await setup();
    const led = topic('led', [localPartition(NODE, 0)]);
    const elsewhere = topic('elsewhere', [{ partition: 0, replicas: [2, NODE], isr: [2, NODE], leader: 2, leaderEpoch: 3, partitionEpoch: 3 }]);
    expect(rm.leaderFor('led', 0)).toMatchObject({ partition: undefined, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });

    await rm.becomeLeader(led, led.partitions[0]!);
    // Opened but not yet in the image: still unknown to clients.
    expect(rm.leaderFor('led', 0).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    publish(image().withTopic(led).withTopic(elsewhere));
    const found = rm.leaderFor('led', 0);
    expect(found.errorCode).toBe(ErrorCode.NONE);
    expect(found.partition!.leaderEpoch).toBe(0);
    expect(found.partition!.isr).toEqual([NODE]);

    expect(rm.leaderFor('led', 1).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(rm.leaderFor('elsewhere', 0)).toMatchObject({ partition: undefined, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, errorMessage: 'Leader not local for partition elsewhere-0 on broker 1' });
    // A follower replica is hosted (its log opened) but never answers as leader.
    const follower = await rm.becomeFollower(elsewhere, elsewhere.partitions[0]!);
    expect(follower.isLeader).toBe(false);
    expect(rm.hostedPartition(elsewhere.topicId, 0)).toBe(follower);
    expect(rm.leaderFor('elsewhere', 0).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);

    // Leadership moves away in a new image: the hosted replica is no longer served.
    publish(image().withTopic({ ...led, partitions: [{ ...led.partitions[0]!, leader: 2, leaderEpoch: 1 }] }));
    expect(rm.leaderFor('led', 0).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);

    // Stopped and deleted: gone from the replica manager too.
    publish(image().withoutTopic(led.topicId));
    await rm.stopReplica(led.topicId, 0, true);
    expect(rm.hostedPartition(led.topicId, 0)).toBeUndefined();
    expect(rm.leaderFor('led', 0).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('a higher leader epoch starts a new epoch at the log end offset; a stale registration is ignored', async () => {
    const { rm } = await setup();
    const t = topic('epochs', [localPartition(NODE, 0)]);
    const p = await rm.becomeLeader(t, t.partitions[0]!);
    await rm.becomeLeader(t, { ...t.partitions[0]!, leaderEpoch: 4 });
    expect(p.leaderEpoch).toBe(4);
    expect(p.log.leaderEpochCache.latestEpoch()).toBe(4);
    await rm.becomeLeader(t, { ...t.partitions[0]!, leaderEpoch: 2 });
    expect(p.leaderEpoch).toBe(4);
  });
});

describe('high watermark, acks=all and min.insync.replicas', () => {
  it('acks=all is NOT_ENOUGH_REPLICAS before the append when the ISR is under min.insync.replicas; acks=1 is written, the HW holds', async () => {
    const { rm, publish, image } = await setup(2);
    // Two replicas, the follower out of sync: the ISR is this node alone, below min.insync.replicas=2.
    const t = topic('under-min-isr', [{ partition: 0, replicas: [NODE, 2], isr: [NODE], leader: NODE, leaderEpoch: 0, partitionEpoch: 0 }]);
    const p = await rm.becomeLeader(t, t.partitions[0]!);
    publish(image().withTopic(t));
    expect(p.isUnderMinIsr).toBe(true);
    const refused = await rm.appendToLeader(p, batch('a'), -1, 1000);
    expect(refused).toMatchObject({
      errorCode: ErrorCode.NOT_ENOUGH_REPLICAS,
      errorMessage: `The size of the current ISR Set(${NODE}) is insufficient to satisfy the min.isr requirement of 2 for partition under-min-isr-0`,
    });
    expect(p.logEndOffset).toBe(0); // nothing written
    const written = await rm.appendToLeader(p, batch('b'), 1, 1000);
    expect(written).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect(p.logEndOffset).toBe(1);
    expect(p.highWatermark).toBe(0); // under min ISR the HW does not advance (KAFKA-15583)
  });

  it('min.insync.replicas above the replication factor is capped by it (Kafka 3.7+): a single replica takes acks=all', async () => {
    const { rm, publish, image } = await setup(2);
    const t = topic('rf1', [localPartition(NODE, 0)]);
    const p = await rm.becomeLeader(t, t.partitions[0]!);
    publish(image().withTopic(t));
    expect(p.effectiveMinIsr).toBe(1);
    expect(await rm.appendToLeader(p, batch('a'), -1, 0)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect(p.highWatermark).toBe(1);
  });

  it('acks=all waits in the purgatory until the HW covers the batch, or answers REQUEST_TIMED_OUT (on the injected clock)', async () => {
    const { rm, publish, image, clock } = await setup(1);
    const t = topic('delayed', [{ partition: 0, replicas: [NODE, 2], isr: [NODE, 2], leader: NODE, leaderEpoch: 0, partitionEpoch: 0 }]);
    const p = await rm.becomeLeader(t, t.partitions[0]!);
    publish(image().withTopic(t));
    const pending = rm.appendToLeader(p, batch('a'), -1, 60_000);
    let settled = false;
    void pending.then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(p.logEndOffset).toBe(1);
    expect(p.highWatermark).toBe(0); // the follower has not fetched it
    expect(settled).toBe(false);
    expect(rm.purgatory.size).toBe(1);
    p.updateFollowerEndOffset(2, 1); // the follower's fetch reports it
    expect(p.highWatermark).toBe(1);
    expect(await pending).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect(rm.purgatory.size).toBe(0);

    // No follower progress: the produce's timeout answers it, exactly when the manual clock reaches it.
    let timedOut: unknown = null;
    const waiting = rm.appendToLeader(p, batch('b'), -1, 1000).then((r) => (timedOut = r));
    for (let i = 0; rm.purgatory.size === 0; i++) {
      if (i > 100_000) throw new Error('the delayed produce never reached the purgatory');
      await new Promise((r) => setImmediate(r));
    }
    clock.advance(999);
    await new Promise((r) => setImmediate(r));
    expect(timedOut).toBeNull();
    clock.advance(1);
    await waiting;
    expect(timedOut).toMatchObject({ errorCode: ErrorCode.REQUEST_TIMED_OUT });
    expect(p.highWatermark).toBe(1);
    // acks=1 never waits.
    expect(await rm.appendToLeader(p, batch('c'), 1, 60_000)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 2 });
  });
});
