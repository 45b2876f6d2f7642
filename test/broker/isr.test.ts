/**
 * The leader's ISR rules on the injected clock (Kafka's Partition.maybeExpandIsr / maybeShrinkIsr /
 * maybeIncrementLeaderHW, KIP-497's maximal ISR, KIP-841's eligibility), below the wire: follower fetch
 * states are fed to the partition directly and AlterPartition goes to a transport the test answers by hand.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { LogManager } from '../../storage/log-manager.js';
import { defaultLogConfig } from '../../storage/log-config.js';
import { MetadataImage, type PartitionRegistration, type TopicImage } from '../../src/broker/metadata-image.js';
import { ReplicaManager } from '../../src/broker/replica-manager.js';
import type { AlterPartitionRequestBody, AlterPartitionResponseBody } from '../../src/broker/isr-manager.js';
import { randomTopicId } from '../../storage/kafka-uuid.js';
import { buildBatchSync } from '../../protocol/records/record.js';
import { ManualClock } from '../../src/util/clock.js';

const NODE = 1;
const LAG_MS = 10_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Sent {
  request: AlterPartitionRequestBody;
  answer: (isr: number[] | null, errorCode?: number) => void;
}

async function setup(reg: Omit<PartitionRegistration, 'partition'>, opts: { fenced?: number[] } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-isr-'));
  const logger = pino({ level: 'silent' });
  const clock = new ManualClock();
  const logManager = new LogManager(dir, { logger });
  let image = MetadataImage.EMPTY.withCluster('c', NODE);
  for (const id of [1, 2, 3]) image = image.withBroker({ nodeId: id, host: '127.0.0.1', port: 9000 + id, rack: null, epoch: 10 + id, fenced: opts.fenced?.includes(id) ?? false });
  const topic: TopicImage = { name: 't', topicId: randomTopicId(), configs: new Map(), partitions: [{ partition: 0, ...reg }] };
  image = image.withTopic(topic);
  const rm_ = new ReplicaManager({
    nodeId: NODE,
    logManager,
    logger,
    image: () => image,
    logConfigFor: () => ({ ...defaultLogConfig }),
    appendSettings: () => ({ maxMessageBytes: 1048588, messageTimestampType: 'CreateTime', timestampBeforeMaxMs: Infinity, timestampAfterMaxMs: Infinity, minInSyncReplicas: 2 }),
    producerStateOptions: { logger, now: () => clock.now() },
    clock,
    replicaLagTimeMaxMs: LAG_MS,
  });
  const sent: Sent[] = [];
  rm_.isrManager.transport = (request) =>
    new Promise<AlterPartitionResponseBody>((resolve) => {
      sent.push({
        request,
        answer: (isr, errorCode = ErrorCode.NONE) => {
          const p = request.topics![0]!.partitions![0]!;
          resolve({
            throttleTimeMs: 0,
            errorCode: ErrorCode.NONE,
            topics: [{ topicId: topic.topicId, partitions: [{ partitionIndex: 0, errorCode, leaderId: NODE, leaderEpoch: p.leaderEpoch!, isr: isr ?? [], leaderRecoveryState: 0, partitionEpoch: p.partitionEpoch! + 1 }] }],
          } as AlterPartitionResponseBody);
        },
      });
    });
  cleanups.push(async () => {
    await rm_.shutdown();
    await logManager.closeAll();
    await rm(dir, { recursive: true, force: true });
  });
  const p = await rm_.becomeLeader(topic, topic.partitions[0]!);
  const append = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await p.appendAsLeader(buildBatchSync([{ key: null, value: Buffer.from(`v${i}`) }]));
  };
  const settle = () => new Promise((r) => setImmediate(r));
  return { rm: rm_, p, clock, sent, append, settle };
}

describe('ISR', () => {
  it('expands when a follower reaches the HW; while the expansion is in flight the HW already waits for it (maximal ISR)', async () => {
    const ctx = await setup({ replicas: [1, 2, 3], isr: [1, 2], leader: 1, leaderEpoch: 0, partitionEpoch: 0 });
    const { p, sent, append, settle } = ctx;
    await append(4);
    p.updateFollowerFetchState(2, 4, 4);
    expect(p.highWatermark).toBe(4);
    // Node 3 below the HW: not proposed.
    p.updateFollowerFetchState(3, 2, 4);
    expect(sent).toHaveLength(0);
    p.updateFollowerFetchState(3, 4, 4);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.request).toMatchObject({ brokerId: 1, brokerEpoch: 11n, topics: [{ partitions: [{ partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 0 }] }] });
    expect(sent[0]!.request.topics![0]!.partitions![0]!.newIsrWithEpochs).toEqual([
      { brokerId: 1, brokerEpoch: 11n },
      { brokerId: 2, brokerEpoch: 12n },
      { brokerId: 3, brokerEpoch: 13n },
    ]);
    expect(p.isr).toEqual([1, 2]); // not committed yet
    expect(p.maximalIsr).toEqual([1, 2, 3]);
    // Node 2 moves on, node 3 does not (and is no longer "caught up" by time): the HW stops at node 3's
    // LEO although the committed ISR is [1,2].
    const { clock } = ctx;
    clock.advance(LAG_MS + 1);
    await append(2);
    p.updateFollowerFetchState(2, 6, 6);
    expect(p.highWatermark).toBe(4);
    // A second proposal never goes out while one is in flight.
    p.updateFollowerFetchState(3, 5, 6);
    expect(sent).toHaveLength(1);
    sent[0]!.answer([1, 2, 3]);
    await settle();
    expect(p.isr).toEqual([1, 2, 3]);
    expect(p.partitionEpoch).toBe(1);
    expect(p.highWatermark).toBe(5);
  });

  it('a fenced broker is not eligible (KIP-841): it is neither proposed nor counted for the HW', async () => {
    const { p, sent, append } = await setup({ replicas: [1, 2, 3], isr: [1, 2], leader: 1, leaderEpoch: 0, partitionEpoch: 0 }, { fenced: [3] });
    await append(3);
    p.updateFollowerFetchState(2, 3, 3);
    p.updateFollowerFetchState(3, 1, 3);
    expect(p.highWatermark).toBe(3);
    p.updateFollowerFetchState(3, 3, 3);
    expect(sent).toHaveLength(0);
  });

  it('shrinks after replica.lag.time.max.ms without catching up; the HW waits for the member until the shrink commits', async () => {
    const { p, clock, sent, append, settle } = await setup({ replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 0 });
    await append(2);
    p.updateFollowerFetchState(2, 2, 2);
    p.updateFollowerFetchState(3, 2, 2);
    expect(p.highWatermark).toBe(2);
    await append(3); // LEO 5; node 3 stops fetching
    clock.advance(LAG_MS / 2);
    p.updateFollowerFetchState(2, 5, 5);
    expect(p.highWatermark).toBe(2);
    expect(sent).toHaveLength(0); // node 3 caught up less than LAG_MS ago
    // The isr-expiration task runs every LAG_MS / 2; exactly LAG_MS since the last catch-up still counts
    // as caught up (Replica.isCaughtUp: <=), so the check after that removes node 3.
    clock.advance(LAG_MS / 2);
    expect(sent).toHaveLength(0);
    clock.advance(LAG_MS / 2);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.request.topics![0]!.partitions![0]!.newIsrWithEpochs!.map((b) => b.brokerId)).toEqual([1, 2]);
    expect(p.highWatermark).toBe(2); // pending shrink: node 3 still counts
    sent[0]!.answer([1, 2]);
    await settle();
    expect(p.isr).toEqual([1, 2]);
    expect(p.highWatermark).toBe(5);
  });

  it('a follower fetching steadily behind a busy leader stays in the ISR (caught up as of its previous fetch)', async () => {
    const { p, clock, sent, append } = await setup({ replicas: [1, 2], isr: [1, 2], leader: 1, leaderEpoch: 0, partitionEpoch: 0 });
    for (let round = 0; round < 6; round++) {
      await append(1);
      const leo = p.logEndOffset;
      // Each fetch reaches the leader's LEO as of the previous fetch, never the current one.
      p.updateFollowerFetchState(2, leo - 1, leo);
      clock.advance(LAG_MS / 2 + 1);
    }
    expect(sent).toHaveLength(0);
    expect(p.isr).toEqual([1, 2]);
  });

  it('a refused proposal goes back to the committed ISR (INELIGIBLE_REPLICA) or waits for metadata (INVALID_UPDATE_VERSION)', async () => {
    const { p, sent, append, settle } = await setup({ replicas: [1, 2, 3], isr: [1, 2], leader: 1, leaderEpoch: 0, partitionEpoch: 0 });
    await append(1);
    p.updateFollowerFetchState(2, 1, 1);
    p.updateFollowerFetchState(3, 1, 1);
    sent[0]!.answer(null, ErrorCode.INELIGIBLE_REPLICA);
    await settle();
    expect(p.isrChangeInFlight).toBe(false);
    expect(p.maximalIsr).toEqual([1, 2]);
    p.updateFollowerFetchState(3, 1, 1);
    expect(sent).toHaveLength(2);
    sent[1]!.answer(null, ErrorCode.INVALID_UPDATE_VERSION);
    await settle();
    expect(p.isrChangeInFlight).toBe(true); // until the next image
    p.makeLeader({ partition: 0, replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 2 }, NODE);
    expect(p.isrChangeInFlight).toBe(false);
    expect(p.isr).toEqual([1, 2, 3]);
  });

  it('a restarted process proposes no ISR change before it registers, then only with its own new broker epoch (not the previous process\'s from the image)', async () => {
    // Seed 1301 of the fault suite (3 nodes): the leader was killed, its log tail cut, and it came back
    // within the broker session timeout. Its image still named it leader with its old registration (epoch
    // 11 here), which the controller accepted until that session expired; the new process, its requests
    // held until unfenced, saw no follower fetch for replica.lag.time.max.ms and shrank the ISR to itself,
    // then was re-elected with the shorter log and the followers truncated to it.
    const { rm: manager, p, clock, sent, append, settle } = await setup({ replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 0 });
    let registered = -1n;
    manager.isrManager.localBrokerEpoch = () => registered;
    await append(2);
    clock.advance(LAG_MS / 2);
    clock.advance(LAG_MS / 2);
    clock.advance(LAG_MS / 2);
    await settle();
    expect(sent).toHaveLength(0); // the shrink was proposed and held back: not registered
    expect(p.isr).toEqual([1, 2, 3]);
    expect(p.isrChangeInFlight).toBe(false); // back to the committed ISR, proposed again later
    registered = 4242n;
    clock.advance(LAG_MS / 2);
    expect(sent).toHaveLength(1);
    const req = sent[0]!.request;
    expect(req.brokerEpoch).toBe(4242n);
    expect(req.topics![0]!.partitions![0]!.newIsrWithEpochs!.find((b) => b.brokerId === NODE)!.brokerEpoch).toBe(4242n);
  });
});
