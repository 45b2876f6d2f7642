/**
 * Random sequences of controller operations (fast-check): registrations and re-registrations, heartbeats
 * (catching up, wanting fencing or shutdown), time passing with session-timeout fencing, topic creation
 * and growth, deletion, ISR changes proposed by leaders (with current or stale epochs), preferred and
 * unclean elections, unregistration, producer id blocks. After every step, for every partition:
 *   - the replicas are distinct, the ISR is a non-empty subset of them without duplicates;
 *   - the leader is -1 or an ISR member that is registered, unfenced and not shutting down; a led
 *     partition's ISR holds live brokers only; an offline partition keeps one ISR member, not live;
 *   - leader epoch and partition epoch never go down, and the leader epoch moves exactly when the leader does;
 * producer id blocks never overlap; and (in the harness) the image replayed from the records' bytes equals
 * the controller's. The seed is fixed (SAMSA_PROPERTY_SEED overrides it); fast-check prints the seed and
 * the shrunk operation list of a failure, which replays it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { AllocateProducerIdsRequest } from '../../protocol/messages/allocate-producer-ids.js';
import { AlterPartitionRequest } from '../../protocol/messages/alter-partition.js';
import { BrokerRegistrationRequest } from '../../protocol/messages/broker-registration.js';
import { CreatePartitionsRequest } from '../../protocol/messages/create-partitions.js';
import { DeleteTopicsRequest } from '../../protocol/messages/delete-topics.js';
import { ElectLeadersRequest } from '../../protocol/messages/elect-leaders.js';
import { UnregisterBrokerRequest } from '../../protocol/messages/unregister-broker.js';
import { CLUSTER, Harness, incarnation } from './controller-harness.js';

const BROKERS = [1, 2, 3, 4];
const TOPICS = ['a', 'b', 'c'];

type Op =
  | { kind: 'register'; broker: number; run: number }
  | { kind: 'heartbeat'; broker: number; lag: number; wantFence: boolean; wantShutDown: boolean }
  | { kind: 'time'; ms: number }
  | { kind: 'create'; topic: number; partitions: number; rf: number }
  | { kind: 'grow'; topic: number; by: number }
  | { kind: 'delete'; topic: number }
  | { kind: 'alterIsr'; topic: number; partition: number; keep: number[]; stale: boolean }
  | { kind: 'elect'; topic: number; unclean: boolean }
  | { kind: 'balance' }
  | { kind: 'unregister'; broker: number }
  | { kind: 'producerIds'; broker: number };

const broker = fc.constantFrom(...BROKERS);
/** True one time in ten: fencing and shutting down are rare, so most runs keep live leaders to act on. */
const rarely = fc.integer({ min: 0, max: 9 }).map((n) => n === 0);
const topic = fc.integer({ min: 0, max: TOPICS.length - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('register' as const), broker, run: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('heartbeat' as const), broker, lag: fc.integer({ min: 0, max: 3 }), wantFence: rarely, wantShutDown: rarely }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 6_000 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('create' as const), topic, partitions: fc.integer({ min: 1, max: 5 }), rf: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('grow' as const), topic, by: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), topic }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('alterIsr' as const), topic, partition: fc.integer({ min: 0, max: 5 }), keep: fc.subarray(BROKERS), stale: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('elect' as const), topic, unclean: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('balance' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unregister' as const), broker }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('producerIds' as const), broker }) },
);

function run(seed: number, ops: readonly Op[]): void {
  const h = new Harness(seed, { 'default.replication.factor': '1' });
  // Every run starts with four live brokers; the operations then register, fence and remove them at will.
  h.brokers(BROKERS.length);
  const epochs = new Map<string, { leader: number; leaderEpoch: number; partitionEpoch: number }>();
  const blocks: bigint[] = [];
  for (const o of ops) {
    step(h, o, blocks);
    check(h, epochs);
  }
  const sorted = [...blocks].sort((x, y) => (x < y ? -1 : 1));
  for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(1000n);
}

function step(h: Harness, o: Op, blocks: bigint[]): void {
  const c = h.controller;
  const reg = (id: number) => h.image.brokers.get(id);
  switch (o.kind) {
    case 'register': {
      const req = {
        ...BrokerRegistrationRequest.defaults(4),
        brokerId: o.broker,
        clusterId: CLUSTER,
        incarnationId: incarnation(o.broker, o.run),
        rack: null,
        listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9000 + o.broker, securityProtocol: 0 }],
        features: [{ name: 'metadata.version', minSupportedVersion: 7, maxSupportedVersion: 33 }],
      };
      h.commit(c.registerBroker(h.now, req, h.offset));
      break;
    }
    case 'heartbeat':
      if (reg(o.broker)) h.heartbeat(o.broker, { metadataOffset: h.offset - 1 - o.lag, wantFence: o.wantFence, wantShutDown: o.wantShutDown });
      break;
    case 'time':
      h.now += o.ms;
      h.commit(c.tick(h.now));
      break;
    case 'create':
      h.createTopic(TOPICS[o.topic]!, o.partitions, o.rf);
      break;
    case 'grow': {
      const t = h.image.topic(TOPICS[o.topic]!);
      const count = (t?.partitions.length ?? 0) + o.by;
      h.commit(c.createPartitions(h.now, { ...CreatePartitionsRequest.defaults(3), topics: [{ name: TOPICS[o.topic]!, count, assignments: null }] }, 3));
      break;
    }
    case 'delete':
      h.commit(c.deleteTopics(h.now, { ...DeleteTopicsRequest.defaults(5), topicNames: [TOPICS[o.topic]!] }, 5));
      break;
    case 'alterIsr': {
      const t = h.image.topic(TOPICS[o.topic]!);
      const p = t?.partitions[o.partition];
      if (!t || !p || p.leader === -1) break;
      const isr = [p.leader, ...o.keep.filter((r) => r !== p.leader && p.replicas.includes(r))];
      const res = h.commit(
        c.alterPartition(
          h.now,
          {
            ...AlterPartitionRequest.defaults(3),
            brokerId: p.leader,
            brokerEpoch: BigInt(reg(p.leader)!.epoch),
            topics: [{ topicId: t.topicId, partitions: [{ partitionIndex: p.partition, leaderEpoch: p.leaderEpoch, partitionEpoch: o.stale ? p.partitionEpoch - 1 : p.partitionEpoch, newIsr: [], newIsrWithEpochs: isr.map((brokerId) => ({ brokerId, brokerEpoch: -1n })), leaderRecoveryState: 0 }] }],
          },
          3,
        ),
      );
      const code = res.topics[0]!.partitions[0]!.errorCode;
      if (o.stale && p.partitionEpoch > 0) expect(code).toBe(ErrorCode.INVALID_UPDATE_VERSION);
      if (code === ErrorCode.NONE) expect(h.image.partition(t.name, p.partition)!.isr).toEqual(isr);
      break;
    }
    case 'elect':
      h.commit(c.electLeaders(h.now, { ...ElectLeadersRequest.defaults(2), electionType: o.unclean ? 1 : 0, topicPartitions: null }));
      break;
    case 'balance': {
      // auto.leader.rebalance.enable's pass: afterwards every partition whose first replica may lead is led by it.
      h.commit(c.maybeBalancePartitionLeaders(h.now));
      for (const t of h.image.topics()) {
        for (const p of t.partitions) {
          const first = reg(p.replicas[0]!);
          if (p.isr.includes(p.replicas[0]!) && first && !first.fenced && !first.inControlledShutdown) assert(p.leader === p.replicas[0], `${t.name}-${p.partition}: not led by its preferred replica after balancing`);
        }
      }
      break;
    }
    case 'unregister':
      h.commit(c.unregisterBroker(h.now, { ...UnregisterBrokerRequest.defaults(0), brokerId: o.broker }));
      break;
    case 'producerIds': {
      const r = reg(o.broker);
      if (!r) break;
      const res = h.commit(c.allocateProducerIds(h.now, { ...AllocateProducerIdsRequest.defaults(0), brokerId: o.broker, brokerEpoch: BigInt(r.epoch) }));
      expect(res.errorCode).toBe(0);
      blocks.push(res.producerIdStart);
      break;
    }
  }
}

/** Throws (cheaply: thousands of checks per run) with what broke. */
function assert(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

function check(h: Harness, epochs: Map<string, { leader: number; leaderEpoch: number; partitionEpoch: number }>): void {
  const image = h.image;
  for (const t of image.topics()) {
    for (const p of t.partitions) {
      const where = `${t.name}-${p.partition} ${JSON.stringify(p)}`;
      assert(new Set(p.replicas).size === p.replicas.length, `${where}: a broker twice in the replicas`);
      assert(p.isr.length > 0, `${where}: empty ISR`);
      assert(new Set(p.isr).size === p.isr.length, `${where}: a broker twice in the ISR`);
      assert(p.isr.every((r) => p.replicas.includes(r)), `${where}: ISR not within the replicas`);
      const live = (id: number): boolean => {
        const reg = image.brokers.get(id);
        return reg !== undefined && !reg.fenced && !reg.inControlledShutdown;
      };
      if (p.leader !== -1) {
        assert(p.isr.includes(p.leader), `${where}: leader not in the ISR`);
        assert(live(p.leader), `${where}: leader ${p.leader} is not live`);
        // Fencing, shutting down and unregistering take a broker out of every ISR it is not the last of.
        assert(p.isr.every(live), `${where}: an ISR member of a led partition is not live`);
      } else {
        // Offline: only the last ISR member is left, and it is not live (else it would have been elected).
        assert(p.isr.length === 1 && !live(p.isr[0]!), `${where}: offline with a live or several ISR members`);
      }
      const key = `${t.topicId}-${p.partition}`;
      const prev = epochs.get(key);
      if (prev) {
        assert(p.partitionEpoch >= prev.partitionEpoch, `${where}: partition epoch went down from ${prev.partitionEpoch}`);
        assert(p.leaderEpoch >= prev.leaderEpoch, `${where}: leader epoch went down from ${prev.leaderEpoch}`);
        assert((p.leaderEpoch !== prev.leaderEpoch) === (p.leader !== prev.leader), `${where}: leader epoch and leader did not move together (was ${JSON.stringify(prev)})`);
      }
      epochs.set(key, { leader: p.leader, leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch });
    }
  }
}

describe('QuorumController under random operation sequences', () => {
  it('keeps leader in ISR, ISR within replicas, epochs monotonic, and its image equal to the replay of its records', () => {
    const seed = Number(process.env.SAMSA_PROPERTY_SEED ?? 20261203);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.array(op, { minLength: 1, maxLength: 80, size: 'max' }), (controllerSeed, ops) => {
        run(controllerSeed, ops);
      }),
      { seed, numRuns: 100 },
    );
  });
});
