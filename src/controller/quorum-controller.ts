/**
 * The active controller's state machine (KIP-631; Kafka's QuorumController with its ClusterControlManager,
 * ReplicationControlManager, ConfigurationControlManager and ProducerIdControlManager), pure: the time is
 * passed in, randomness is injected, nothing here does I/O or reads a clock.
 *
 * Its state is the metadata image replayed from every record appended to the metadata log (`replay`, in
 * offset order, committed or not: Kafka's controller applies on append), plus soft state that is not in
 * the log: when each broker last heartbeated, and whether a preferred-leader balancing pass is scheduled
 * (auto.leader.rebalance.enable). Each operation reads the image, decides, and returns
 * `{ records, response }`: the metadata records to propose as ONE batch (atomic), and the answer to send
 * once they are committed. An operation never changes the image itself; the records do, when replayed.
 * The records are built on a scratch copy of the image, each applied with applyMetadataRecord as it is
 * added, so later decisions of the same operation see earlier ones, and a record that would not replay is
 * caught here. The caller must `replay` the returned records (once appended) before the next operation.
 *
 * Record versions and metadata.version: bootstrapRecords() finalizes metadata.version 12 (3.6-IV0, the
 * first level where shrinking an ISR keeps the leader epoch, KAFKA-15021), and the records are written at
 * the versions Kafka writes at that level (no KIP-858 directories, no KIP-966 ELR fields).
 *
 * Out of scope, with what is done instead: KIP-966 eligible leader replicas (an ISR never shrinks to
 * empty: the last member stays, with leader -1, and leads again once unfenced); rack-aware placement
 * (placement.ts); partition reassignment (adding/removing replicas stay empty); the
 * lowest-active-offset wait of a controlled shutdown (a broker in controlled shutdown is told to shut down
 * as soon as it leads nothing); create-topic policies and controller mutation quotas.
 */
import { ErrorCode, errorInfo } from '../../protocol/errors.js';
import { NULL_UUID } from '../../protocol/primitives.js';
import { BrokerRegistrationChangeRecord } from '../../protocol/metadata/broker-registration-change-record.js';
import { ConfigRecord } from '../../protocol/metadata/config-record.js';
import { FeatureLevelRecord } from '../../protocol/metadata/feature-level-record.js';
import { PartitionChangeRecord } from '../../protocol/metadata/partition-change-record.js';
import { PartitionRecord } from '../../protocol/metadata/partition-record.js';
import { ProducerIdsRecord } from '../../protocol/metadata/producer-ids-record.js';
import { RegisterBrokerRecord } from '../../protocol/metadata/register-broker-record.js';
import { RemoveTopicRecord } from '../../protocol/metadata/remove-topic-record.js';
import { decodeMetadataRecord, encodeMetadataRecord, type DecodedMetadataRecord } from '../../protocol/metadata/serde.js';
import { TopicRecord } from '../../protocol/metadata/topic-record.js';
import { UnregisterBrokerRecord } from '../../protocol/metadata/unregister-broker-record.js';
import type { AllocateProducerIdsRequest, AllocateProducerIdsResponse } from '../../protocol/messages/allocate-producer-ids.js';
import type { AlterConfigsRequest, AlterConfigsResponse } from '../../protocol/messages/alter-configs.js';
import type { AlterPartitionRequest, AlterPartitionResponse } from '../../protocol/messages/alter-partition.js';
import type { BrokerHeartbeatRequest, BrokerHeartbeatResponse } from '../../protocol/messages/broker-heartbeat.js';
import type { BrokerRegistrationRequest, BrokerRegistrationResponse } from '../../protocol/messages/broker-registration.js';
import type { CreatePartitionsRequest, CreatePartitionsResponse } from '../../protocol/messages/create-partitions.js';
import type { CreateTopicsRequest, CreateTopicsResponse } from '../../protocol/messages/create-topics.js';
import type { DeleteTopicsRequest, DeleteTopicsResponse } from '../../protocol/messages/delete-topics.js';
import type { ElectLeadersRequest, ElectLeadersResponse } from '../../protocol/messages/elect-leaders.js';
import type { IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from '../../protocol/messages/incremental-alter-configs.js';
import type { UnregisterBrokerRequest, UnregisterBrokerResponse } from '../../protocol/messages/unregister-broker.js';
import type { MessageCodec, MessageDecl, MessageInput, MessageValue } from '../../protocol/schema.js';
import { toKafkaUuidString } from '../../storage/kafka-uuid.js';
import type { BrokerConfig } from '../config.js';
import { applyIncrementalOps, ConfigResourceType, configEntriesProblem, duplicateResources, DUPLICATE_RESOURCE, type ConfigOutcome } from '../broker/config-changes.js';
import { dynamicBrokerConfigsProblem } from '../broker/dynamic-broker-config.js';
import { isInternalTopic } from '../broker/internal-topics.js';
import type { LegacyMetadata } from '../broker/legacy-topics.js';
import { MetadataImage, type PartitionRegistration, type TopicImage } from '../broker/metadata-image.js';
import { applyMetadataRecord, ControlledShutdownChange, FencingChange, NO_LEADER, NO_LEADER_CHANGE } from '../broker/metadata-replay.js';
import { resolveTopicConfig, TOPIC_CONFIGS, validateTopicConfigs } from '../broker/topic-config.js';
import { TopicError } from '../broker/topic-error.js';
import { ElectionType, electLeadersErrorResponse } from './elect-leaders-response.js';
import { PlacementError, placeReplicas, type UsableBroker } from './placement.js';
import type { Random } from './raft/random.js';
import {
  ASSIGNMENTS_AND_COUNTS_MESSAGE,
  duplicateTopicMessage,
  EXCESSIVE_PARTITIONS_MESSAGE,
  MAX_PARTITIONS_PER_BATCH,
  topicNameError,
  validateNewTopic,
} from './topic-validation.js';

/** The metadata.version bootstrapRecords() finalizes: IBP_3_6_IV0. */
export const METADATA_VERSION = 12;
/** ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE (KIP-730). */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

/** KIP-704 leaderRecoveryState values. */
const LEADER_RECOVERY_STATE = { RECOVERED: 0, RECOVERING: 1 } as const;
/** ReplicationControlManager.MAX_ELECTIONS_PER_IMBALANCE: records one balancing pass writes at most. */
export const MAX_ELECTIONS_PER_IMBALANCE = 1000;
/** QuorumController: a pass that stopped at its cap is run again after 10 ms. */
const BALANCE_IMMEDIATELY_DELAY_MS = 10;

/** The record versions Kafka writes at metadata.version 12. */
const RECORD_VERSION = {
  registerBroker: 2,
  brokerChangeFence: 0,
  brokerChangeShutdown: 1,
  partition: 0,
  partitionChange: 0,
} as const;

type Req<A extends { decl: MessageDecl }> = MessageValue<A['decl']>;
/** Responses are complete values (every field set), ready for the encoder. */
type Res<A extends { decl: MessageDecl }> = MessageValue<A['decl']>;

/** What an operation returns: the records to propose as one batch, and the answer once they commit. */
export interface ControllerResult<R> {
  readonly records: readonly DecodedMetadataRecord[];
  readonly response: R;
}

/** The encoded record values of a result, for RaftNode.propose. */
export function encodeControllerRecords(records: readonly DecodedMetadataRecord[]): Buffer[] {
  return records.map((r) => encodeMetadataRecord(r.codec, r.data, r.version));
}

export interface QuorumControllerOptions {
  readonly nodeId: number;
  readonly clusterId: string;
  /** The node's configuration: num.partitions, default.replication.factor, broker.session.timeout.ms, delete.topic.enable... */
  readonly config: BrokerConfig;
  readonly random: Random;
  /** Records one balancing pass writes at most (Kafka's Builder.setMaxElectionsPerImbalance, for tests); MAX_ELECTIONS_PER_IMBALANCE. */
  readonly maxElectionsPerImbalance?: number;
  /**
   * The incarnation id of the broker in this same process (combined mode), if any: its registration is
   * never a duplicate of an older one of this node id (see registerBroker).
   */
  readonly localBrokerIncarnationId?: string;
}

/** Kafka's BrokerControlState. */
type BrokerState = 'FENCED' | 'UNFENCED' | 'CONTROLLED_SHUTDOWN' | 'SHUTDOWN_NOW';

/** A scratch image with the records generated against it (each applied as it is added). */
class RecordBuilder {
  readonly records: DecodedMetadataRecord[] = [];
  constructor(public image: MetadataImage) {}

  add<M extends MessageDecl>(codec: MessageCodec<M>, value: MessageInput<M>, version = 0): void {
    // Through the serde, so the record is exactly what replaying the log will see.
    const record = decodeMetadataRecord(encodeMetadataRecord(codec, value, version));
    this.image = applyMetadataRecord(this.image, record, this.image.offset + 1);
    this.records.push(record);
  }

  /** Records of several alternatives may be dropped: only keep them when `ok`. */
  mark(): { image: MetadataImage; length: number } {
    return { image: this.image, length: this.records.length };
  }
  rollback(m: { image: MetadataImage; length: number }): void {
    this.image = m.image;
    this.records.length = m.length;
  }
}

function uuidFrom(random: Random): string {
  const b = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) b[i] = random.nextInt(256);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class QuorumController {
  private current: MetadataImage;
  /** Soft state: the time of each broker's last heartbeat (or registration), not in the log. */
  private readonly lastContact = new Map<number, number>();
  private readonly sessionTimeoutMs: number;
  /** leader.imbalance.check.interval.seconds in ms; null when auto.leader.rebalance.enable is false. */
  private readonly leaderImbalanceCheckIntervalMs: number | null;
  /** Soft state: Kafka's ImbalanceSchedule (SCHEDULED: a balancing pass is due; the others say how soon the next one is). */
  private balanceSchedule: 'SCHEDULED' | 'DEFERRED' | 'IMMEDIATELY' = 'DEFERRED';

  constructor(private readonly o: QuorumControllerOptions) {
    this.current = MetadataImage.EMPTY.withCluster(o.clusterId, o.nodeId);
    this.sessionTimeoutMs = Number(o.config.props.get('broker.session.timeout.ms') ?? 9000);
    const autoRebalance = (o.config.props.get('auto.leader.rebalance.enable') ?? 'true').trim().toLowerCase() !== 'false';
    this.leaderImbalanceCheckIntervalMs = autoRebalance ? Number(o.config.props.get('leader.imbalance.check.interval.seconds') ?? 300) * 1000 : null;
  }

  /** The image of every record replayed so far. */
  get image(): MetadataImage {
    return this.current;
  }

  /** Applies one appended record (in offset order); throws MetadataReplayError when it does not apply. */
  replay(record: DecodedMetadataRecord, offset: number): void {
    this.current = applyMetadataRecord(this.current, record, offset);
  }

  /**
   * Starts over from `image` (on becoming the active controller, or after the log was truncated: the
   * image of the committed records). Heartbeat times are forgotten: every broker gets a full session from
   * the first tick or heartbeat after this (Kafka's controller does the same on activation).
   */
  reset(image: MetadataImage): void {
    this.current = image.withCluster(this.o.clusterId, this.o.nodeId);
    this.lastContact.clear();
    // As Kafka's renounce (cancelMaybeBalancePartitionLeaders): the next balancing is a full interval away.
    this.balanceSchedule = 'DEFERRED';
  }

  /**
   * The records a new, empty metadata log starts with: metadata.version, then what a data directory of
   * Samsa's old single-node path held (src/broker/legacy-topics.ts): its topics with their ids, configs
   * and partition counts, this node the only replica, in the ISR and without a leader until it is
   * unfenced (then `unfence` elects it, as after any restart); and its next producer id.
   */
  bootstrapRecords(legacy: LegacyMetadata | null = null): DecodedMetadataRecord[] {
    const b = new RecordBuilder(MetadataImage.EMPTY);
    b.add(FeatureLevelRecord, { name: 'metadata.version', featureLevel: METADATA_VERSION });
    if (legacy === null) return b.records;
    const me = this.o.nodeId;
    for (const t of legacy.topics) {
      // Kafka's order for a new topic: TopicRecord, its ConfigRecords, then the PartitionRecords.
      b.add(TopicRecord, { name: t.name, topicId: t.topicId });
      for (const [name, value] of Object.entries(t.configs)) b.add(ConfigRecord, { resourceType: ConfigResourceType.TOPIC, resourceName: t.name, name, value });
      for (let p = 0; p < t.numPartitions; p++) {
        b.add(
          PartitionRecord,
          { partitionId: p, topicId: t.topicId, replicas: [me], isr: [me], removingReplicas: [], addingReplicas: [], leader: NO_LEADER, leaderRecoveryState: 0, leaderEpoch: 0, partitionEpoch: 0 },
          RECORD_VERSION.partition,
        );
      }
    }
    if (legacy.nextProducerId > 0n) b.add(ProducerIdsRecord, { brokerId: me, brokerEpoch: -1n, nextProducerId: legacy.nextProducerId });
    return b.records;
  }

  // -------------------------------------------------------------------------------------------------
  // Brokers: registration, heartbeats, fencing (KIP-631)

  /**
   * BrokerRegistration. `nextOffset` is the offset the RegisterBrokerRecord will get: it is the broker
   * epoch (Kafka: the registration's log offset), so the batch must be the next one appended.
   */
  registerBroker(now: number, req: Req<typeof BrokerRegistrationRequest>, nextOffset: number): ControllerResult<Res<typeof BrokerRegistrationResponse>> & { errorMessage: string | null } {
    const refuse = (errorCode: number, errorMessage: string) => ({ records: [], response: { throttleTimeMs: 0, errorCode, brokerEpoch: -1n }, errorMessage });
    if (req.clusterId !== this.o.clusterId) {
      return refuse(ErrorCode.INCONSISTENT_CLUSTER_ID, `Expected cluster ID ${this.o.clusterId}, but got cluster ID ${req.clusterId}`);
    }
    const existing = this.current.brokers.get(req.brokerId);
    // A registration of this node id by the broker of this very process (combined mode) replaces one of
    // an earlier run of the process, which cannot be alive: this controller started with it. Kafka's
    // controller waits out that registration's session (broker.session.timeout.ms, 9 s) after an unclean
    // stop; a single node that is killed must come back at once, as it did before the one code path.
    const sameProcess = req.brokerId === this.o.nodeId && this.o.localBrokerIncarnationId !== undefined && req.incarnationId === this.o.localBrokerIncarnationId;
    if (existing && existing.incarnationId !== req.incarnationId && !sameProcess && this.hasValidSession(req.brokerId, now)) {
      return refuse(ErrorCode.DUPLICATE_BROKER_REGISTRATION, 'Another broker is registered with that broker id.');
    }
    for (const [name, level] of this.current.features) {
      const f = req.features.find((x) => x.name === name);
      const [min, max] = f ? [f.minSupportedVersion, f.maxSupportedVersion] : [0, 0];
      if (level < min || level > max) {
        return refuse(
          ErrorCode.UNSUPPORTED_VERSION,
          `Unable to register because the broker does not support finalized version ${level} of ${name}. The broker wants a version between ${min} and ${max}, inclusive.`,
        );
      }
    }
    const b = new RecordBuilder(this.current);
    // A re-registration starts the broker fenced again (a restarted process has to catch up first): the
    // old registration's leaderships and ISR memberships go first, as when it is fenced, so no partition is
    // left led by a fenced broker.
    if (existing && !existing.fenced) this.leaderAndIsrUpdates(b, req.brokerId, NO_LEADER, this.partitionsWithReplicaInIsr(b.image, req.brokerId));
    b.add(
      RegisterBrokerRecord,
      {
        brokerId: req.brokerId,
        incarnationId: req.incarnationId,
        brokerEpoch: BigInt(nextOffset),
        endPoints: req.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port, securityProtocol: l.securityProtocol })),
        features: req.features.map((f) => ({ name: f.name, minSupportedVersion: f.minSupportedVersion, maxSupportedVersion: f.maxSupportedVersion })),
        rack: req.rack,
        fenced: true,
        inControlledShutdown: false,
      },
      RECORD_VERSION.registerBroker,
    );
    this.lastContact.set(req.brokerId, now);
    return { records: b.records, response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, brokerEpoch: BigInt(nextOffset) }, errorMessage: null };
  }

  /**
   * BrokerHeartbeat (Kafka's BrokerHeartbeatManager.calculateNextBrokerState): a fenced broker is unfenced
   * once its metadata offset reached its registration's (and, when `committedOffset` is given, the
   * registration is committed); wantShutDown on an unfenced broker that leads partitions starts a
   * controlled shutdown (leadership moves away), answered shouldShutDown once it leads nothing.
   */
  brokerHeartbeat(now: number, req: Req<typeof BrokerHeartbeatRequest>, committedOffset?: number): ControllerResult<Res<typeof BrokerHeartbeatResponse>> & { errorMessage: string | null } {
    const stale = this.checkBrokerEpoch(req.brokerId, req.brokerEpoch);
    if (stale !== null) {
      return { records: [], response: { throttleTimeMs: 0, errorCode: ErrorCode.STALE_BROKER_EPOCH, isCaughtUp: false, isFenced: true, shouldShutDown: false }, errorMessage: stale };
    }
    const reg = this.current.brokers.get(req.brokerId)!;
    const registrationOffset = reg.epoch;
    const current: BrokerState = reg.fenced ? (reg.inControlledShutdown ? 'SHUTDOWN_NOW' : 'FENCED') : reg.inControlledShutdown ? 'CONTROLLED_SHUTDOWN' : 'UNFENCED';
    const caughtUp = req.currentMetadataOffset >= BigInt(registrationOffset) && (committedOffset === undefined || committedOffset >= registrationOffset);
    let next: BrokerState = current;
    switch (current) {
      case 'FENCED':
        if (req.wantShutDown) next = 'SHUTDOWN_NOW';
        else if (!req.wantFence && caughtUp) next = 'UNFENCED';
        break;
      case 'UNFENCED':
        if (req.wantFence) next = req.wantShutDown ? 'SHUTDOWN_NOW' : 'FENCED';
        else if (req.wantShutDown) next = this.leadsAnything(this.current, req.brokerId) ? 'CONTROLLED_SHUTDOWN' : 'SHUTDOWN_NOW';
        break;
      case 'CONTROLLED_SHUTDOWN':
        if (!this.leadsAnything(this.current, req.brokerId)) next = 'SHUTDOWN_NOW';
        break;
      case 'SHUTDOWN_NOW':
        break;
    }
    const b = new RecordBuilder(this.current);
    if (next !== current) {
      if (next === 'FENCED' || next === 'SHUTDOWN_NOW') this.fence(b, req.brokerId);
      else if (next === 'UNFENCED') this.unfence(b, req.brokerId);
      else this.enterControlledShutdown(b, req.brokerId);
    }
    this.lastContact.set(req.brokerId, now);
    return {
      records: b.records,
      response: {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        isCaughtUp: req.currentMetadataOffset >= BigInt(registrationOffset),
        isFenced: next === 'FENCED' || next === 'SHUTDOWN_NOW',
        shouldShutDown: next === 'SHUTDOWN_NOW',
      },
      errorMessage: null,
    };
  }

  /** UnregisterBroker (KIP-500 tools): the broker leaves every ISR and its registration goes. */
  unregisterBroker(_now: number, req: Req<typeof UnregisterBrokerRequest>): ControllerResult<Res<typeof UnregisterBrokerResponse>> {
    const reg = this.current.brokers.get(req.brokerId);
    if (!reg) {
      return { records: [], response: { throttleTimeMs: 0, errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED, errorMessage: `Broker ID ${req.brokerId} is not currently registered` } };
    }
    const b = new RecordBuilder(this.current);
    this.leaderAndIsrUpdates(b, req.brokerId, NO_LEADER, this.partitionsWithReplicaInIsr(b.image, req.brokerId));
    b.add(UnregisterBrokerRecord, { brokerId: req.brokerId, brokerEpoch: BigInt(reg.epoch) });
    this.lastContact.delete(req.brokerId);
    return { records: b.records, response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null } };
  }

  /**
   * Fences every unfenced broker whose last heartbeat is older than broker.session.timeout.ms, moving
   * leadership to another live ISR member (unclean election only where the topic enables it).
   */
  tick(now: number): ControllerResult<{ fencedBrokers: number[] }> {
    const b = new RecordBuilder(this.current);
    const fencedBrokers: number[] = [];
    for (const reg of this.current.brokers.values()) {
      if (reg.fenced) continue;
      const last = this.lastContact.get(reg.nodeId);
      if (last === undefined) {
        this.lastContact.set(reg.nodeId, now);
        continue;
      }
      if (last + this.sessionTimeoutMs < now) {
        this.fence(b, reg.nodeId);
        fencedBrokers.push(reg.nodeId);
      }
    }
    return { records: b.records, response: { fencedBrokers } };
  }

  private hasValidSession(brokerId: number, now: number): boolean {
    const reg = this.current.brokers.get(brokerId);
    if (!reg || reg.fenced) return false;
    const last = this.lastContact.get(brokerId);
    return last === undefined || last + this.sessionTimeoutMs >= now;
  }

  /** ClusterControlManager.checkBrokerEpoch: the message, or null when the epoch is the registration's. */
  private checkBrokerEpoch(brokerId: number, epoch: bigint): string | null {
    const reg = this.current.brokers.get(brokerId);
    if (!reg) return `No broker registration found for broker id ${brokerId}`;
    if (BigInt(reg.epoch) !== epoch) return `Expected broker epoch ${reg.epoch}, but got broker epoch ${epoch}`;
    return null;
  }

  /** handleBrokerFenced: out of every ISR (never emptying one), leadership moved, then the fence record. */
  private fence(b: RecordBuilder, brokerId: number): void {
    this.leaderAndIsrUpdates(b, brokerId, NO_LEADER, this.partitionsWithReplicaInIsr(b.image, brokerId));
    const reg = b.image.brokers.get(brokerId)!;
    if (!reg.fenced) b.add(BrokerRegistrationChangeRecord, { brokerId, brokerEpoch: BigInt(reg.epoch), fenced: FencingChange.FENCE }, RECORD_VERSION.brokerChangeFence);
  }

  /** handleBrokerUnfenced: the unfence record, then leaders for the leaderless partitions it can lead. */
  private unfence(b: RecordBuilder, brokerId: number): void {
    const reg = b.image.brokers.get(brokerId)!;
    b.add(BrokerRegistrationChangeRecord, { brokerId, brokerEpoch: BigInt(reg.epoch), fenced: FencingChange.UNFENCE }, RECORD_VERSION.brokerChangeFence);
    const leaderless: [TopicImage, PartitionRegistration][] = [];
    for (const t of b.image.topics()) for (const p of t.partitions) if (p.leader === NO_LEADER) leaderless.push([t, p]);
    this.leaderAndIsrUpdates(b, NO_LEADER, brokerId, leaderless);
  }

  /** handleBrokerInControlledShutdown. */
  private enterControlledShutdown(b: RecordBuilder, brokerId: number): void {
    const reg = b.image.brokers.get(brokerId)!;
    if (!reg.inControlledShutdown) {
      b.add(BrokerRegistrationChangeRecord, { brokerId, brokerEpoch: BigInt(reg.epoch), inControlledShutdown: ControlledShutdownChange.IN_CONTROLLED_SHUTDOWN }, RECORD_VERSION.brokerChangeShutdown);
    }
    this.leaderAndIsrUpdates(b, brokerId, NO_LEADER, this.partitionsWithReplicaInIsr(b.image, brokerId));
  }

  private leadsAnything(image: MetadataImage, brokerId: number): boolean {
    for (const t of image.topics()) for (const p of t.partitions) if (p.leader === brokerId) return true;
    return false;
  }

  private partitionsWithReplicaInIsr(image: MetadataImage, brokerId: number): [TopicImage, PartitionRegistration][] {
    const out: [TopicImage, PartitionRegistration][] = [];
    for (const t of image.topics()) for (const p of t.partitions) if (p.isr.includes(brokerId)) out.push([t, p]);
    return out;
  }

  /** Registered, unfenced and not shutting down: may lead and join an ISR. */
  private isActive(image: MetadataImage, id: number): boolean {
    const r = image.brokers.get(id);
    return r !== undefined && !r.fenced && !r.inControlledShutdown;
  }

  private uncleanElectionEnabled(image: MetadataImage, topic: TopicImage): boolean {
    const v =
      topic.configs.get('unclean.leader.election.enable') ??
      image.brokerConfigs.get(String(this.o.nodeId))?.get('unclean.leader.election.enable') ??
      image.brokerConfigs.get('')?.get('unclean.leader.election.enable') ??
      this.o.config.props.get('unclean.leader.election.enable') ??
      'false';
    return v === 'true';
  }

  /**
   * Kafka's generateLeaderAndIsrUpdates + PartitionChangeBuilder: for each partition, `brokerToRemove`
   * leaves the ISR (unless it is the last member: without ELR an ISR never becomes empty) and cannot lead;
   * `brokerToAdd` may lead although the image still shows it fenced. The leader stays if it still may
   * lead and is in the ISR; else the first replica (preferred order) in the ISR that may lead takes over,
   * else -1 (or, where unclean election is enabled, the first replica that may lead, as the ISR's only
   * member, RECOVERING). One PartitionChangeRecord per partition that changes.
   */
  private leaderAndIsrUpdates(b: RecordBuilder, brokerToRemove: number, brokerToAdd: number, partitions: readonly [TopicImage, PartitionRegistration][]): void {
    const acceptable = (r: number): boolean => r !== brokerToRemove && (r === brokerToAdd || this.isActive(b.image, r));
    for (const [topic, p] of partitions) {
      const shrunk = p.isr.filter((r) => r !== brokerToRemove);
      const isr = shrunk.length > 0 ? shrunk : [...p.isr];
      this.changePartition(b, topic, p, isr, acceptable, false);
    }
  }

  /**
   * Writes the PartitionChangeRecord that moves `p` to `targetIsr` with the election rules above
   * (`preferred`: only the first replica may be elected). Returns the new leader, or null when no record
   * was needed.
   */
  private changePartition(
    b: RecordBuilder,
    topic: TopicImage,
    p: PartitionRegistration,
    targetIsr: readonly number[],
    acceptable: (r: number) => boolean,
    preferred: boolean,
  ): { leader: number; changed: boolean } {
    let leader = p.leader;
    let isr = [...targetIsr];
    let recovering = false;
    if (preferred) {
      const first = p.replicas[0];
      if (first !== undefined && targetIsr.includes(first) && acceptable(first)) leader = first;
    } else if (!(p.leader !== NO_LEADER && acceptable(p.leader) && targetIsr.includes(p.leader))) {
      leader = p.replicas.find((r) => targetIsr.includes(r) && acceptable(r)) ?? NO_LEADER;
      if (leader === NO_LEADER && this.uncleanElectionEnabled(b.image, topic)) {
        const unclean = p.replicas.find((r) => acceptable(r));
        if (unclean !== undefined) {
          leader = unclean;
          isr = [unclean];
          recovering = true;
        }
      }
    }
    const leaderChanged = leader !== p.leader;
    const isrChanged = isr.length !== p.isr.length || isr.some((r, i) => r !== p.isr[i]);
    if (!leaderChanged && !isrChanged) return { leader, changed: false };
    b.add(
      PartitionChangeRecord,
      {
        partitionId: p.partition,
        topicId: topic.topicId,
        isr: isrChanged ? isr : null,
        leader: leaderChanged ? leader : NO_LEADER_CHANGE,
        leaderRecoveryState: recovering ? 1 : -1,
      },
      RECORD_VERSION.partitionChange,
    );
    return { leader, changed: true };
  }

  // -------------------------------------------------------------------------------------------------
  // Topics

  private usableBrokers(image: MetadataImage): UsableBroker[] {
    return [...image.brokers.values()].filter((r) => !r.inControlledShutdown).map((r) => ({ id: r.nodeId, fenced: r.fenced }));
  }

  /** The config view a topic's effective configs resolve against: the node's, with the image's dynamic broker configs. */
  private configView(image: MetadataImage): BrokerConfig {
    return {
      ...this.o.config,
      dynamic: { perBroker: image.brokerConfigs.get(String(this.o.nodeId)) ?? new Map(), clusterDefault: image.brokerConfigs.get('') ?? new Map() },
    };
  }

  private newTopicId(image: MetadataImage): string {
    for (;;) {
      const id = uuidFrom(this.o.random);
      // As Kafka's Uuid.randomUuid: never the zero or metadata topic id, never a text starting with '-'.
      if (!id.startsWith('00000000-0000') && !toKafkaUuidString(id).startsWith('-') && !image.topicById(id)) return id;
    }
  }

  /** The PartitionRecords of new partitions: ISR = the active replicas, leader = the first of them. */
  private addPartitions(b: RecordBuilder, topicId: string, first: number, assignments: readonly (readonly number[])[]): void {
    assignments.forEach((replicas, i) => {
      const isr = replicas.filter((r) => this.isActive(b.image, r));
      b.add(
        PartitionRecord,
        { partitionId: first + i, topicId, replicas: [...replicas], isr, removingReplicas: [], addingReplicas: [], leader: isr[0]!, leaderRecoveryState: 0, leaderEpoch: 0, partitionEpoch: 0 },
        RECORD_VERSION.partition,
      );
    });
  }

  /**
   * Kafka's validateManualPartitionAssignment (and, for CreateTopics, its check that every replica list
   * has the first one's length). Throws TopicError.
   */
  private validateAssignment(image: MetadataImage, replicas: readonly number[], replicationFactor: number | null, partition: number): void {
    if (replicas.length === 0) throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an empty replica list.');
    const sorted = [...replicas].sort((a, b) => a - b);
    sorted.forEach((id, i) => {
      if (!image.brokers.has(id)) {
        throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${id}, but no such broker is registered.`);
      }
      if (i > 0 && sorted[i - 1] === id) throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes the broker ${id} more than once.`);
    });
    if (replicationFactor !== null && replicas.length !== replicationFactor) {
      throw new TopicError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `The manual partition assignment includes a partition with ${replicas.length} replica(s), but this is not consistent with previous partitions, which have ${replicationFactor} replica(s).`,
      );
    }
    if (!replicas.some((r) => this.isActive(image, r))) {
      throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `All brokers specified in the manual partition assignment for partition ${partition} are fenced or in controlled shutdown.`);
    }
  }

  /**
   * CreateTopics, with the checks and messages of today's single-node handler and Broker.createTopic
   * (topic-validation.ts): the per-request partition cap, duplicate names, counts with assignments, then
   * per topic name / existence / collision / counts / replication factor / configs. Records per topic:
   * TopicRecord, its ConfigRecords, then one PartitionRecord per partition (Kafka's order).
   */
  createTopics(_now: number, req: Req<typeof CreateTopicsRequest>, _version: number): ControllerResult<Res<typeof CreateTopicsResponse>> {
    const cfg = this.o.config;
    type Result = NonNullable<Res<typeof CreateTopicsResponse>['topics']>[number];
    const failed = (name: string, errorCode: number, errorMessage: string): Result => ({
      name, topicId: NULL_UUID, errorCode, errorMessage, topicConfigErrorCode: 0, numPartitions: -1, replicationFactor: -1, configs: null,
    });
    let total = 0;
    for (const t of req.topics) {
      if (t.assignments.length > 0) total += t.assignments.length;
      else if (t.numPartitions === -1) total += cfg.numPartitions;
      else if (t.numPartitions > 0) total += t.numPartitions;
    }
    if (total > MAX_PARTITIONS_PER_BATCH) {
      return { records: [], response: { throttleTimeMs: 0, topics: req.topics.map((t) => failed(t.name, ErrorCode.POLICY_VIOLATION, EXCESSIVE_PARTITIONS_MESSAGE)) } };
    }
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const b = new RecordBuilder(this.current);
    const topics: Result[] = [];
    for (const t of req.topics) {
      if ((counts.get(t.name) ?? 0) > 1) {
        topics.push(failed(t.name, ErrorCode.INVALID_REQUEST, duplicateTopicMessage(t.name)));
        continue;
      }
      const configs = new Map<string, string>();
      for (const c of t.configs) if (c.value !== null) configs.set(c.name, c.value);
      const mark = b.mark();
      try {
        let assignments: number[][];
        let numPartitions = t.numPartitions;
        let replicationFactor = t.replicationFactor;
        if (t.assignments.length > 0) {
          if (numPartitions !== -1 || replicationFactor !== -1) throw new TopicError(ErrorCode.INVALID_REQUEST, ASSIGNMENTS_AND_COUNTS_MESSAGE);
          const byIndex = new Map<number, number[]>();
          let rf: number | null = null;
          for (const a of t.assignments) {
            if (byIndex.has(a.partitionIndex)) {
              throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Found multiple manual partition assignments for partition ${a.partitionIndex}`);
            }
            this.validateAssignment(b.image, a.brokerIds, rf, a.partitionIndex);
            rf = a.brokerIds.length;
            byIndex.set(a.partitionIndex, [...a.brokerIds]);
          }
          assignments = [];
          for (let i = 0; i < byIndex.size; i++) {
            const replicas = byIndex.get(i);
            if (!replicas) throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'partitions should be a consecutive 0-based integer sequence');
            assignments.push(replicas);
          }
          numPartitions = assignments.length;
          replicationFactor = rf!;
        }
        const usable = this.usableBrokers(b.image);
        const resolved = validateNewTopic(t.name, numPartitions, replicationFactor, configs, {
          exists: (n) => b.image.topic(n) !== undefined,
          names: () => [...b.image.topics()].map((x) => x.name),
          defaultNumPartitions: cfg.numPartitions,
          defaultReplicationFactor: cfg.defaultReplicationFactor,
          registeredBrokers: usable.length,
          unfencedBrokers: t.assignments.length > 0 ? 1 : usable.filter((u) => !u.fenced).length,
        });
        if (t.assignments.length === 0) {
          try {
            assignments = placeReplicas(usable, resolved.partitions, resolved.replicationFactor, this.o.random);
          } catch (err) {
            if (err instanceof PlacementError) {
              throw new TopicError(ErrorCode.INVALID_REPLICATION_FACTOR, `Unable to replicate the partition ${resolved.replicationFactor} time(s): ${err.message}`);
            }
            throw err;
          }
        }
        const topicId = req.validateOnly ? NULL_UUID : this.newTopicId(b.image);
        if (!req.validateOnly) {
          b.add(TopicRecord, { name: t.name, topicId });
          for (const [name, value] of configs) b.add(ConfigRecord, { resourceType: ConfigResourceType.TOPIC, resourceName: t.name, name, value });
          this.addPartitions(b, topicId, 0, assignments!);
        }
        const view = this.configView(b.image);
        topics.push({
          name: t.name,
          topicId,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          topicConfigErrorCode: 0,
          numPartitions: resolved.partitions,
          replicationFactor: resolved.replicationFactor,
          configs: TOPIC_CONFIGS.map((def) => {
            const r = resolveTopicConfig(view, configs, def.name)!;
            return { name: def.name, value: r.value, readOnly: false, configSource: r.source, isSensitive: false };
          }),
        });
      } catch (err) {
        if (!(err instanceof TopicError)) throw err;
        b.rollback(mark);
        topics.push(failed(t.name, err.errorCode, err.message));
      }
    }
    return { records: b.records, response: { throttleTimeMs: 0, topics } };
  }

  /**
   * CreatePartitions, with today's checks and messages (Broker.createPartitions and its handler), and
   * Kafka's manual-assignment rules for a cluster. New partitions are placed continuing from the topic's
   * last partition.
   */
  createPartitions(_now: number, req: Req<typeof CreatePartitionsRequest>, _version: number): ControllerResult<Res<typeof CreatePartitionsResponse>> {
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    let added = 0;
    for (const t of req.topics) {
      const current = this.current.topic(t.name)?.partitions.length;
      if ((counts.get(t.name) ?? 0) === 1 && current !== undefined && t.count > current) added += t.count - current;
    }
    const overCap = added > MAX_PARTITIONS_PER_BATCH;
    const b = new RecordBuilder(this.current);
    const answered = new Set<string>();
    const results: { name: string; errorCode: number; errorMessage: string | null }[] = [];
    for (const t of req.topics) {
      if (answered.has(t.name)) continue;
      answered.add(t.name);
      if ((counts.get(t.name) ?? 0) > 1) {
        results.push({ name: t.name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
        continue;
      }
      const mark = b.mark();
      try {
        const topic = b.image.topic(t.name);
        if (!topic) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
        if (overCap && t.count > topic.partitions.length) throw new TopicError(ErrorCode.POLICY_VIOLATION, EXCESSIVE_PARTITIONS_MESSAGE);
        const current = topic.partitions.length;
        if (t.count === current) throw new TopicError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`);
        if (t.count < current) throw new TopicError(ErrorCode.INVALID_PARTITIONS, `The topic ${t.name} currently has ${current} partition(s); ${t.count} would not be an increase.`);
        const additional = t.count - current;
        if (additional > MAX_PARTITIONS_PER_BATCH) throw new TopicError(ErrorCode.POLICY_VIOLATION, EXCESSIVE_PARTITIONS_MESSAGE);
        const rf = topic.partitions[0]!.replicas.length;
        let assignments: number[][];
        if (t.assignments !== null) {
          if (t.assignments.length !== additional) {
            throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Attempted to add ${additional} additional partition(s), but only ${t.assignments.length} assignment(s) were specified.`);
          }
          t.assignments.forEach((a, i) => this.validateAssignment(b.image, a.brokerIds, rf, current + i));
          assignments = t.assignments.map((a) => [...a.brokerIds]);
        } else {
          try {
            assignments = placeReplicas(this.usableBrokers(b.image), additional, rf, this.o.random, topic.partitions.map((p) => p.replicas));
          } catch (err) {
            if (err instanceof PlacementError) throw new TopicError(ErrorCode.INVALID_REPLICATION_FACTOR, err.message);
            throw err;
          }
        }
        if (!req.validateOnly) this.addPartitions(b, topic.topicId, current, assignments);
        results.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (err) {
        if (!(err instanceof TopicError)) throw err;
        b.rollback(mark);
        results.push({ name: t.name, errorCode: err.errorCode, errorMessage: err.message });
      }
    }
    return { records: b.records, response: { throttleTimeMs: 0, results } };
  }

  /**
   * DeleteTopics by name (v0-5: topicNames) or by name or id (v6+: topics), with today's answers:
   * UNKNOWN_TOPIC_ID for an unknown id, UNKNOWN_TOPIC_OR_PARTITION for an unknown name, INVALID_REQUEST for
   * an internal topic, TOPIC_DELETION_DISABLED when delete.topic.enable=false. One RemoveTopicRecord each.
   */
  deleteTopics(_now: number, req: Req<typeof DeleteTopicsRequest>, version: number): ControllerResult<Res<typeof DeleteTopicsResponse>> {
    const wanted = version >= 6 ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId })) : req.topicNames.map((name) => ({ name: name as string | null, topicId: NULL_UUID }));
    const b = new RecordBuilder(this.current);
    const responses: { name: string | null; topicId: string; errorCode: number; errorMessage: string | null }[] = [];
    for (const w of wanted) {
      let name = w.name;
      let topicId = w.topicId;
      if (name === null || name === '') {
        const state = b.image.topicById(w.topicId);
        if (!state) {
          responses.push({ name: null, topicId: w.topicId, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: 'This server does not host this topic ID.' });
          continue;
        }
        name = state.name;
      } else {
        topicId = b.image.topic(name)?.topicId ?? NULL_UUID;
      }
      const state = b.image.topic(name);
      if (isInternalTopic(name) && state !== undefined) {
        responses.push({ name, topicId, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Topic ${name} is a kafka internal topic and is not allowed to be marked for deletion.` });
        continue;
      }
      if (!this.o.config.deleteTopicEnable) {
        responses.push({ name, topicId, errorCode: ErrorCode.TOPIC_DELETION_DISABLED, errorMessage: 'Topic deletion is disabled.' });
        continue;
      }
      if (!state) {
        responses.push({ name, topicId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' });
        continue;
      }
      b.add(RemoveTopicRecord, { topicId: state.topicId });
      responses.push({ name, topicId, errorCode: ErrorCode.NONE, errorMessage: null });
    }
    return { records: b.records, response: { throttleTimeMs: 0, responses } };
  }

  // -------------------------------------------------------------------------------------------------
  // Configs

  /** IncrementalAlterConfigs (KIP-339) on TOPIC and BROKER resources; today's checks and messages (config-changes.ts). */
  incrementalAlterConfigs(_now: number, req: Req<typeof IncrementalAlterConfigsRequest>): ControllerResult<Res<typeof IncrementalAlterConfigsResponse>> {
    return this.alterConfigResources(req.resources, req.validateOnly, (res, current) => applyIncrementalOps(res.resourceType, current, res.configs));
  }

  /** AlterConfigs: each resource's config set is replaced by the request's. */
  alterConfigs(_now: number, req: Req<typeof AlterConfigsRequest>): ControllerResult<Res<typeof AlterConfigsResponse>> {
    return this.alterConfigResources(req.resources, req.validateOnly, (res) => new Map(res.configs.map((c) => [c.name, c.value!])));
  }

  private alterConfigResources<R extends { resourceType: number; resourceName: string; configs: { name: string; value: string | null; configOperation?: number }[] }>(
    resources: readonly R[],
    validateOnly: boolean,
    compute: (res: R, current: ReadonlyMap<string, string>) => Map<string, string> | ConfigOutcome,
  ): ControllerResult<{ throttleTimeMs: number; responses: { errorCode: number; errorMessage: string | null; resourceType: number; resourceName: string }[] }> {
    const duplicates = duplicateResources(resources);
    const b = new RecordBuilder(this.current);
    const responses = resources.map((res, i) => {
      const outcome = duplicates.has(i) ? DUPLICATE_RESOURCE : (configEntriesProblem(res.configs) ?? this.alterResource(b, res, (current) => compute(res, current), validateOnly));
      return { errorCode: outcome.errorCode, errorMessage: outcome.errorMessage, resourceType: res.resourceType, resourceName: res.resourceName };
    });
    return { records: b.records, response: { throttleTimeMs: 0, responses } };
  }

  /**
   * One resource: the new config set is computed from the current one, validated as the forwarding broker
   * validated it (Broker.setTopicConfigs; config-changes.ts for BROKER resources, Kafka's
   * DynamicBrokerConfig.validate), and written as one ConfigRecord per changed key (a null value for a
   * removed one), ResourceType 4 and ResourceName "<node id>" or "" for the dynamic broker configs, which
   * each broker applies from its image. Any broker id is accepted: the check that a per-broker change
   * reached that broker belongs to the node that received the request (Kafka's ConfigAdminManager).
   */
  private alterResource(
    b: RecordBuilder,
    res: { resourceType: number; resourceName: string },
    compute: (current: ReadonlyMap<string, string>) => Map<string, string> | ConfigOutcome,
    validateOnly: boolean,
  ): ConfigOutcome {
    const fail = (errorCode: number, errorMessage: string): ConfigOutcome => ({ errorCode, errorMessage });
    const { resourceType, resourceName } = res;
    let current: ReadonlyMap<string, string>;
    let next: Map<string, string> | ConfigOutcome;
    if (resourceType === ConfigResourceType.TOPIC) {
      if (resourceName === '') return fail(ErrorCode.INVALID_REQUEST, 'Default topic resources are not allowed.');
      const nameError = topicNameError(resourceName);
      if (nameError !== null) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
      const topic = b.image.topic(resourceName);
      current = topic?.configs ?? new Map<string, string>();
      next = compute(current);
      if (!(next instanceof Map)) return next;
      try {
        validateTopicConfigs(next);
      } catch (err) {
        return fail(ErrorCode.INVALID_CONFIG, (err as Error).message);
      }
      if (!topic) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${resourceName}' does not exist.`);
    } else if (resourceType === ConfigResourceType.BROKER) {
      if (resourceName !== '' && !/^-?\d+$/.test(resourceName)) return fail(ErrorCode.INVALID_REQUEST, `Node id must be an integer, but it is: ${resourceName}`);
      current = b.image.brokerConfigs.get(resourceName) ?? new Map<string, string>();
      next = compute(current);
      if (!(next instanceof Map)) return next;
      const problem = dynamicBrokerConfigsProblem(next, resourceName === '' ? 'clusterDefault' : 'perBroker');
      if (problem !== null) return fail(ErrorCode.INVALID_REQUEST, problem);
    } else {
      const known = Object.entries(ConfigResourceType).find(([, id]) => id === resourceType)?.[0];
      return fail(ErrorCode.INVALID_REQUEST, known ? `Altering ${known} configs is not supported by this broker` : `Unknown resource type ${resourceType}`);
    }
    if (!validateOnly) {
      for (const [name, value] of next) if (current.get(name) !== value) b.add(ConfigRecord, { resourceType, resourceName, name, value });
      for (const name of current.keys()) if (!next.has(name)) b.add(ConfigRecord, { resourceType, resourceName, name, value: null });
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }

  // -------------------------------------------------------------------------------------------------
  // Replication: AlterPartition, ElectLeaders

  /**
   * AlterPartition (v2-3; KIP-497, KIP-841, KIP-903): a leader proposes a new ISR. Checked in the order of
   * Kafka's validateAlterPartitionData: unknown topic id (UNKNOWN_TOPIC_ID) or partition; a leader or
   * partition epoch newer than ours (NOT_CONTROLLER); an older leader epoch (FENCED_LEADER_EPOCH); a
   * requester that is not the leader (INVALID_REQUEST); an older partition epoch (INVALID_UPDATE_VERSION);
   * an ISR with non-replicas, duplicates or without the leader, or a RECOVERING state with more than one
   * member or after RECOVERED (INVALID_REQUEST); a member not registered, shutting down, fenced, or (v3)
   * with another broker epoch (INELIGIBLE_REPLICA). A stale broker epoch of the requester fails the whole
   * request (STALE_BROKER_EPOCH).
   */
  alterPartition(_now: number, req: Req<typeof AlterPartitionRequest>, version: number): ControllerResult<Res<typeof AlterPartitionResponse>> {
    if (this.checkBrokerEpoch(req.brokerId, req.brokerEpoch) !== null) {
      return { records: [], response: { throttleTimeMs: 0, errorCode: ErrorCode.STALE_BROKER_EPOCH, topics: [] } };
    }
    const b = new RecordBuilder(this.current);
    const topics = req.topics.map((td) => {
      const topic = b.image.topicById(td.topicId);
      const partitions = td.partitions.map((pd) => {
        // As Kafka: a refused partition carries only its index and error; the other fields keep the spec defaults (0, []).
        const err = (errorCode: number) => ({ partitionIndex: pd.partitionIndex, errorCode, leaderId: 0, leaderEpoch: 0, isr: [], leaderRecoveryState: 0, partitionEpoch: 0 });
        if (!topic || td.topicId === NULL_UUID) return err(ErrorCode.UNKNOWN_TOPIC_ID);
        const p = topic.partitions[pd.partitionIndex];
        if (!p) return err(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        if (pd.leaderEpoch > p.leaderEpoch || pd.partitionEpoch > p.partitionEpoch) return err(ErrorCode.NOT_CONTROLLER);
        if (pd.leaderEpoch < p.leaderEpoch) return err(ErrorCode.FENCED_LEADER_EPOCH);
        if (req.brokerId !== p.leader) return err(ErrorCode.INVALID_REQUEST);
        if (pd.partitionEpoch < p.partitionEpoch) return err(ErrorCode.INVALID_UPDATE_VERSION);
        const members = version >= 3 ? pd.newIsrWithEpochs.map((s) => ({ id: s.brokerId, epoch: s.brokerEpoch })) : pd.newIsr.map((id) => ({ id, epoch: -1n }));
        const newIsr = members.map((m) => m.id);
        if (new Set(newIsr).size !== newIsr.length || newIsr.some((r) => !p.replicas.includes(r))) return err(ErrorCode.INVALID_REQUEST);
        if (!newIsr.includes(p.leader)) return err(ErrorCode.INVALID_REQUEST);
        const currentLrs = p.leaderRecoveryState ?? 0;
        if (pd.leaderRecoveryState === 1 && newIsr.length > 1) return err(ErrorCode.INVALID_REQUEST);
        if (currentLrs === 0 && pd.leaderRecoveryState === 1) return err(ErrorCode.INVALID_REQUEST);
        const ineligible = members.some((m) => {
          const reg = b.image.brokers.get(m.id);
          return !reg || reg.inControlledShutdown || reg.fenced || (m.epoch !== -1n && BigInt(reg.epoch) !== m.epoch);
        });
        if (ineligible) return err(version > 1 ? ErrorCode.INELIGIBLE_REPLICA : ErrorCode.OPERATION_NOT_ATTEMPTED);
        const mark = b.mark();
        const { leader, changed } = this.changePartition(b, topic, p, newIsr, (r) => this.isActive(b.image, r), false);
        if (changed && pd.leaderRecoveryState !== currentLrs) {
          // The ISR change and the recovery state travel in one record: rewrite the last one with both.
          b.rollback(mark);
          b.add(
            PartitionChangeRecord,
            {
              partitionId: p.partition,
              topicId: topic.topicId,
              isr: newIsr,
              leader: leader === p.leader ? NO_LEADER_CHANGE : leader,
              leaderRecoveryState: pd.leaderRecoveryState,
            },
            RECORD_VERSION.partitionChange,
          );
        } else if (!changed && pd.leaderRecoveryState !== currentLrs) {
          b.add(PartitionChangeRecord, { partitionId: p.partition, topicId: topic.topicId, leaderRecoveryState: pd.leaderRecoveryState }, RECORD_VERSION.partitionChange);
        }
        if (leader !== p.leader) return err(version > 1 ? ErrorCode.NEW_LEADER_ELECTED : ErrorCode.FENCED_LEADER_EPOCH);
        const after = b.image.topicById(topic.topicId)!.partitions[p.partition]!;
        return {
          partitionIndex: pd.partitionIndex,
          errorCode: ErrorCode.NONE,
          leaderId: after.leader,
          leaderEpoch: after.leaderEpoch,
          isr: [...after.isr],
          leaderRecoveryState: after.leaderRecoveryState ?? 0,
          partitionEpoch: after.partitionEpoch,
        };
      });
      return { topicId: td.topicId, partitions };
    });
    return { records: b.records, response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics } };
  }

  /**
   * ElectLeaders (KIP-460; Kafka's ReplicationControlManager.electLeaders). PREFERRED (0): ELECTION_NOT_NEEDED
   * when the first replica leads already; else PartitionChangeBuilder's preferred election (the first
   * replica if it is in the ISR and live, else the current leader if it still may lead, else another live
   * ISR member), PREFERRED_LEADER_NOT_AVAILABLE when that changes nothing. UNCLEAN (1): ELECTION_NOT_NEEDED
   * when the partition has a leader; else the first live ISR member, else any live replica as the ISR's only
   * member, RECOVERING (the topic's unclean.leader.election.enable is not consulted: an explicit request is
   * the operator's choice, as in Kafka); ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is live.
   * topicPartitions null = every partition of every topic, answering only those that needed an election
   * (every topic is listed, possibly with no partitions); an empty list is answered at once with nothing.
   * Another election type fails the whole request as Kafka's InvalidRequestException does
   * (ElectLeadersRequest.getErrorResponse: the top-level code, and each requested partition with it).
   */
  electLeaders(_now: number, req: Req<typeof ElectLeadersRequest>, version = 2): ControllerResult<Res<typeof ElectLeadersResponse>> {
    if (req.topicPartitions !== null && req.topicPartitions.length === 0) {
      return { records: [], response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: [] } };
    }
    if (req.electionType !== ElectionType.PREFERRED && req.electionType !== ElectionType.UNCLEAN) {
      return { records: [], response: electLeadersErrorResponse(req, ErrorCode.INVALID_REQUEST, `Unknown election type ${req.electionType}`, version) };
    }
    const b = new RecordBuilder(this.current);
    const elect = (topicName: string, partitionId: number): { errorCode: number; errorMessage: string | null } => {
      const topic = b.image.topic(topicName);
      if (!topic) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such topic as ${topicName}` };
      // partitionOf: the scratch image changes with each election; its full partition list is not rebuilt for each.
      const p = b.image.partitionOf(topic.topicId, partitionId);
      if (!p) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such partition as ${topicName}-${partitionId}` };
      // ApiError(Errors.X): the code with Kafka's default message.
      const standard = (code: number) => ({ errorCode: code, errorMessage: errorInfo(code).message });
      if (req.electionType === ElectionType.PREFERRED) {
        if (p.leader === p.replicas[0]) return standard(ErrorCode.ELECTION_NOT_NEEDED);
        return this.preferredElection(b, topic, p) ? { errorCode: ErrorCode.NONE, errorMessage: null } : standard(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE);
      }
      if (p.leader !== NO_LEADER) return standard(ErrorCode.ELECTION_NOT_NEEDED);
      return this.uncleanElection(b, topic, p) ? { errorCode: ErrorCode.NONE, errorMessage: null } : standard(ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE);
    };
    const replicaElectionResults: { topic: string; partitionResult: { partitionId: number; errorCode: number; errorMessage: string | null }[] }[] = [];
    if (req.topicPartitions === null) {
      for (const t of [...b.image.topics()]) {
        const partitionResult = t.partitions
          .map((p) => ({ partitionId: p.partition, ...elect(t.name, p.partition) }))
          .filter((r) => r.errorCode !== ErrorCode.ELECTION_NOT_NEEDED);
        replicaElectionResults.push({ topic: t.name, partitionResult });
      }
    } else {
      for (const t of req.topicPartitions) {
        replicaElectionResults.push({ topic: t.topic, partitionResult: t.partitions.map((partitionId) => ({ partitionId, ...elect(t.topic, partitionId) })) });
      }
    }
    return { records: b.records, response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults } };
  }

  /**
   * PartitionChangeBuilder with Election.PREFERRED (electPreferredLeader), ISR unchanged: the first replica
   * if it is in the ISR and may lead; else the current leader if it still may; else the next replica in
   * replica order that is in the ISR and may lead; else none. Writes the PartitionChangeRecord (the new
   * leader, so the leader epoch is bumped on replay) when the leader changes; returns whether it did.
   */
  private preferredElection(b: RecordBuilder, topic: TopicImage, p: PartitionRegistration): boolean {
    const valid = (r: number) => p.isr.includes(r) && this.isActive(b.image, r);
    const preferred = p.replicas[0];
    let leader: number;
    if (preferred !== undefined && valid(preferred)) leader = preferred;
    else if (p.leader !== NO_LEADER && valid(p.leader)) leader = p.leader;
    else leader = p.replicas.slice(1).find(valid) ?? NO_LEADER;
    if (leader === p.leader) return false;
    b.add(PartitionChangeRecord, { partitionId: p.partition, topicId: topic.topicId, leader }, RECORD_VERSION.partitionChange);
    return true;
  }

  /**
   * PartitionChangeBuilder with Election.UNCLEAN for a partition without a leader: the first replica in
   * the ISR that may lead (a clean election), else the first replica that may lead at all, which becomes
   * the ISR alone with leaderRecoveryState RECOVERING (KIP-704) unless it is RECOVERING already.
   */
  private uncleanElection(b: RecordBuilder, topic: TopicImage, p: PartitionRegistration): boolean {
    const acceptable = (r: number) => this.isActive(b.image, r);
    const clean = p.replicas.find((r) => p.isr.includes(r) && acceptable(r));
    if (clean !== undefined) {
      b.add(PartitionChangeRecord, { partitionId: p.partition, topicId: topic.topicId, leader: clean }, RECORD_VERSION.partitionChange);
      return true;
    }
    const unclean = p.replicas.find(acceptable);
    if (unclean === undefined) return false;
    const recovering = (p.leaderRecoveryState ?? 0) === LEADER_RECOVERY_STATE.RECOVERING;
    b.add(
      PartitionChangeRecord,
      { partitionId: p.partition, topicId: topic.topicId, leader: unclean, isr: [unclean], leaderRecoveryState: recovering ? -1 : LEADER_RECOVERY_STATE.RECOVERING },
      RECORD_VERSION.partitionChange,
    );
    return true;
  }

  // -------------------------------------------------------------------------------------------------
  // Automatic preferred leader election (auto.leader.rebalance.enable; KAFKA-13682)

  /** A partition whose leader is not its first replica (leaderless ones included), as Kafka's imbalancedPartitions. */
  arePartitionLeadersImbalanced(): boolean {
    // Asked after every operation: read partition by partition, so a topic changed by the operation does
    // not have its whole frozen partition list rebuilt (the image builds it lazily, on first read).
    const image = this.current;
    for (const t of image.topics()) {
      const count = image.partitionCount(t.topicId);
      for (let i = 0; i < count; i++) {
        const p = image.partitionOf(t.topicId, i)!;
        if (p.leader !== p.replicas[0]) return true;
      }
    }
    return false;
  }

  /**
   * Kafka's QuorumController.maybeScheduleNextBalancePartitionLeaders, called after every operation and on
   * activation: with auto.leader.rebalance.enable, when leaders are imbalanced and no balancing is
   * scheduled, schedules one `leader.imbalance.check.interval.seconds` from now (10 ms when the previous
   * pass stopped at its cap). Returns the time it is due, for the caller to run maybeBalancePartitionLeaders
   * then; null when nothing new was scheduled.
   */
  maybeScheduleNextBalancePartitionLeaders(now: number): number | null {
    if (this.balanceSchedule === 'SCHEDULED' || this.leaderImbalanceCheckIntervalMs === null || !this.arePartitionLeadersImbalanced()) return null;
    const due = now + (this.balanceSchedule === 'DEFERRED' ? this.leaderImbalanceCheckIntervalMs : BALANCE_IMMEDIATELY_DELAY_MS);
    this.balanceSchedule = 'SCHEDULED';
    return due;
  }

  /**
   * The scheduled balancing pass (ReplicationControlManager.maybeBalancePartitionLeaders): a preferred
   * election, as ElectLeaders PREFERRED does it, for each partition whose leader is not its first replica,
   * at most MAX_ELECTIONS_PER_IMBALANCE records per pass; `rescheduleImmediately` when it stopped there.
   * Kafka's KRaft controller has no leader.imbalance.per.broker.percentage threshold (KAFKA-18743 removed
   * the setting in 4.0): every imbalanced partition whose preferred replica can lead is moved.
   */
  maybeBalancePartitionLeaders(_now: number): ControllerResult<{ elected: { topic: string; partition: number; leader: number }[]; rescheduleImmediately: boolean }> {
    const b = new RecordBuilder(this.current);
    const elected: { topic: string; partition: number; leader: number }[] = [];
    let rescheduleImmediately = false;
    outer: for (const t of this.current.topics()) {
      for (const p of t.partitions) {
        if (p.leader === p.replicas[0]) continue;
        if (b.records.length >= (this.o.maxElectionsPerImbalance ?? MAX_ELECTIONS_PER_IMBALANCE)) {
          rescheduleImmediately = true;
          break outer;
        }
        if (this.preferredElection(b, t, p)) elected.push({ topic: t.name, partition: p.partition, leader: b.image.partitionOf(t.topicId, p.partition)!.leader });
      }
    }
    this.balanceSchedule = rescheduleImmediately ? 'IMMEDIATELY' : 'DEFERRED';
    return { records: b.records, response: { elected, rescheduleImmediately } };
  }

  // -------------------------------------------------------------------------------------------------
  // Producer ids

  /** AllocateProducerIds (KIP-730): the next block of 1000 ids, as a ProducerIdsRecord. */
  allocateProducerIds(_now: number, req: Req<typeof AllocateProducerIdsRequest>): ControllerResult<Res<typeof AllocateProducerIdsResponse>> {
    if (this.checkBrokerEpoch(req.brokerId, req.brokerEpoch) !== null) {
      return { records: [], response: { throttleTimeMs: 0, errorCode: ErrorCode.STALE_BROKER_EPOCH, producerIdStart: 0n, producerIdLen: 0 } };
    }
    const start = this.current.nextProducerId;
    if (start > (1n << 63n) - 1n - BigInt(PRODUCER_ID_BLOCK_SIZE)) {
      return { records: [], response: { throttleTimeMs: 0, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, producerIdStart: 0n, producerIdLen: 0 } };
    }
    const b = new RecordBuilder(this.current);
    b.add(ProducerIdsRecord, { brokerId: req.brokerId, brokerEpoch: req.brokerEpoch, nextProducerId: start + BigInt(PRODUCER_ID_BLOCK_SIZE) });
    return { records: b.records, response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerIdStart: start, producerIdLen: PRODUCER_ID_BLOCK_SIZE } };
  }
}
