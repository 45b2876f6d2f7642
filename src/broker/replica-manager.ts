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
 * - Replication (issue 12, docs/replication.md): a follower replica is fetched by the replica fetcher of
 *   its leader (replica-fetcher.ts), added by becomeFollower and removed (after the answer being applied)
 *   by becomeLeader and stopReplica; a leader's ISR changes go to the controller through the ISR manager
 *   (isr-manager.ts), and the isr-expiration task checks every replica.lag.time.max.ms / 2 for followers
 *   to drop from the ISR (Kafka's ReplicaManager.maybeShrinkIsr).
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
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { DEFAULT_REPLICA_FETCHER_CONFIG, ReplicaFetcherManager, type ReplicaFetcherConfig } from './replica-fetcher.js';
import { IsrManager } from './isr-manager.js';

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
  /** replica.fetch.* settings of the follower side. */
  readonly replicaFetcher?: ReplicaFetcherConfig;
  /** replica.lag.time.max.ms (30000). */
  readonly replicaLagTimeMaxMs?: number;
  /** The listener followers fetch from (inter.broker.listener.name, default PLAINTEXT). */
  readonly interBrokerListenerName?: string;
}

export class ReplicaManager {
  /** Delayed fetches (and, from the HW on, delayed produces) wait here, keyed by `<topic>-<partition>`. */
  readonly purgatory: Purgatory;
  private readonly hosted = new Map<string, Map<number, Partition>>();
  /**
   * Replicas assigned here whose log could not be opened or created (a full or failing disk), by
   * `<topicId>:<partition>`: Kafka's HostedPartition.Offline, answered KAFKA_STORAGE_ERROR.
   */
  private readonly offline = new Set<string>();
  /** The follower side: one fetcher per leader node. */
  readonly fetchers: ReplicaFetcherManager;
  /** The leader side's ISR changes to the controller; its transport is set by the broker in a cluster. */
  readonly isrManager: IsrManager;
  private readonly clock: Clock;
  private isrExpiration: Timer | null = null;
  private stopped = false;

  constructor(private readonly options: ReplicaManagerOptions) {
    this.clock = options.clock ?? systemClock;
    this.purgatory = new Purgatory(this.clock);
    this.fetchers = new ReplicaFetcherManager({
      nodeId: options.nodeId,
      clock: this.clock,
      logger: options.logger,
      config: options.replicaFetcher ?? DEFAULT_REPLICA_FETCHER_CONFIG,
      leaderEndpoint: (id) => this.leaderEndpoint(id),
    });
    this.isrManager = new IsrManager(options.nodeId, options.image, options.logger.child({ component: 'isr' }));
  }

  get replicaLagTimeMaxMs(): number {
    return this.options.replicaLagTimeMaxMs ?? 30_000;
  }

  /** The leader's inter-broker listener from its registration in the image. */
  private leaderEndpoint(id: number): { host: string; port: number } | null {
    const reg = this.options.image().brokers.get(id);
    if (!reg) return null;
    const name = this.options.interBrokerListenerName ?? 'PLAINTEXT';
    const listener = reg.listeners.find((l) => l.name === name);
    return listener ? { host: listener.host, port: listener.port } : { host: reg.host, port: reg.port };
  }

  /** KIP-841: a replica joins an ISR only while its broker is registered, unfenced and not shutting down. */
  private isReplicaIsrEligible(id: number): boolean {
    const reg = this.options.image().brokers.get(id);
    return reg !== undefined && !reg.fenced && !reg.inControlledShutdown;
  }

  /** Kafka's isr-expiration task: every replica.lag.time.max.ms / 2, each led partition may shrink its ISR. */
  private scheduleIsrExpiration(): void {
    if (this.isrExpiration !== null || this.stopped) return;
    this.isrExpiration = this.clock.schedule(Math.max(1, Math.floor(this.replicaLagTimeMaxMs / 2)), () => {
      this.isrExpiration = null;
      for (const p of this.partitions()) if (p.isLeader) p.maybeShrinkIsr();
      this.scheduleIsrExpiration();
    });
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
    if (!partition && this.offline.has(`${t.topicId}:${index}`)) {
      return { partition: undefined, errorCode: ErrorCode.KAFKA_STORAGE_ERROR, errorMessage: `Disk error when trying to access log file on the disk: ${topic}-${index} is offline on broker ${this.nodeId}` };
    }
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
    const replicated = await this.awaitReplication(partition, result.nextOffset, timeoutMs);
    return replicated.errorCode === ErrorCode.NONE ? result : failed(replicated.errorCode, replicated.errorMessage);
  }

  /**
   * DelayedProduce's wait: until the HW reaches `nextOffset` (every in-sync replica has the records below
   * it), the partition stops being led here (NOT_LEADER_OR_FOLLOWER) or `timeoutMs` passes
   * (REQUEST_TIMED_OUT); NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR is under the min ISR by then.
   */
  async awaitReplication(partition: Partition, nextOffset: number, timeoutMs: number): Promise<{ errorCode: number; errorMessage: string }> {
    const stillLeader = (): boolean => partition.isLeader && this.hostedPartition(partition.topicId, partition.partition) === partition;
    await this.purgatory.wait([partition.key], timeoutMs, () => !stillLeader() || partition.highWatermark >= nextOffset);
    if (!stillLeader()) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, errorMessage: `Leader not local for partition ${partition.key} on broker ${this.nodeId}` };
    if (partition.highWatermark < nextOffset) return { errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: `The produce to ${partition.key} was not replicated to the ISR within ${timeoutMs} ms` };
    if (partition.isUnderMinIsr) {
      return { errorCode: ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, errorMessage: `The number of in-sync replicas of ${partition.key} fell below the min.isr requirement of ${partition.effectiveMinIsr} after the append` };
    }
    return { errorCode: ErrorCode.NONE, errorMessage: '' };
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
      this.offline.delete(`${topic.topicId}:${registration.partition}`);
      let byIndex = this.hosted.get(topic.topicId);
      if (!byIndex) this.hosted.set(topic.topicId, (byIndex = new Map()));
      byIndex.set(registration.partition, partition);
    }
    // No follower append may land after the new epoch starts (it would precede it in the epoch cache).
    await this.fetchers.removePartition(partition);
    partition.makeLeader(registration, this.nodeId);
    if (registration.replicas.length > 1) this.scheduleIsrExpiration();
    return partition;
  }

  /**
   * Makes this node a follower of the partition at the registration's leader epoch (Kafka's
   * applyLocalFollowersDelta), opening its log if it is not hosted yet, and (re)starts fetching from the
   * leader on a new leader or epoch: the fetcher's first fetch names our last epoch, so a diverged tail
   * is truncated before anything is appended. An ISR-only change keeps the running fetch.
   */
  async becomeFollower(topic: TopicImage, registration: PartitionRegistration): Promise<Partition> {
    if (registration.leader === this.nodeId) throw new Error(`becomeFollower for ${topic.name}-${registration.partition}, which this node leads`);
    let partition = this.hosted.get(topic.topicId)?.get(registration.partition);
    if (!partition) {
      partition = await this.open(topic, registration.partition);
      this.offline.delete(`${topic.topicId}:${registration.partition}`);
      let byIndex = this.hosted.get(topic.topicId);
      if (!byIndex) this.hosted.set(topic.topicId, (byIndex = new Map()));
      byIndex.set(registration.partition, partition);
    }
    const sameFetch = !partition.isLeader && partition.leaderEpoch === registration.leaderEpoch && this.fetchers.leaderFor(partition) === registration.leader;
    if (sameFetch) {
      partition.makeFollower(registration, this.nodeId);
    } else {
      await this.fetchers.removePartition(partition);
      partition.makeFollower(registration, this.nodeId);
      // Leader -1 (offline): nothing to fetch from until a leader is elected.
      if (registration.leader >= 0) await this.fetchers.addPartition(partition, registration.leader);
    }
    // Waiting produces and fetches on it see it is no longer led here.
    this.purgatory.notify(partition.key);
    return partition;
  }

  /**
   * Stops hosting a partition (Kafka's stopReplicas): waiters on it are woken to see it gone, its producer
   * state is closed and, with `deleteLog`, its log and directory are deleted.
   */
  async stopReplica(topicId: string, index: number, deleteLog: boolean): Promise<void> {
    this.offline.delete(`${topicId}:${index}`);
    const byIndex = this.hosted.get(topicId);
    const partition = byIndex?.get(index);
    if (!byIndex || !partition) return;
    byIndex.delete(index);
    if (byIndex.size === 0) this.hosted.delete(topicId);
    await this.fetchers.removePartition(partition);
    partition.resign();
    if (deleteLog) await this.options.logManager.delete(partition.topic, partition.partition);
    else await partition.close().catch((err: unknown) => this.options.logger.warn({ partition: partition.key, err }, 'closing producer state failed'));
    this.purgatory.notify(partition.key);
  }

  /** A replica assigned here whose log could not be opened (storage error): answered KAFKA_STORAGE_ERROR until it opens. */
  markOffline(topicId: string, index: number): void {
    this.offline.add(`${topicId}:${index}`);
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
    this.stopped = true;
    this.isrExpiration?.cancel();
    this.isrExpiration = null;
    await this.fetchers.shutdown();
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
    created.isrHooks = {
      alterPartition: (p, proposal) => this.isrManager.submit(p, proposal),
      isReplicaIsrEligible: (id) => this.isReplicaIsrEligible(id),
      replicaLagTimeMaxMs: () => this.replicaLagTimeMaxMs,
      logger: this.options.logger,
    };
    await created.producers.load();
    return created;
  }
}
