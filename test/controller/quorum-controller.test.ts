/**
 * The pure QuorumController (src/controller/quorum-controller.ts), method by method: broker registration,
 * heartbeats with fencing, unfencing and controlled shutdown, session-timeout fencing with leader election
 * from the ISR, CreateTopics (placement, manual assignments, every refusal with today's messages),
 * CreatePartitions, DeleteTopics, (Incremental)AlterConfigs, AlterPartition (KIP-497/KIP-841/KIP-903
 * errors), ElectLeaders, AllocateProducerIds and the bootstrap records. Every step goes through the
 * harness, which replays the controller's records from their bytes into a second image and checks it
 * equals the controller's.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.js';
import { NULL_UUID } from '../../protocol/primitives.js';
import { AllocateProducerIdsRequest } from '../../protocol/messages/allocate-producer-ids.js';
import { AlterConfigsRequest } from '../../protocol/messages/alter-configs.js';
import { AlterPartitionRequest } from '../../protocol/messages/alter-partition.js';
import { BrokerHeartbeatRequest } from '../../protocol/messages/broker-heartbeat.js';
import { BrokerRegistrationRequest } from '../../protocol/messages/broker-registration.js';
import { CreatePartitionsRequest } from '../../protocol/messages/create-partitions.js';
import { CreateTopicsRequest } from '../../protocol/messages/create-topics.js';
import { DeleteTopicsRequest } from '../../protocol/messages/delete-topics.js';
import { ElectLeadersRequest } from '../../protocol/messages/elect-leaders.js';
import { IncrementalAlterConfigsRequest } from '../../protocol/messages/incremental-alter-configs.js';
import { UnregisterBrokerRequest } from '../../protocol/messages/unregister-broker.js';
import type { MessageValue } from '../../protocol/schema.js';
import { metadataTypeName } from '../../protocol/metadata/serde.js';
import { CLUSTER, Harness, incarnation, METADATA_VERSION } from './controller-harness.js';

type AlterPartitionData = MessageValue<typeof AlterPartitionRequest.decl>['topics'][number]['partitions'][number];

const names = (h: Harness, from: number): string[] => h.log.slice(from).map((r) => metadataTypeName(r.codec.decl.name));

describe('bootstrap', () => {
  it('a new log starts with FeatureLevelRecord metadata.version', () => {
    const h = new Harness();
    expect(names(h, 0)).toEqual(['FEATURE_LEVEL_RECORD']);
    expect(h.log[0]!.data).toEqual({ name: 'metadata.version', featureLevel: METADATA_VERSION });
    expect(h.image.metadataVersion).toBe(12);
  });
});

describe('broker registration and heartbeats', () => {
  it('the broker epoch is the offset of its RegisterBrokerRecord; the broker starts fenced', () => {
    const h = new Harness();
    const at = h.offset;
    expect(h.register(1)).toBe(BigInt(at));
    expect(h.image.brokers.get(1)).toMatchObject({ epoch: at, fenced: true, inControlledShutdown: false, host: '127.0.0.1', port: 9092, incarnationId: incarnation(1) });
    expect(h.register(2)).toBe(BigInt(at + 1));
  });

  it('refuses another cluster id, a second incarnation while the first is alive, and an unsupported metadata.version', () => {
    const h = new Harness();
    h.register(1);
    h.heartbeat(1);
    const base = { ...BrokerRegistrationRequest.defaults(4), brokerId: 1, clusterId: CLUSTER, incarnationId: incarnation(1, 1), rack: null, listeners: [], features: [{ name: 'metadata.version', minSupportedVersion: 1, maxSupportedVersion: 33 }] };
    let r = h.controller.registerBroker(h.now, { ...base, clusterId: 'other' }, h.offset);
    expect(r.response.errorCode).toBe(ErrorCode.INCONSISTENT_CLUSTER_ID);
    expect(r.errorMessage).toBe(`Expected cluster ID ${CLUSTER}, but got cluster ID other`);
    r = h.controller.registerBroker(h.now, base, h.offset);
    expect([r.response.errorCode, r.errorMessage]).toEqual([ErrorCode.DUPLICATE_BROKER_REGISTRATION, 'Another broker is registered with that broker id.']);
    expect(r.records).toEqual([]);
    r = h.controller.registerBroker(h.now, { ...base, brokerId: 2, features: [{ name: 'metadata.version', minSupportedVersion: 13, maxSupportedVersion: 33 }] }, h.offset);
    expect([r.response.errorCode, r.errorMessage]).toEqual([
      ErrorCode.UNSUPPORTED_VERSION,
      'Unable to register because the broker does not support finalized version 12 of metadata.version. The broker wants a version between 13 and 33, inclusive.',
    ]);
    // Once the old incarnation's session has expired, the new one may register (with a new epoch).
    h.now += 9001;
    const epoch = h.register(1, incarnation(1, 1));
    expect(h.image.brokers.get(1)).toMatchObject({ epoch: Number(epoch), incarnationId: incarnation(1, 1), fenced: true });
  });

  it('a combined node\'s own broker (this process\'s incarnation) replaces a registration whose session is still valid', () => {
    // The controller of a killed and restarted single node starts with the old registration unfenced and,
    // as Kafka's, gives it a full session; the broker of its own process cannot be a duplicate of it.
    const own = incarnation(1, 2);
    const h = new Harness(1, {}, { localBrokerIncarnationId: own });
    h.register(1);
    h.heartbeat(1);
    const base = { ...BrokerRegistrationRequest.defaults(4), brokerId: 1, clusterId: CLUSTER, rack: null, listeners: [], features: [{ name: 'metadata.version', minSupportedVersion: 1, maxSupportedVersion: 33 }] };
    // Another process with this node id is still refused while the session lasts...
    expect(h.controller.registerBroker(h.now, { ...base, incarnationId: incarnation(1, 3) }, h.offset).response.errorCode).toBe(ErrorCode.DUPLICATE_BROKER_REGISTRATION);
    // ...this process's own broker is not.
    const epoch = h.register(1, own);
    expect(h.image.brokers.get(1)).toMatchObject({ epoch: Number(epoch), incarnationId: own, fenced: true });
  });

  it('a live broker registering again (same incarnation) starts fenced: its leaderships move first', () => {
    const h = new Harness(8);
    h.brokers(2);
    h.createTopic('t', 2, 2);
    const led = h.image.topic('t')!.partitions.filter((p) => p.leader === 1).map((p) => p.partition);
    expect(led.length).toBe(1);
    const epoch = h.register(1);
    expect(h.image.brokers.get(1)).toMatchObject({ epoch: Number(epoch), fenced: true });
    for (const p of h.image.topic('t')!.partitions) {
      expect(p.leader).toBe(2);
      expect(p.isr).toEqual([2]);
    }
  });

  it('a heartbeat with a stale epoch or from an unknown broker is STALE_BROKER_EPOCH', () => {
    const h = new Harness();
    h.register(1);
    const base = { ...BrokerHeartbeatRequest.defaults(1), brokerId: 1, brokerEpoch: 0n, currentMetadataOffset: 5n };
    let r = h.controller.brokerHeartbeat(h.now, base);
    expect([r.response.errorCode, r.errorMessage]).toEqual([ErrorCode.STALE_BROKER_EPOCH, 'Expected broker epoch 1, but got broker epoch 0']);
    r = h.controller.brokerHeartbeat(h.now, { ...base, brokerId: 9 });
    expect([r.response.errorCode, r.errorMessage]).toEqual([ErrorCode.STALE_BROKER_EPOCH, 'No broker registration found for broker id 9']);
  });

  it('unfences once the broker has caught up to its registration (and, when given, the registration is committed)', () => {
    const h = new Harness();
    const epoch = Number(h.register(1));
    let res = h.heartbeat(1, { metadataOffset: epoch - 1 });
    expect(res).toMatchObject({ errorCode: 0, isCaughtUp: false, isFenced: true, shouldShutDown: false });
    expect(h.image.brokers.get(1)!.fenced).toBe(true);
    const req = { ...BrokerHeartbeatRequest.defaults(1), brokerId: 1, brokerEpoch: BigInt(epoch), currentMetadataOffset: BigInt(epoch) };
    expect(h.controller.brokerHeartbeat(h.now, req, epoch - 1).response.isFenced).toBe(true);
    const before = h.offset;
    res = h.heartbeat(1, { metadataOffset: epoch });
    expect(res).toMatchObject({ isCaughtUp: true, isFenced: false });
    expect(names(h, before)).toEqual(['BROKER_REGISTRATION_CHANGE_RECORD']);
    expect(h.log[before]!.data).toMatchObject({ brokerId: 1, brokerEpoch: BigInt(epoch), fenced: -1 });
    expect(h.image.brokers.get(1)!.fenced).toBe(false);
    // wantFence fences it again.
    expect(h.heartbeat(1, { wantFence: true }).isFenced).toBe(true);
    expect(h.image.brokers.get(1)!.fenced).toBe(true);
  });

  it('controlled shutdown: leadership moves away first, then shouldShutDown and the broker is fenced', () => {
    const h = new Harness(7);
    h.brokers(3);
    h.createTopic('t', 6, 3);
    const led = [...h.image.topic('t')!.partitions].filter((p) => p.leader === 2);
    expect(led.length).toBe(2);
    const before = h.offset;
    const res = h.heartbeat(2, { wantShutDown: true });
    expect(res).toMatchObject({ isFenced: false, shouldShutDown: false });
    expect(names(h, before)[0]).toBe('BROKER_REGISTRATION_CHANGE_RECORD');
    expect(h.log[before]!.data).toMatchObject({ brokerId: 2, inControlledShutdown: 1 });
    expect(h.image.brokers.get(2)).toMatchObject({ inControlledShutdown: true, fenced: false });
    for (const p of h.image.topic('t')!.partitions) {
      expect(p.leader).not.toBe(2);
      expect(p.isr).not.toContain(2);
    }
    for (const p of led) expect(h.image.partition('t', p.partition)!.leaderEpoch).toBe(p.leaderEpoch + 1);
    expect(h.heartbeat(2, { wantShutDown: true })).toMatchObject({ isFenced: true, shouldShutDown: true });
    expect(h.image.brokers.get(2)).toMatchObject({ fenced: true, inControlledShutdown: true });
    // It stays told to shut down.
    expect(h.heartbeat(2, { wantShutDown: true })).toMatchObject({ isFenced: true, shouldShutDown: true });
  });

  it('a broker that leads nothing shuts down at once', () => {
    const h = new Harness();
    h.brokers(1);
    expect(h.heartbeat(1, { wantShutDown: true })).toMatchObject({ isFenced: true, shouldShutDown: true });
  });

  it('UnregisterBroker removes the broker from the ISRs and its registration; an unknown id is BROKER_ID_NOT_REGISTERED', () => {
    const h = new Harness(3);
    h.brokers(3);
    h.createTopic('t', 3, 3);
    h.commit(h.controller.unregisterBroker(h.now, { ...UnregisterBrokerRequest.defaults(0), brokerId: 3 }));
    expect(h.image.brokers.has(3)).toBe(false);
    for (const p of h.image.topic('t')!.partitions) {
      expect(p.isr).not.toContain(3);
      expect(p.leader).not.toBe(3);
    }
    const r = h.controller.unregisterBroker(h.now, { ...UnregisterBrokerRequest.defaults(0), brokerId: 3 });
    expect(r.response).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED, errorMessage: 'Broker ID 3 is not currently registered' });
  });
});

describe('session timeout (tick)', () => {
  it('fences a broker silent for longer than broker.session.timeout.ms; its partitions get a new leader from the ISR with a bumped leader epoch', () => {
    const h = new Harness(11);
    h.brokers(3);
    h.createTopic('t', 3, 3);
    const victim = h.image.partition('t', 0)!.leader;
    const before = h.image.partition('t', 0)!;
    h.now += 9000;
    for (const id of [1, 2, 3]) if (id !== victim) h.heartbeat(id);
    expect(h.commit(h.controller.tick(h.now)).fencedBrokers).toEqual([]);
    h.now += 1;
    const at = h.offset;
    expect(h.commit(h.controller.tick(h.now)).fencedBrokers).toEqual([victim]);
    // Kafka's order: the partition changes, then the fence.
    expect(names(h, at).at(-1)).toBe('BROKER_REGISTRATION_CHANGE_RECORD');
    expect(h.image.brokers.get(victim)!.fenced).toBe(true);
    const after = h.image.partition('t', 0)!;
    expect(after.leader).not.toBe(victim);
    expect(after.leader).toBe(before.replicas.find((r) => r !== victim));
    expect(after.isr).toEqual(before.isr.filter((r) => r !== victim));
    expect(after.leaderEpoch).toBe(before.leaderEpoch + 1);
    expect(after.partitionEpoch).toBe(before.partitionEpoch + 1);
    // A follower that was not leading: only the ISR shrinks, the leader epoch stays (metadata.version 12).
    for (const p of h.image.topic('t')!.partitions) expect(p.isr).not.toContain(victim);
  });

  it('a partition whose ISR holds only fenced brokers has leader -1 and keeps its last ISR member; it leads again once unfenced', () => {
    const h = new Harness(5);
    h.brokers(2);
    h.createTopic('solo', 1, 1, { assignments: [], numPartitions: 1, replicationFactor: 1 });
    const owner = h.image.partition('solo', 0)!.leader;
    const other = owner === 1 ? 2 : 1;
    h.now += 9001;
    h.heartbeat(other);
    expect(h.commit(h.controller.tick(h.now)).fencedBrokers).toEqual([owner]);
    expect(h.image.partition('solo', 0)).toMatchObject({ leader: -1, isr: [owner], leaderEpoch: 1, partitionEpoch: 1 });
    // Unclean election is off: the live broker does not take over.
    h.heartbeat(other);
    expect(h.image.partition('solo', 0)!.leader).toBe(-1);
    // The owner comes back (re-registers) and is unfenced: it leads again.
    h.register(owner, incarnation(owner, 1));
    h.heartbeat(owner);
    expect(h.image.partition('solo', 0)).toMatchObject({ leader: owner, isr: [owner], leaderEpoch: 2 });
  });

  it('with unclean.leader.election.enable=true on the topic, a live out-of-sync replica takes over, RECOVERING', () => {
    const h = new Harness(5);
    h.brokers(2);
    h.createTopic('u', 1, 2, { configs: [{ name: 'unclean.leader.election.enable', value: 'true' }] });
    const leader = h.image.partition('u', 0)!.leader;
    const other = leader === 1 ? 2 : 1;
    // The other replica leaves the ISR (as its leader would ask), then the leader dies.
    h.commit(h.controller.alterPartition(h.now, alterReq(h, leader, 'u', { newIsr: [leader] }), 2));
    h.now += 9001;
    h.heartbeat(other);
    h.commit(h.controller.tick(h.now));
    expect(h.image.partition('u', 0)).toMatchObject({ leader: other, isr: [other], leaderRecoveryState: 1 });
  });

  it('a broker known only from the log (after a controller change) gets a full session first', () => {
    const h = new Harness(2);
    h.brokers(2);
    h.controller.reset(h.image);
    h.now += 60_000;
    expect(h.commit(h.controller.tick(h.now)).fencedBrokers).toEqual([]);
    h.now += 9001;
    expect(h.commit(h.controller.tick(h.now)).fencedBrokers).toEqual([1, 2]);
  });
});

function createReq(topics: Partial<MessageValue<typeof CreateTopicsRequest.decl>['topics'][number]>[], validateOnly = false): MessageValue<typeof CreateTopicsRequest.decl> {
  return {
    ...CreateTopicsRequest.defaults(7),
    validateOnly,
    topics: topics.map((t) => ({ name: 't', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [], ...t })),
  };
}

describe('CreateTopics', () => {
  it('writes TopicRecord, the ConfigRecords, then one PartitionRecord per partition; ISR = replicas, leader = the first', () => {
    const h = new Harness(9);
    h.brokers(3);
    const at = h.offset;
    const res = h.createTopic('orders', 3, 3, { configs: [{ name: 'retention.ms', value: '60000' }] });
    expect(names(h, at)).toEqual(['TOPIC_RECORD', 'CONFIG_RECORD', 'PARTITION_RECORD', 'PARTITION_RECORD', 'PARTITION_RECORD']);
    const topic = h.image.topic('orders')!;
    expect(res).toMatchObject({ name: 'orders', topicId: topic.topicId, errorCode: 0, errorMessage: null, numPartitions: 3, replicationFactor: 3 });
    expect(res.configs!.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '60000', configSource: 1 });
    expect(Object.fromEntries(topic.configs)).toEqual({ 'retention.ms': '60000' });
    for (const p of topic.partitions) {
      expect(new Set(p.replicas).size).toBe(3);
      expect(p.isr).toEqual(p.replicas);
      expect(p).toMatchObject({ leader: p.replicas[0], leaderEpoch: 0, partitionEpoch: 0 });
    }
    expect(new Set(topic.partitions.map((p) => p.leader)).size).toBe(3);
  });

  it('a fenced broker can be a replica but is not in the ISR and never leads', () => {
    const h = new Harness(4);
    h.brokers(2);
    h.register(3);
    h.createTopic('f', 4, 3);
    for (const p of h.image.topic('f')!.partitions) {
      expect(p.replicas).toContain(3);
      expect(p.isr).not.toContain(3);
      expect(p.leader).not.toBe(3);
    }
  });

  it('validateOnly checks and writes nothing', () => {
    const h = new Harness();
    h.brokers(1);
    const r = h.controller.createTopics(h.now, createReq([{ name: 'v', numPartitions: 2 }], true), 7);
    expect(r.records).toEqual([]);
    expect(r.response.topics![0]).toMatchObject({ name: 'v', topicId: NULL_UUID, errorCode: 0, numPartitions: 2, replicationFactor: 1 });
  });

  it("refuses with today's single-node errors and messages", () => {
    const h = new Harness();
    h.brokers(2);
    h.createTopic('exists', 1, 1);
    h.createTopic('a.b', 1, 1);
    const cases: [Partial<MessageValue<typeof CreateTopicsRequest.decl>['topics'][number]>, number, string][] = [
      [{ name: '' }, ErrorCode.INVALID_TOPIC_EXCEPTION, "Topic name is illegal, it can't be empty"],
      [{ name: 'bad/name' }, ErrorCode.INVALID_TOPIC_EXCEPTION, 'Topic name "bad/name" is illegal, it contains a character other than ASCII alphanumerics, \'.\', \'_\' and \'-\''],
      [{ name: 'exists' }, ErrorCode.TOPIC_ALREADY_EXISTS, "Topic 'exists' already exists."],
      [{ name: 'a_b' }, ErrorCode.INVALID_TOPIC_EXCEPTION, "Topic 'a_b' collides with existing topic: a.b"],
      [{ name: 'p0', numPartitions: 0 }, ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.'],
      [{ name: 'r0', replicationFactor: 0 }, ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.'],
      [
        { name: 'r3', replicationFactor: 3 },
        ErrorCode.INVALID_REPLICATION_FACTOR,
        'Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 2 broker(s) are registered.',
      ],
      [{ name: 'cfg', configs: [{ name: 'retention.ms', value: 'x' }] }, ErrorCode.INVALID_CONFIG, 'Invalid value x for configuration retention.ms: Not a number of type LONG'],
      [{ name: 'cfg2', configs: [{ name: 'no.such', value: '1' }] }, ErrorCode.INVALID_CONFIG, 'Unknown topic config name: no.such'],
      [{ name: 'both', numPartitions: 1, assignments: [{ partitionIndex: 0, brokerIds: [1] }] }, ErrorCode.INVALID_REQUEST, 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.'],
    ];
    for (const [topic, code, message] of cases) {
      const r = h.controller.createTopics(h.now, createReq([topic]), 7);
      expect(r.records, topic.name).toEqual([]);
      expect(r.response.topics![0], topic.name).toMatchObject({ errorCode: code, errorMessage: message, topicId: NULL_UUID, numPartitions: -1, replicationFactor: -1, configs: null });
    }
    const dup = h.controller.createTopics(h.now, createReq([{ name: 'twice' }, { name: 'twice' }]), 7);
    expect(dup.response.topics!.map((t) => [t.errorCode, t.errorMessage])).toEqual([
      [ErrorCode.INVALID_REQUEST, 'Create topics request from client contains multiple entries for topic twice'],
      [ErrorCode.INVALID_REQUEST, 'Create topics request from client contains multiple entries for topic twice'],
    ]);
    const big = h.controller.createTopics(h.now, createReq([{ name: 'x', numPartitions: 6000 }, { name: 'y', numPartitions: 5000 }]), 7);
    expect(big.records).toEqual([]);
    expect(big.response.topics!.map((t) => [t.errorCode, t.errorMessage])).toEqual([
      [ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'],
      [ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'],
    ]);
  });

  it('all brokers fenced: INVALID_REPLICATION_FACTOR "All brokers are currently fenced."', () => {
    const h = new Harness();
    h.register(1);
    const r = h.controller.createTopics(h.now, createReq([{ name: 'n' }]), 7);
    expect(r.response.topics![0]).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: 'Unable to replicate the partition 1 time(s): All brokers are currently fenced.' });
  });

  it('one failed topic does not stop the others, and leaves no record behind', () => {
    const h = new Harness();
    h.brokers(1);
    const at = h.offset;
    const res = h.commit(h.controller.createTopics(h.now, createReq([{ name: 'ok1' }, { name: 'bad', configs: [{ name: 'segment.bytes', value: '1' }] }, { name: 'ok2', numPartitions: 2 }]), 7));
    expect(res.topics!.map((t) => t.errorCode)).toEqual([0, ErrorCode.INVALID_CONFIG, 0]);
    expect(names(h, at)).toEqual(['TOPIC_RECORD', 'PARTITION_RECORD', 'TOPIC_RECORD', 'PARTITION_RECORD', 'PARTITION_RECORD']);
    expect(h.image.topic('bad')).toBeUndefined();
  });

  it('manual assignments: placed as given; Kafka refuses empty lists, unknown or repeated brokers, uneven lists, gaps', () => {
    const h = new Harness();
    h.brokers(3);
    const res = h.createTopic('m', -1, -1, { assignments: [{ partitionIndex: 1, brokerIds: [3, 1] }, { partitionIndex: 0, brokerIds: [2, 3] }] });
    expect(res).toMatchObject({ errorCode: 0, numPartitions: 2, replicationFactor: 2 });
    expect(h.image.topic('m')!.partitions.map((p) => [p.replicas, p.leader])).toEqual([[[2, 3], 2], [[3, 1], 3]]);
    const refuse: [{ partitionIndex: number; brokerIds: number[] }[], string][] = [
      [[{ partitionIndex: 0, brokerIds: [] }], 'The manual partition assignment includes an empty replica list.'],
      [[{ partitionIndex: 0, brokerIds: [1, 9] }], 'The manual partition assignment includes broker 9, but no such broker is registered.'],
      [[{ partitionIndex: 0, brokerIds: [2, 2] }], 'The manual partition assignment includes the broker 2 more than once.'],
      [[{ partitionIndex: 0, brokerIds: [1] }, { partitionIndex: 1, brokerIds: [1, 2] }], 'The manual partition assignment includes a partition with 2 replica(s), but this is not consistent with previous partitions, which have 1 replica(s).'],
      [[{ partitionIndex: 0, brokerIds: [1] }, { partitionIndex: 0, brokerIds: [2] }], 'Found multiple manual partition assignments for partition 0'],
      [[{ partitionIndex: 0, brokerIds: [1] }, { partitionIndex: 2, brokerIds: [2] }], 'partitions should be a consecutive 0-based integer sequence'],
    ];
    for (const [assignments, message] of refuse) {
      const r = h.controller.createTopics(h.now, createReq([{ name: 'mm', numPartitions: -1, replicationFactor: -1, assignments }]), 7);
      expect(r.response.topics![0], message).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: message });
    }
  });

  it('topic ids are a function of the seed', () => {
    const ids = [1, 2].map(() => {
      const h = new Harness(77);
      h.brokers(1);
      return h.createTopic('same', 1, 1).topicId;
    });
    expect(ids[0]).toBe(ids[1]);
    expect(ids[0]).not.toBe(NULL_UUID);
  });
});

describe('CreatePartitions', () => {
  const req = (topics: Partial<MessageValue<typeof CreatePartitionsRequest.decl>['topics'][number]>[], validateOnly = false): MessageValue<typeof CreatePartitionsRequest.decl> => ({
    ...CreatePartitionsRequest.defaults(3),
    validateOnly,
    topics: topics.map((t) => ({ name: 't', count: 2, assignments: null, ...t })),
  });

  it('adds PartitionRecords with the topic replication factor, continuing the placement', () => {
    const h = new Harness(13);
    h.brokers(3);
    h.createTopic('t', 3, 2);
    const lastLeader = h.image.partition('t', 2)!.leader;
    const at = h.offset;
    const res = h.commit(h.controller.createPartitions(h.now, req([{ count: 6 }]), 3));
    expect(res.results).toEqual([{ name: 't', errorCode: 0, errorMessage: null }]);
    expect(names(h, at)).toEqual(['PARTITION_RECORD', 'PARTITION_RECORD', 'PARTITION_RECORD']);
    const parts = h.image.topic('t')!.partitions;
    expect(parts).toHaveLength(6);
    for (const p of parts.slice(3)) expect(p.replicas).toHaveLength(2);
    expect(parts[3]!.leader).toBe((lastLeader % 3) + 1);
    expect(new Set(parts.slice(3).map((p) => p.leader)).size).toBe(3);
  });

  it("refuses with today's messages", () => {
    const h = new Harness();
    h.brokers(2);
    h.createTopic('t', 2, 2);
    const cases: [Partial<MessageValue<typeof CreatePartitionsRequest.decl>['topics'][number]>, number, string][] = [
      [{ name: 'nope' }, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.'],
      [{ count: 2 }, ErrorCode.INVALID_PARTITIONS, 'Topic already has 2 partition(s).'],
      [{ count: 1 }, ErrorCode.INVALID_PARTITIONS, 'The topic t currently has 2 partition(s); 1 would not be an increase.'],
      [{ count: 20_003 }, ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'],
      [{ count: 4, assignments: [{ brokerIds: [1, 2] }] }, ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.'],
      [{ count: 3, assignments: [{ brokerIds: [1] }] }, ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with previous partitions, which have 2 replica(s).'],
      [{ count: 3, assignments: [{ brokerIds: [1, 5] }] }, ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes broker 5, but no such broker is registered.'],
    ];
    for (const [t, code, message] of cases) {
      const r = h.controller.createPartitions(h.now, req([t]), 3);
      expect(r.records, message).toEqual([]);
      expect(r.response.results[0], message).toMatchObject({ errorCode: code, errorMessage: message });
    }
    expect(h.controller.createPartitions(h.now, req([{}, {}]), 3).response.results).toEqual([{ name: 't', errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' }]);
    const v = h.controller.createPartitions(h.now, req([{ count: 3, assignments: [{ brokerIds: [2, 1] }] }], true), 3);
    expect([v.records, v.response.results[0]!.errorCode]).toEqual([[], 0]);
    h.commit(h.controller.createPartitions(h.now, req([{ count: 3, assignments: [{ brokerIds: [2, 1] }] }]), 3));
    expect(h.image.partition('t', 2)).toMatchObject({ replicas: [2, 1], isr: [2, 1], leader: 2 });
  });
});

describe('DeleteTopics', () => {
  const req = (v: Partial<MessageValue<typeof DeleteTopicsRequest.decl>>): MessageValue<typeof DeleteTopicsRequest.decl> => ({ ...DeleteTopicsRequest.defaults(6), ...v });

  it('by name (v5) and by id (v6): one RemoveTopicRecord each; unknown name, unknown id, internal topic, twice', () => {
    const h = new Harness();
    h.brokers(1);
    h.createTopic('a', 1, 1);
    h.createTopic('b', 1, 1);
    h.createTopic('__consumer_offsets', 1, 1);
    const idB = h.image.topic('b')!.topicId;
    const at = h.offset;
    let res = h.commit(h.controller.deleteTopics(h.now, req({ topicNames: ['a', 'nope', '__consumer_offsets', 'a'] }), 5));
    expect(res.responses.map((r) => [r.name, r.errorCode, r.errorMessage])).toEqual([
      ['a', 0, null],
      ['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.'],
      ['__consumer_offsets', ErrorCode.INVALID_REQUEST, 'Topic __consumer_offsets is a kafka internal topic and is not allowed to be marked for deletion.'],
      ['a', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.'],
    ]);
    expect(names(h, at)).toEqual(['REMOVE_TOPIC_RECORD']);
    const unknownId = '11111111-2222-4333-8444-555555555555';
    res = h.commit(h.controller.deleteTopics(h.now, req({ topics: [{ name: null, topicId: idB }, { name: null, topicId: unknownId }] }), 6));
    expect(res.responses).toEqual([
      { name: 'b', topicId: idB, errorCode: 0, errorMessage: null },
      { name: null, topicId: unknownId, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: 'This server does not host this topic ID.' },
    ]);
    expect([...h.image.topics()].map((t) => t.name)).toEqual(['__consumer_offsets']);
  });

  it('delete.topic.enable=false: TOPIC_DELETION_DISABLED', () => {
    const h = new Harness(1, { 'delete.topic.enable': 'false' });
    h.brokers(1);
    h.createTopic('a', 1, 1);
    const r = h.controller.deleteTopics(h.now, req({ topicNames: ['a'] }), 5);
    expect(r.records).toEqual([]);
    expect(r.response.responses[0]).toMatchObject({ errorCode: ErrorCode.TOPIC_DELETION_DISABLED, errorMessage: 'Topic deletion is disabled.' });
  });
});

describe('configs', () => {
  const inc = (resources: MessageValue<typeof IncrementalAlterConfigsRequest.decl>['resources'], validateOnly = false) => ({ ...IncrementalAlterConfigsRequest.defaults(1), resources, validateOnly });

  it('IncrementalAlterConfigs on a topic: SET, DELETE, APPEND as ConfigRecords (null value = deleted)', () => {
    const h = new Harness();
    h.brokers(1);
    h.createTopic('t', 1, 1, { configs: [{ name: 'retention.ms', value: '1000' }] });
    const at = h.offset;
    const res = h.commit(
      h.controller.incrementalAlterConfigs(
        h.now,
        inc([{ resourceType: 2, resourceName: 't', configs: [{ name: 'retention.ms', configOperation: 1, value: null }, { name: 'cleanup.policy', configOperation: 2, value: 'compact' }, { name: 'segment.ms', configOperation: 0, value: '5000' }] }]),
      ),
    );
    expect(res.responses).toEqual([{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't' }]);
    expect(names(h, at)).toEqual(['CONFIG_RECORD', 'CONFIG_RECORD', 'CONFIG_RECORD']);
    expect(Object.fromEntries(h.image.topic('t')!.configs)).toEqual({ 'cleanup.policy': 'delete,compact', 'segment.ms': '5000' });
  });

  it('AlterConfigs replaces the set; broker resources (cluster default and per node) go to the broker configs', () => {
    const h = new Harness();
    h.brokers(1);
    h.createTopic('t', 1, 1, { configs: [{ name: 'retention.ms', value: '1000' }] });
    const req = { ...AlterConfigsRequest.defaults(2), resources: [
      { resourceType: 2, resourceName: 't', configs: [{ name: 'segment.ms', value: '7000' }] },
      { resourceType: 4, resourceName: '', configs: [{ name: 'log.retention.ms', value: '123' }] },
      { resourceType: 4, resourceName: '2', configs: [{ name: 'log.retention.bytes', value: '99' }] },
    ] };
    const res = h.commit(h.controller.alterConfigs(h.now, req));
    expect(res.responses.map((r) => r.errorCode)).toEqual([0, 0, 0]);
    expect(Object.fromEntries(h.image.topic('t')!.configs)).toEqual({ 'segment.ms': '7000' });
    expect(Object.fromEntries(h.image.brokerConfigs.get('')!)).toEqual({ 'log.retention.ms': '123' });
    expect(Object.fromEntries(h.image.brokerConfigs.get('2')!)).toEqual({ 'log.retention.bytes': '99' });
  });

  it("refusals, with today's messages; validateOnly writes nothing", () => {
    const h = new Harness();
    h.brokers(1);
    h.createTopic('t', 1, 1);
    const r = h.controller.incrementalAlterConfigs(
      h.now,
      inc([
        { resourceType: 2, resourceName: 't', configs: [{ name: 'retention.ms', configOperation: 0, value: 'abc' }] },
        { resourceType: 2, resourceName: 'nope', configs: [{ name: 'retention.ms', configOperation: 0, value: '1' }] },
        { resourceType: 2, resourceName: '', configs: [] },
        { resourceType: 4, resourceName: 'x', configs: [] },
        { resourceType: 4, resourceName: '', configs: [{ name: 'log.dirs', configOperation: 0, value: '/x' }] },
        { resourceType: 8, resourceName: '1', configs: [] },
        { resourceType: 2, resourceName: 'dup', configs: [] },
        { resourceType: 2, resourceName: 'dup', configs: [] },
      ]),
    );
    expect(r.records).toEqual([]);
    expect(r.response.responses.map((x) => [x.errorCode, x.errorMessage])).toEqual([
      [ErrorCode.INVALID_CONFIG, 'Invalid value abc for configuration retention.ms: Not a number of type LONG'],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The topic 'nope' does not exist."],
      [ErrorCode.INVALID_REQUEST, 'Default topic resources are not allowed.'],
      [ErrorCode.INVALID_REQUEST, 'Node id must be an integer, but it is: x'],
      [ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: Set(log.dirs)'],
      [ErrorCode.INVALID_REQUEST, 'Altering BROKER_LOGGER configs is not supported by this broker'],
      [ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'],
      [ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'],
    ]);
    const v = h.controller.incrementalAlterConfigs(h.now, inc([{ resourceType: 2, resourceName: 't', configs: [{ name: 'retention.ms', configOperation: 0, value: '1' }] }], true));
    expect([v.records, v.response.responses[0]!.errorCode]).toEqual([[], 0]);
  });
});

function alterReq(h: Harness, brokerId: number, topic: string, p: Partial<AlterPartitionData> & { partitionIndex?: number }): MessageValue<typeof AlterPartitionRequest.decl> {
  const t = h.image.topic(topic)!;
  const part = t.partitions[p.partitionIndex ?? 0] ?? t.partitions[0]!;
  return {
    ...AlterPartitionRequest.defaults(3),
    brokerId,
    brokerEpoch: BigInt(h.image.brokers.get(brokerId)!.epoch),
    topics: [{ topicId: t.topicId, partitions: [{ partitionIndex: 0, leaderEpoch: part.leaderEpoch, partitionEpoch: part.partitionEpoch, newIsr: [], newIsrWithEpochs: [], leaderRecoveryState: 0, ...p }] }],
  };
}

describe('AlterPartition', () => {
  function setup(): { h: Harness; leader: number; followers: number[] } {
    const h = new Harness(21);
    h.brokers(3);
    h.createTopic('t', 1, 3);
    const p = h.image.partition('t', 0)!;
    return { h, leader: p.leader, followers: p.replicas.filter((r) => r !== p.leader) };
  }

  it('shrinks and expands the ISR: the partition epoch moves, the leader epoch stays', () => {
    const { h, leader, followers } = setup();
    let res = h.commit(h.controller.alterPartition(h.now, alterReq(h, leader, 't', { newIsr: [leader, followers[0]!] }), 2));
    expect(res.topics![0]!.partitions[0]).toMatchObject({ errorCode: 0, leaderId: leader, leaderEpoch: 0, isr: [leader, followers[0]], partitionEpoch: 1 });
    expect(h.image.partition('t', 0)).toMatchObject({ isr: [leader, followers[0]], leaderEpoch: 0, partitionEpoch: 1 });
    const epochs = followers.map((f) => ({ brokerId: f, brokerEpoch: BigInt(h.image.brokers.get(f)!.epoch) }));
    res = h.commit(h.controller.alterPartition(h.now, alterReq(h, leader, 't', { newIsrWithEpochs: [{ brokerId: leader, brokerEpoch: -1n }, ...epochs] }), 3));
    expect(res.topics![0]!.partitions[0]).toMatchObject({ errorCode: 0, partitionEpoch: 2, isr: [leader, ...followers] });
  });

  it("answers each of Kafka's refusals", () => {
    const { h, leader, followers } = setup();
    const code = (req: MessageValue<typeof AlterPartitionRequest.decl>, version = 2) => {
      const r = h.controller.alterPartition(h.now, req, version);
      expect(r.records).toEqual([]);
      return r.response.errorCode !== 0 ? r.response.errorCode : r.response.topics![0]!.partitions[0]!.errorCode;
    };
    const isr = [leader, ...followers];
    expect(code({ ...alterReq(h, leader, 't', { newIsr: isr }), brokerEpoch: 999n })).toBe(ErrorCode.STALE_BROKER_EPOCH);
    const unknown = alterReq(h, leader, 't', { newIsr: isr });
    unknown.topics[0]!.topicId = '11111111-2222-4333-8444-555555555555';
    expect(code(unknown)).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
    expect(code(alterReq(h, leader, 't', { partitionIndex: 5, newIsr: isr }))).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(code(alterReq(h, leader, 't', { newIsr: isr, leaderEpoch: 1 }))).toBe(ErrorCode.NOT_CONTROLLER);
    expect(code(alterReq(h, leader, 't', { newIsr: isr, partitionEpoch: 1 }))).toBe(ErrorCode.NOT_CONTROLLER);
    expect(code(alterReq(h, followers[0]!, 't', { newIsr: isr }))).toBe(ErrorCode.INVALID_REQUEST);
    expect(code(alterReq(h, leader, 't', { newIsr: [followers[0]!] }))).toBe(ErrorCode.INVALID_REQUEST);
    expect(code(alterReq(h, leader, 't', { newIsr: [leader, 42] }))).toBe(ErrorCode.INVALID_REQUEST);
    expect(code(alterReq(h, leader, 't', { newIsr: [leader, leader] }))).toBe(ErrorCode.INVALID_REQUEST);
    expect(code(alterReq(h, leader, 't', { newIsr: [leader], leaderRecoveryState: 1 }))).toBe(ErrorCode.INVALID_REQUEST);
    // A change moves the epochs on: the old ones are now stale.
    h.commit(h.controller.alterPartition(h.now, alterReq(h, leader, 't', { newIsr: [leader, followers[0]!] }), 2));
    const stale = alterReq(h, leader, 't', { newIsr: isr, partitionEpoch: 0 });
    expect(code(stale)).toBe(ErrorCode.INVALID_UPDATE_VERSION);
    // A fenced follower may not join (KIP-841); v3: a broker epoch that is not the registration's neither (KIP-903).
    h.commit(h.controller.brokerHeartbeat(h.now, { ...BrokerHeartbeatRequest.defaults(1), brokerId: followers[1]!, brokerEpoch: BigInt(h.image.brokers.get(followers[1]!)!.epoch), currentMetadataOffset: 0n, wantFence: true, wantShutDown: false }));
    expect(code(alterReq(h, leader, 't', { newIsr: isr }))).toBe(ErrorCode.INELIGIBLE_REPLICA);
    expect(code(alterReq(h, leader, 't', { newIsrWithEpochs: [{ brokerId: leader, brokerEpoch: -1n }, { brokerId: followers[0]!, brokerEpoch: 12345n }] }), 3)).toBe(ErrorCode.INELIGIBLE_REPLICA);
    // After a leader change the old leader's epoch is fenced.
    const old = alterReq(h, leader, 't', { newIsr: [leader, followers[0]!] });
    h.now += 9001;
    h.heartbeat(followers[0]!);
    h.commit(h.controller.tick(h.now));
    expect(h.image.partition('t', 0)!.leader).toBe(followers[0]);
    expect(code({ ...old, brokerEpoch: old.brokerEpoch })).toBe(ErrorCode.FENCED_LEADER_EPOCH);
  });
});

describe('ElectLeaders', () => {
  const req = (electionType: number, topicPartitions: { topic: string; partitions: number[] }[] | null) => ({ ...ElectLeadersRequest.defaults(2), electionType, topicPartitions });

  it('PREFERRED moves leadership back to the first replica once it is live and in the ISR', () => {
    const h = new Harness(31);
    h.brokers(2);
    h.createTopic('t', 1, 2);
    const preferred = h.image.partition('t', 0)!.replicas[0]!;
    const other = h.image.partition('t', 0)!.replicas[1]!;
    let res = h.commit(h.controller.electLeaders(h.now, req(0, [{ topic: 't', partitions: [0] }])));
    expect(res.replicaElectionResults![0]!.partitionResult[0]).toEqual({ partitionId: 0, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' });
    // The preferred leader dies: the other takes over; it comes back, rejoins the ISR, and a preferred election moves leadership back.
    h.now += 9001;
    h.heartbeat(other);
    h.commit(h.controller.tick(h.now));
    expect(h.image.partition('t', 0)).toMatchObject({ leader: other, isr: [other] });
    res = h.commit(h.controller.electLeaders(h.now, req(0, [{ topic: 't', partitions: [0] }])));
    expect(res.replicaElectionResults![0]!.partitionResult[0]!.errorCode).toBe(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE);
    h.register(preferred, incarnation(preferred, 1));
    h.heartbeat(preferred);
    h.commit(h.controller.alterPartition(h.now, alterReq(h, other, 't', { newIsr: [other, preferred] }), 2));
    const epoch = h.image.partition('t', 0)!.leaderEpoch;
    res = h.commit(h.controller.electLeaders(h.now, req(0, null)));
    expect(res.replicaElectionResults).toEqual([{ topic: 't', partitionResult: [{ partitionId: 0, errorCode: 0, errorMessage: null }] }]);
    expect(h.image.partition('t', 0)).toMatchObject({ leader: preferred, leaderEpoch: epoch + 1 });
    res = h.commit(h.controller.electLeaders(h.now, req(0, [{ topic: 'nope', partitions: [0] }, { topic: 't', partitions: [3] }])));
    expect(res.replicaElectionResults!.map((r) => r.partitionResult![0]!.errorMessage)).toEqual(['No such topic as nope', 'No such partition as t-3']);
    expect(h.controller.electLeaders(h.now, req(5, null)).response.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  /** Broker `preferred` (the first replica of t-0) dies and comes back; the other leads; `rejoin` puts it back in the ISR. */
  function failedOver(seed = 31, partitions = 1, rejoin = true): { h: Harness; preferred: number; other: number } {
    const h = new Harness(seed);
    h.brokers(2);
    h.createTopic('t', partitions, 2);
    const preferred = h.image.partition('t', 0)!.replicas[0]!;
    const other = h.image.partition('t', 0)!.replicas[1]!;
    h.now += 9001;
    h.heartbeat(other);
    h.commit(h.controller.tick(h.now));
    h.register(preferred, incarnation(preferred, 1));
    h.heartbeat(preferred);
    if (rejoin) {
      for (let i = 0; i < partitions; i++) {
        if (!h.image.partition('t', i)!.isr.includes(preferred)) {
          h.commit(h.controller.alterPartition(h.now, alterReq(h, other, 't', { partitionIndex: i, newIsr: [...h.image.partition('t', i)!.isr, preferred] }), 2));
        }
      }
    }
    return { h, preferred, other };
  }

  it('PREFERRED writes one PartitionChangeRecord with only the new leader: the leader epoch moves, the ISR stays', () => {
    const { h, preferred, other } = failedOver();
    const before = h.image.partition('t', 0)!;
    expect(before).toMatchObject({ leader: other });
    const at = h.log.length;
    const res = h.commit(h.controller.electLeaders(h.now, req(0, [{ topic: 't', partitions: [0] }])));
    expect(res).toEqual({ throttleTimeMs: 0, errorCode: 0, replicaElectionResults: [{ topic: 't', partitionResult: [{ partitionId: 0, errorCode: 0, errorMessage: null }] }] });
    expect(names(h, at)).toEqual(['PARTITION_CHANGE_RECORD']);
    expect(h.log[at]!.data).toMatchObject({ partitionId: 0, leader: preferred, isr: null, replicas: null, leaderRecoveryState: -1 });
    expect(h.image.partition('t', 0)).toMatchObject({ leader: preferred, leaderEpoch: before.leaderEpoch + 1, partitionEpoch: before.partitionEpoch + 1, isr: before.isr });
  });

  it('PREFERRED_LEADER_NOT_AVAILABLE, and no record, while the preferred replica is out of the ISR or fenced', () => {
    const { h, preferred } = failedOver(31, 1, false);
    const res = h.controller.electLeaders(h.now, req(0, [{ topic: 't', partitions: [0] }]));
    expect(res.records).toEqual([]);
    expect(res.response.replicaElectionResults[0]!.partitionResult[0]).toEqual({ partitionId: 0, errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, errorMessage: 'The preferred leader was not available.' });
    // The ISR's last member, fenced (leader -1): it cannot lead, and no other replica is in the ISR.
    const h2 = new Harness(31);
    h2.brokers(2);
    h2.createTopic('t', 1, 2);
    const first = h2.image.partition('t', 0)!.replicas[0]!;
    const second = h2.image.partition('t', 0)!.replicas[1]!;
    h2.commit(h2.controller.alterPartition(h2.now, alterReq(h2, first, 't', { newIsr: [first] }), 2));
    h2.now += 9001;
    h2.heartbeat(second);
    h2.commit(h2.controller.tick(h2.now));
    expect(h2.image.partition('t', 0)).toMatchObject({ leader: -1, isr: [first] });
    const offline = h2.controller.electLeaders(h2.now, req(0, [{ topic: 't', partitions: [0] }]));
    expect(offline.records).toEqual([]);
    expect(offline.response.replicaElectionResults[0]!.partitionResult[0]!.errorCode).toBe(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE);
    expect(preferred).toBeGreaterThan(0);
  });

  it('null asks for every partition: every topic is listed, with only the partitions that needed an election', () => {
    const { h, preferred } = failedOver(31, 2);
    h.createTopic('u', 1, 1);
    const imbalanced = h.image.topic('t')!.partitions.filter((p) => p.leader !== p.replicas[0]).map((p) => p.partition);
    expect(imbalanced.length).toBeGreaterThan(0);
    const res = h.commit(h.controller.electLeaders(h.now, req(0, null)));
    expect(res.replicaElectionResults).toEqual([
      { topic: 't', partitionResult: imbalanced.map((partitionId) => ({ partitionId, errorCode: 0, errorMessage: null })) },
      { topic: 'u', partitionResult: [] },
    ]);
    for (const p of h.image.topic('t')!.partitions) expect(p.leader).toBe(p.replicas[0]);
    expect(preferred).toBeGreaterThan(0);
    // Nothing left to do: the same request writes nothing and lists the topics with no partitions.
    const again = h.controller.electLeaders(h.now, req(0, null));
    expect(again.records).toEqual([]);
    expect(again.response.replicaElectionResults).toEqual([{ topic: 't', partitionResult: [] }, { topic: 'u', partitionResult: [] }]);
  });

  it('an empty list is answered with nothing; an unknown election type fails every requested partition (getErrorResponse)', () => {
    const h = new Harness(31);
    h.brokers(1);
    h.createTopic('t', 1, 1);
    expect(h.controller.electLeaders(h.now, req(0, []))).toEqual({ records: [], response: { throttleTimeMs: 0, errorCode: 0, replicaElectionResults: [] } });
    const bad = h.controller.electLeaders(h.now, req(2, [{ topic: 't', partitions: [0, 7] }]));
    expect(bad.records).toEqual([]);
    expect(bad.response).toEqual({
      throttleTimeMs: 0,
      errorCode: ErrorCode.INVALID_REQUEST,
      replicaElectionResults: [{ topic: 't', partitionResult: [0, 7].map((partitionId) => ({ partitionId, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unknown election type 2' })) }],
    });
    expect(h.controller.electLeaders(h.now, req(2, null)).response).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, replicaElectionResults: [] });
  });

  it('UNCLEAN is ELECTION_NOT_NEEDED for a partition with a leader, ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is live', () => {
    const h = new Harness(31);
    h.brokers(2);
    h.createTopic('t', 1, 2);
    let res = h.commit(h.controller.electLeaders(h.now, req(1, [{ topic: 't', partitions: [0] }])));
    expect(res.replicaElectionResults[0]!.partitionResult[0]).toEqual({ partitionId: 0, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' });
    h.now += 9001;
    h.commit(h.controller.tick(h.now));
    expect(h.image.partition('t', 0)!.leader).toBe(-1);
    res = h.commit(h.controller.electLeaders(h.now, req(1, [{ topic: 't', partitions: [0] }])));
    expect(res.replicaElectionResults[0]!.partitionResult[0]).toEqual({ partitionId: 0, errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, errorMessage: 'Eligible topic partition leaders are not available.' });
    // With nothing elected, null lists the leaderless partition with its error.
    res = h.commit(h.controller.electLeaders(h.now, req(1, null)));
    expect(res.replicaElectionResults).toEqual([{ topic: 't', partitionResult: [{ partitionId: 0, errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, errorMessage: 'Eligible topic partition leaders are not available.' }] }]);
  });

  it('UNCLEAN elects a live out-of-ISR replica for a leaderless partition, as the only ISR member', () => {
    const h = new Harness(31);
    h.brokers(2);
    h.createTopic('t', 1, 2);
    const p = h.image.partition('t', 0)!;
    const [a, b] = [p.leader, p.replicas.find((r) => r !== p.leader)!];
    h.commit(h.controller.alterPartition(h.now, alterReq(h, a, 't', { newIsr: [a] }), 2));
    h.now += 9001;
    h.heartbeat(b);
    h.commit(h.controller.tick(h.now));
    expect(h.image.partition('t', 0)!.leader).toBe(-1);
    const res = h.commit(h.controller.electLeaders(h.now, req(1, [{ topic: 't', partitions: [0] }])));
    expect(res.replicaElectionResults![0]!.partitionResult![0]!.errorCode).toBe(0);
    expect(h.image.partition('t', 0)).toMatchObject({ leader: b, isr: [b], leaderRecoveryState: 1 });
  });
});

describe('automatic preferred leader election (auto.leader.rebalance.enable)', () => {
  /** t has `partitions` partitions over brokers 1-2 (RF 2); the first replica of t-0 failed over and came back in every ISR. */
  function imbalanced(props: Record<string, string> = {}, partitions = 4, options: { maxElectionsPerImbalance?: number } = {}) {
    const h = new Harness(41, props, options);
    h.brokers(2);
    h.createTopic('t', partitions, 2);
    const preferred = h.image.partition('t', 0)!.replicas[0]!;
    const other = h.image.partition('t', 0)!.replicas[1]!;
    h.now += 9001;
    h.heartbeat(other);
    h.commit(h.controller.tick(h.now));
    h.register(preferred, incarnation(preferred, 1));
    h.heartbeat(preferred);
    for (let i = 0; i < partitions; i++) {
      const p = h.image.partition('t', i)!;
      if (!p.isr.includes(preferred)) h.commit(h.controller.alterPartition(h.now, alterReq(h, other, 't', { partitionIndex: i, newIsr: [...p.isr, preferred] }), 2));
    }
    const led = (id: number) => h.image.topic('t')!.partitions.filter((p) => p.leader === id).length;
    return { h, preferred, other, led };
  }

  it('is on by default: a pass is due leader.imbalance.check.interval.seconds (300) after leaders became imbalanced, and elects every preferred replica in the ISR', () => {
    const { h, preferred, other, led } = imbalanced();
    expect(led(other)).toBe(4);
    expect(h.controller.arePartitionLeadersImbalanced()).toBe(true);
    expect(h.controller.maybeScheduleNextBalancePartitionLeaders(h.now)).toBe(h.now + 300_000);
    // Scheduled once: later operations do not move it.
    expect(h.controller.maybeScheduleNextBalancePartitionLeaders(h.now + 5)).toBeNull();
    h.now += 300_000;
    const at = h.log.length;
    const res = h.commit(h.controller.maybeBalancePartitionLeaders(h.now));
    expect(res.rescheduleImmediately).toBe(false);
    expect(res.elected.map((e) => e.leader)).toEqual(Array(res.elected.length).fill(preferred));
    expect(names(h, at)).toEqual(Array(res.elected.length).fill('PARTITION_CHANGE_RECORD'));
    for (const p of h.image.topic('t')!.partitions) expect(p.leader).toBe(p.replicas[0]);
    expect(led(preferred)).toBe(2);
    expect(led(other)).toBe(2);
    // Balanced: nothing more is scheduled.
    expect(h.controller.arePartitionLeadersImbalanced()).toBe(false);
    expect(h.controller.maybeScheduleNextBalancePartitionLeaders(h.now)).toBeNull();
  });

  it('a partition whose preferred replica is not in the ISR is left alone, and the next pass is a full interval later', () => {
    const { h, preferred, other } = imbalanced({ 'leader.imbalance.check.interval.seconds': '5' });
    const p0 = h.image.partition('t', 0)!;
    // t-0's ISR shrinks to the current leader: its preferred replica cannot lead.
    h.commit(h.controller.alterPartition(h.now, alterReq(h, other, 't', { partitionIndex: 0, newIsr: [other] }), 2));
    expect(h.controller.maybeScheduleNextBalancePartitionLeaders(h.now)).toBe(h.now + 5000);
    const res = h.commit(h.controller.maybeBalancePartitionLeaders(h.now + 5000));
    expect(res.elected.some((e) => e.partition === 0)).toBe(false);
    expect(h.image.partition('t', 0)).toMatchObject({ leader: other, leaderEpoch: p0.leaderEpoch });
    expect(h.controller.maybeScheduleNextBalancePartitionLeaders(h.now + 5000)).toBe(h.now + 10_000);
    expect(preferred).not.toBe(other);
  });

  it('a pass stops at maxElectionsPerImbalance records and the next one is due 10 ms later', () => {
    const { h, led, preferred } = imbalanced({}, 8, { maxElectionsPerImbalance: 1 });
    const imbalancedCount = h.image.topic('t')!.partitions.filter((p) => p.leader !== p.replicas[0]).length;
    expect(imbalancedCount).toBeGreaterThan(1);
    expect(h.controller.maybeScheduleNextBalancePartitionLeaders(h.now)).toBe(h.now + 300_000);
    let res = h.commit(h.controller.maybeBalancePartitionLeaders(h.now));
    expect([res.elected.length, res.rescheduleImmediately]).toEqual([1, true]);
    expect(h.controller.maybeScheduleNextBalancePartitionLeaders(h.now)).toBe(h.now + 10);
    for (let i = 1; i < imbalancedCount; i++) {
      res = h.commit(h.controller.maybeBalancePartitionLeaders(h.now));
      expect(res.elected.length).toBe(1);
    }
    expect(res.rescheduleImmediately).toBe(false);
    expect(led(preferred)).toBe(4);
  });

  it('auto.leader.rebalance.enable=false schedules nothing; a new activation (reset) starts a full interval again', () => {
    const off = imbalanced({ 'auto.leader.rebalance.enable': 'false' });
    expect(off.h.controller.arePartitionLeadersImbalanced()).toBe(true);
    expect(off.h.controller.maybeScheduleNextBalancePartitionLeaders(off.h.now)).toBeNull();
    const { h } = imbalanced({ 'leader.imbalance.check.interval.seconds': '7' }, 4, { maxElectionsPerImbalance: 1 });
    h.commit(h.controller.maybeBalancePartitionLeaders(h.now));
    h.controller.reset(h.image);
    expect(h.controller.maybeScheduleNextBalancePartitionLeaders(h.now)).toBe(h.now + 7000);
  });
});

describe('AllocateProducerIds', () => {
  it('hands out consecutive blocks of 1000 as ProducerIdsRecords; a stale epoch is STALE_BROKER_EPOCH', () => {
    const h = new Harness();
    h.brokers(2);
    const req = (brokerId: number) => ({ ...AllocateProducerIdsRequest.defaults(0), brokerId, brokerEpoch: BigInt(h.image.brokers.get(brokerId)!.epoch) });
    expect(h.commit(h.controller.allocateProducerIds(h.now, req(1)))).toEqual({ throttleTimeMs: 0, errorCode: 0, producerIdStart: 0n, producerIdLen: 1000 });
    expect(h.commit(h.controller.allocateProducerIds(h.now, req(2)))).toMatchObject({ producerIdStart: 1000n, producerIdLen: 1000 });
    expect(h.image.nextProducerId).toBe(2000n);
    expect(h.log.at(-1)!.data).toEqual({ brokerId: 2, brokerEpoch: BigInt(h.image.brokers.get(2)!.epoch), nextProducerId: 2000n });
    const stale = h.controller.allocateProducerIds(h.now, { ...req(1), brokerEpoch: 77n });
    expect([stale.records, stale.response.errorCode]).toEqual([[], ErrorCode.STALE_BROKER_EPOCH]);
  });
});
