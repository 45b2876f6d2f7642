/**
 * The replica manager (Kafka's ReplicaManager): the partitions this node hosts, keyed by topic id, and the
 * purgatory their delayed operations wait in.
 *
 * - Roles come from the metadata image (metadata-image.ts): `becomeLeader` opens the partition's log (or
 *   keeps the open one) and makes it leader at the registration's leader epoch and ISR (Kafka's
 *   Partition.makeLeader); `becomeFollower` opens it as a follower at the registration's epoch: the seam where the replica
 *   fetcher plugs in (../shared/design/cluster.md A.6).
 * - Request handlers never reach a partition or its storage but through here: `leaderFor` answers the
 *   partition led here, or UNKNOWN_TOPIC_OR_PARTITION when the image has no such partition and
 *   NOT_LEADER_OR_FOLLOWER when it has, but this node is not its leader (Kafka's getPartitionOrError).
 * - Produce goes through `appendToLeader`: acks=all is refused before the append when the ISR is under
 *   the effective min.insync.replicas (NOT_ENOUGH_REPLICAS), and otherwise is a delayed operation in the
 *   purgatory that completes once the partition's high watermark covers the batch (REQUEST_TIMED_OUT
 *   after the request's timeoutMs). On a single node the HW moves with each append, so it completes at
 *   once; with replication, follower fetches move it (Partition.updateFollowerEndOffset).
 * - Fetch reads go into pooled buffers (fetch-buffers.ts) released after the response is written.
 */
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import type { LogManager } from '../../storage/log-manager.js';
import type { LogConfig } from '../../storage/log-config.js';
import { leaseFetchBuffers, type FetchBufferLease } from './fetch-buffers.js';
import type { MetadataImage, PartitionRegistration, TopicImage } from './metadata-image.js';
import { Partition, type AppendResult, type PartitionSettings } from './partition.js';
import type { ProducerStateOptions } from './partition-producer-state.js';
import { Purgatory } from './purgatory.js';
import { systemClock, type Clock } from '../util/clock.js';

export type LeaderLookup = { readonly partition: Partition; readonly errorCode: 0; readonly errorMessage: null } | { readonly partition: undefined; readonly errorCode: number; readonly errorMessage: string };

export interface ReplicaManagerOptions {
  readonly nodeId: number;
  readonly logManager: LogManager;
  readonly logger: Logger;
  /** The current metadata image (the broker swaps it on every change). */
  readonly image: () => MetadataImage;
  /** The log config of a topic with these overrides. */
  readonly logConfigFor: (configs: ReadonlyMap<string, string>) => LogConfig;
  /** Produce-path settings of a topic (max.message.bytes, message.timestamp.type, ...), cheap to call per append. */
  readonly appendSettings: (topic: TopicImage) => PartitionSettings;
  readonly producerStateOptions: ProducerStateOptions;
  /** The broker's clock: delayed operations time out on it. */
  readonly clock?: Clock;
}

export class ReplicaManager {
  /** Delayed fetches (and, from the HW on, delayed produces) wait here, keyed by `<topic>-<partition>`. */
  readonly purgatory: Purgatory;
  private readonly hosted = new Map<string, Map<number, Partition>>();

  constructor(private readonly options: ReplicaManagerOptions) {
    this.purgatory = new Purgatory(options.clock ?? systemClock);
  }

  get nodeId(): number {
    return this.options.nodeId;
  }

  /** The hosted replica of a partition, whatever its role (tools, tests, the log cleaner). */
  hostedPartition(topicId: string, index: number): Partition | undefined {
    return this.hosted.get(topicId)?.get(index);
  }

  /** Every hosted replica. */
  *partitions(): IterableIterator<Partition> {
    for (const byIndex of this.hosted.values()) yield* byIndex.values();
  }

  /**
   * The partition for a client request that must go to the leader (Produce, Fetch, ListOffsets,
   * DeleteRecords, OffsetForLeaderEpoch), by the current image.
   */
  leaderFor(topic: string, index: number): LeaderLookup {
    const image = this.options.image();
    const t = image.topic(topic);
    const registration = t?.partitions[index];
    if (!t || !registration) return { partition: undefined, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' };
    const partition = this.hosted.get(t.topicId)?.get(index);
    if (registration.leader !== this.nodeId || !partition || !partition.isLeader) {
      return { partition: undefined, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, errorMessage: `Leader not local for partition ${topic}-${index} on broker ${this.nodeId}` };
    }
    return { partition, errorCode: ErrorCode.NONE, errorMessage: null };
  }

  /**
   * Kafka's ReplicaManager.appendRecords for one partition led here (looked up with `leaderFor`):
   * acks -1, 0 or 1 (the handler has checked). For acks=all (-1): NOT_ENOUGH_REPLICAS before anything
   * is written when the ISR is under the effective min ISR (Partition.appendRecordsToLeader); after the
   * append, a delayed produce until the HW reaches the batch's end (DelayedProduce), answered
   * REQUEST_TIMED_OUT when `timeoutMs` passes first, NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank
   * under the min ISR meanwhile (checkEnoughReplicasReachOffset), NOT_LEADER_OR_FOLLOWER when the
   * partition stopped being led here.
   */
  async appendToLeader(partition: Partition, records: Buffer, requiredAcks: number, timeoutMs: number): Promise<AppendResult> {
    const failed = (errorCode: number, errorMessage: string): AppendResult => ({ errorCode, errorMessage, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], nextOffset: -1 });
    if (requiredAcks === -1 && partition.isUnderMinIsr) {
      return failed(
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `The size of the current ISR Set(${partition.isr.join(', ')}) is insufficient to satisfy the min.isr requirement of ${partition.effectiveMinIsr} for partition ${partition.key}`,
      );
    }
    const result = await partition.appendAsLeader(records);
    if (requiredAcks !== -1 || result.errorCode !== ErrorCode.NONE) return result;
    const stillLeader = (): boolean => partition.isLeader && this.hostedPartition(partition.topicId, partition.partition) === partition;
    await this.purgatory.wait([partition.key], timeoutMs, () => !stillLeader() || partition.highWatermark >= result.nextOffset);
    if (!stillLeader()) return failed(ErrorCode.NOT_LEADER_OR_FOLLOWER, `Leader not local for partition ${partition.key} on broker ${this.nodeId}`);
    if (partition.highWatermark < result.nextOffset) return failed(ErrorCode.REQUEST_TIMED_OUT, `The produce to ${partition.key} was not replicated to the ISR within ${timeoutMs} ms`);
    if (partition.isUnderMinIsr) {
      return failed(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, `The number of in-sync replicas of ${partition.key} fell below the min.isr requirement of ${partition.effectiveMinIsr} after the append`);
    }
    return result;
  }

  /**
   * Makes this node the partition's leader at the registration's epoch and ISR, opening its log if it is
   * not hosted yet (Kafka's ReplicaManager.applyLocalLeadersDelta + Partition.makeLeader).
   */
  async becomeLeader(topic: TopicImage, registration: PartitionRegistration): Promise<Partition> {
    if (registration.leader !== this.nodeId) throw new Error(`becomeLeader for ${topic.name}-${registration.partition}, whose leader is ${registration.leader}`);
    let partition = this.hosted.get(topic.topicId)?.get(registration.partition);
    if (!partition) {
      partition = await this.open(topic, registration.partition);
      let byIndex = this.hosted.get(topic.topicId);
      if (!byIndex) this.hosted.set(topic.topicId, (byIndex = new Map()));
      byIndex.set(registration.partition, partition);
    }
    partition.makeLeader(registration, this.nodeId);
    return partition;
  }

  /**
   * Makes this node a follower of the partition at the registration's leader epoch (Kafka's
   * applyLocalFollowersDelta), opening its log if it is not hosted yet. Fetching from the leader is the
   * replica fetcher's (issue 12); until then the follower's log stays as it is.
   */
  async becomeFollower(topic: TopicImage, registration: PartitionRegistration): Promise<Partition> {
    if (registration.leader === this.nodeId) throw new Error(`becomeFollower for ${topic.name}-${registration.partition}, which this node leads`);
    let partition = this.hosted.get(topic.topicId)?.get(registration.partition);
    if (!partition) {
      partition = await this.open(topic, registration.partition);
      let byIndex = this.hosted.get(topic.topicId);
      if (!byIndex) this.hosted.set(topic.topicId, (byIndex = new Map()));
      byIndex.set(registration.partition, partition);
    }
    partition.makeFollower(registration, this.nodeId);
    // Waiting produces and fetches on it see it is no longer led here.
    this.purgatory.notify(partition.key);
    return partition;
  }

  /**
   * Stops hosting a partition (Kafka's stopReplicas): waiters on it are woken to see it gone, its producer
   * state is closed and, with `deleteLog`, its log and directory are deleted.
   */
  async stopReplica(topicId: string, index: number, deleteLog: boolean): Promise<void> {
    const byIndex = this.hosted.get(topicId);
    const partition = byIndex?.get(index);
    if (!byIndex || !partition) return;
    byIndex.delete(index);
    if (byIndex.size === 0) this.hosted.delete(topicId);
    partition.resign();
    if (deleteLog) await this.options.logManager.delete(partition.topic, partition.partition);
    else await partition.close().catch((err: unknown) => this.options.logger.warn({ partition: partition.key, err }, 'closing producer state failed'));
    this.purgatory.notify(partition.key);
  }

  /** Applies a topic's (new) log config to its hosted partitions. */
  applyLogConfig(topic: TopicImage): void {
    const byIndex = this.hosted.get(topic.topicId);
    if (!byIndex) return;
    const config = this.options.logConfigFor(topic.configs);
    for (const p of byIndex.values()) p.log.config = { ...config };
  }

  /** Pooled buffers for one fetch response's reads; the caller releases them once the response is written. */
  leaseFetchBuffers(): FetchBufferLease {
    return leaseFetchBuffers();
  }

  /** Time- and size-based retention over every hosted log (log.retention.check.interval.ms). */
  async applyRetention(): Promise<void> {
    for (const p of [...this.partitions()]) {
      try {
        await p.log.applyRetention();
      } catch (err) {
        this.options.logger.warn({ partition: p.key, err }, 'retention failed');
      }
    }
  }

  /** Shutdown: every waiter completes, every partition writes its producer state snapshot. */
  async shutdown(): Promise<void> {
    this.purgatory.completeAll();
    for (const p of this.partitions()) {
      await p.close().catch((err: unknown) => this.options.logger.warn({ partition: p.key, err }, 'closing producer state failed'));
    }
  }

  private async open(topic: TopicImage, index: number): Promise<Partition> {
    // The log manager checks (or writes) partition.metadata: another topic id's directory is refused.
    const log = await this.options.logManager.getOrCreate(topic.name, index, this.options.logConfigFor(topic.configs), topic.topicId);
    const topicId = topic.topicId;
    const created = new Partition(
      topic.name,
      topicId,
      index,
      log,
      (p) => this.purgatory.notify(p.key),
      // The image's topic once published; until then (a topic being created) the one being opened.
      () => this.options.appendSettings(this.options.image().topicById(topicId) ?? topic),
      this.options.producerStateOptions,
    );
    await created.producers.load();
    return created;
  }
}
