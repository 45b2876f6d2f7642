/**
 * The ControllerService's automatic preferred leader election (auto.leader.rebalance.enable) on the
 * injected clock: with a stand-in Raft node that commits every proposal at once, the pass runs exactly
 * leader.imbalance.check.interval.seconds after leadership left a preferred replica (not a millisecond
 * before), its PartitionChangeRecord goes through the Raft log like any operation's, and a controller that
 * stops being active cancels the pending pass. The pass's rules are tested in quorum-controller.test.ts.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AlterPartitionRequest } from '../../protocol/messages/alter-partition.js';
import { BrokerHeartbeatRequest } from '../../protocol/messages/broker-heartbeat.js';
import { BrokerRegistrationRequest } from '../../protocol/messages/broker-registration.js';
import { CreateTopicsRequest } from '../../protocol/messages/create-topics.js';
import { buildConfig } from '../../src/config.js';
import { ControllerService } from '../../src/controller/controller-service.js';
import { QuorumController } from '../../src/controller/quorum-controller.js';
import type { CommittedRecord, RaftNode } from '../../src/controller/raft/raft-node.js';
import { SeededRandom } from '../../src/controller/raft/random.js';
import { ManualClock } from '../../src/util/clock.js';
import { CLUSTER, incarnation } from './controller-harness.js';

/** The part of RaftNode the service uses: this node leads, and a proposal commits as soon as it is made. */
class InstantRaft {
  logEndOffset = 0;
  highWatermark = 0;
  leader = { leaderId: 1, epoch: 1 };
  isLeader = true;
  readonly proposals: number[] = [];
  private commitListeners: ((records: readonly CommittedRecord[], hw: number) => void)[] = [];
  private leaderListeners: ((l: { leaderId: number; epoch: number; isLocal: boolean }) => void)[] = [];

  onCommit(l: (records: readonly CommittedRecord[], hw: number) => void): void {
    this.commitListeners.push(l);
  }
  onSnapshotLoaded(): void {}
  onLeaderChange(l: (leader: { leaderId: number; epoch: number; isLocal: boolean }) => void): void {
    this.leaderListeners.push(l);
  }
  elect(leaderId: number, epoch: number): void {
    this.leader = { leaderId, epoch };
    this.isLeader = leaderId === 1;
    for (const l of this.leaderListeners) l({ leaderId, epoch, isLocal: this.isLeader });
  }
  async propose(values: readonly Uint8Array[]): Promise<{ lastOffset: number; epoch: number }> {
    const records: CommittedRecord[] = values.map((v, i) => ({ offset: this.logEndOffset + i, epoch: this.leader.epoch, control: null, value: Buffer.from(v), timestamp: 0, lastInBatch: i === values.length - 1 }));
    this.logEndOffset += values.length;
    this.highWatermark = this.logEndOffset;
    this.proposals.push(values.length);
    for (const l of this.commitListeners) l(records, this.highWatermark);
    return { lastOffset: this.logEndOffset - 1, epoch: this.leader.epoch };
  }
}

async function setup(props: Record<string, string>) {
  const clock = new ManualClock(1_000_000);
  const raft = new InstantRaft();
  // Sessions never expire here: brokers are fenced only when they ask to be.
  const config = buildConfig(new Map(Object.entries({ 'broker.session.timeout.ms': '1000000000', 'broker.heartbeat.interval.ms': '2000', ...props })));
  const controller = new QuorumController({ nodeId: 1, clusterId: CLUSTER, config, random: new SeededRandom(31) });
  const service = new ControllerService({ raft: raft as unknown as RaftNode, controller, clusterId: CLUSTER, clock, logger: pino({ level: 'silent' }) });
  raft.elect(1, 1);
  await Promise.resolve();
  expect(service.isActive).toBe(true);
  const run = async <R>(op: Parameters<ControllerService['run']>[0]): Promise<R> => (await service.run(op)) as R;
  const heartbeat = (brokerId: number, wantFence = false) =>
    run((c, now) =>
      c.brokerHeartbeat(now, { ...BrokerHeartbeatRequest.defaults(1), brokerId, brokerEpoch: BigInt(c.image.brokers.get(brokerId)!.epoch), currentMetadataOffset: BigInt(raft.logEndOffset), wantFence }, raft.logEndOffset),
    );
  for (const id of [1, 2]) {
    await run((c, now, next) =>
      c.registerBroker(
        now,
        { ...BrokerRegistrationRequest.defaults(4), brokerId: id, clusterId: CLUSTER, incarnationId: incarnation(id), rack: null, listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9090 + id, securityProtocol: 0 }], features: [{ name: 'metadata.version', minSupportedVersion: 7, maxSupportedVersion: 33 }] },
        next,
      ),
    );
  }
  for (const id of [1, 2]) await heartbeat(id);
  await run((c, now) => c.createTopics(now, { ...CreateTopicsRequest.defaults(7), topics: [{ name: 't', numPartitions: 1, replicationFactor: 2, assignments: [], configs: [] }] }, 7));
  const partition = () => service.committedImage.partition('t', 0)!;
  const preferred = partition().replicas[0]!;
  const other = partition().replicas[1]!;
  // The preferred replica is fenced (leadership moves), comes back, and rejoins the ISR: all at one instant.
  await heartbeat(preferred, true);
  expect(partition().leader).toBe(other);
  await heartbeat(preferred);
  await run((c, now) => {
    const p = c.image.partition('t', 0)!;
    return c.alterPartition(
      now,
      {
        ...AlterPartitionRequest.defaults(3),
        brokerId: other,
        brokerEpoch: BigInt(c.image.brokers.get(other)!.epoch),
        topics: [{ topicId: c.image.topic('t')!.topicId, partitions: [{ partitionIndex: 0, leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch, newIsr: [], newIsrWithEpochs: [other, preferred].map((brokerId) => ({ brokerId, brokerEpoch: -1n })), leaderRecoveryState: 0 }] }],
      },
      3,
    );
  });
  expect(partition()).toMatchObject({ leader: other, isr: [other, preferred] });
  return { clock, raft, service, partition, preferred, other };
}

/** Lets the promise chains of a pass that a timer started run to their end. */
const settle = () => new Promise((r) => setImmediate(r));

describe('the controller service runs the balancing pass on the injected clock', () => {
  it('leader.imbalance.check.interval.seconds after the imbalance appeared, and not before', async () => {
    const { clock, raft, partition, preferred, other } = await setup({ 'leader.imbalance.check.interval.seconds': '300' });
    const epoch = partition().leaderEpoch;
    const proposals = raft.proposals.length;
    clock.advance(299_999);
    await settle();
    expect(partition().leader).toBe(other);
    clock.advance(1);
    await settle();
    expect(partition()).toMatchObject({ leader: preferred, leaderEpoch: epoch + 1 });
    // One Raft batch with the election (the ticks write nothing: no session expires).
    expect(raft.proposals.slice(proposals)).toEqual([1]);
    // Balanced: nothing else is scheduled.
    clock.advance(600_000);
    await settle();
    expect(raft.proposals.length).toBe(proposals + 1);
  });

  it('auto.leader.rebalance.enable=false never moves it; losing the leadership cancels a pending pass', async () => {
    const off = await setup({ 'auto.leader.rebalance.enable': 'false' });
    off.clock.advance(3_600_000);
    await settle();
    expect(off.partition().leader).toBe(off.other);

    const { clock, raft, service, partition, other } = await setup({ 'leader.imbalance.check.interval.seconds': '10' });
    raft.elect(2, 2);
    expect(service.isActive).toBe(false);
    // The pending pass and the session tick are both cancelled.
    expect(clock.timerCount).toBe(0);
    const proposals = raft.proposals.length;
    clock.advance(60_000);
    await settle();
    expect(raft.proposals.length).toBe(proposals);
    expect(partition().leader).toBe(other);
  });
});
