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
 * - High watermark checkpoints (Kafka's ReplicaManager.checkpointHighWatermarks): every
 *   replica.high.watermark.checkpoint.interval.ms (5000) on the broker's clock, and at a clean shutdown,
 *   each log dir's `replication-offset-checkpoint` (storage/offset-checkpoint-file.ts) is rewritten with the
 *   HW of every replica hosted in it; a deleted partition's entry goes at once. The files are read once at
 *   start (loadHighWatermarkCheckpoints) and a replica's HW starts from its entry when its log is opened
 *   (Partition.initializeHighWatermark), so after a restart, even of the whole cluster, a leader's HW (what
 *   ListOffsets(latest) answers and consumers read up to) does not go back until its followers fetch.
 */
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import { logKey, parsePartitionDir, type LogManager } from '../../storage/log-manager.js';
import { formatOffsetCheckpoint, HIGH_WATERMARK_CHECKPOINT_FILE, readOffsetCheckpointFile, writeOffsetCheckpointText, type OffsetCheckpointEntry } from '../../storage/offset-checkpoint-file.js';
import type { LogConfig } from '../../storage/log-config.js';
import { leaseFetchBuffers, type FetchBufferLease } from './fetch-buffers.js';
import type { MetadataImage, PartitionRegistration, TopicImage } from './metadata-image.js';
import { Partition, type AppendResult, type PartitionSettings } from './partition.js';
import type { ProducerStateOptions } from './partition-producer-state.js';
import { Purgatory } from './purgatory.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { DEFAULT_REPLICA_FETCHER_CONFIG, ReplicaFetcherManager, type ReplicaFetcherConfig } from './replica-fetcher.js';
import { IsrManager } from './isr-manager.js';
import { SerialQueue } from '../util/serial-queue.js';

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
  /** replica.high.watermark.checkpoint.interval.ms (5000); 0 or less: one checkpoint at start (Kafka's scheduler). */
  readonly highWatermarkCheckpointIntervalMs?: number;
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
  /** halt(): a kill-style stop, after which nothing is written. */
  private halted = false;
  /**
   * Per log dir (resolved path): the HWs last read from or written to its replication-offset-checkpoint, by
   * `<topic>-<partition>`. Null until loadHighWatermarkCheckpoints: without it nothing is written, so a
   * replica manager that never read the files cannot overwrite them with part of their entries.
   */
  private hwCheckpoints: Map<string, Map<string, number>> | null = null;
  /** Each dir's file text as last written (or read): an unchanged checkpoint is not written again. */
  private readonly hwCheckpointTexts = new Map<string, string>();
  /**
   * True until the replicas of the start-up metadata are all open (finishedLoading): meanwhile entries of
   * logs not hosted yet are kept, so an early checkpoint cannot drop them. Then only hosted replicas count,
   * as in Kafka (a partition no longer hosted here leaves the file).
   */
  private keepUnhostedHighWatermarks = true;
  private hwCheckpointTimer: Timer | null = null;
  private hwCheckpointsStarted = false;
  /** Checkpoint writes one at a time (they share `<file>.tmp`). */
  private readonly hwCheckpointWrites = new SerialQueue();

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

  get highWatermarkCheckpointIntervalMs(): number {
    return this.options.highWatermarkCheckpointIntervalMs ?? 5000;
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
    if (deleteLog) {
      const checkpointed = this.hwCheckpoints?.get(dirname(resolve(partition.log.dir)));
      await this.options.logManager.delete(partition.topic, partition.partition);
      // Kafka leaves the entry to the next periodic checkpoint; it goes at once here, so a crash before
      // then cannot hand the old HW to a partition of the same name created meanwhile.
      if (checkpointed?.delete(basename(partition.log.dir)) && this.hwCheckpointsStarted) await this.checkpointHighWatermarks();
    } else {
      await partition.close().catch((err: unknown) => this.options.logger.warn({ partition: partition.key, err }, 'closing producer state failed'));
    }
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

  /**
   * Reads the replication-offset-checkpoint of every log dir, before any replica is opened (Kafka reads it
   * lazily through LazyOffsetCheckpoints; the outcome is the same). A missing file means no HW is known:
   * they start from the log start offsets. A corrupt file throws LogDirFailureError naming it (Kafka takes
   * the log dir offline; with it the only one, the broker stops): the start fails rather than guess.
   */
  async loadHighWatermarkCheckpoints(): Promise<void> {
    const loaded = new Map<string, Map<string, number>>();
    for (const logDir of this.options.logManager.logDirs) {
      const dir = resolve(logDir);
      if (loaded.has(dir)) continue;
      const entries = await readOffsetCheckpointFile(join(dir, HIGH_WATERMARK_CHECKPOINT_FILE));
      const byKey = new Map<string, number>();
      for (const e of entries ?? []) byKey.set(logKey(e.topic, e.partition), e.offset);
      loaded.set(dir, byKey);
      if (entries === null) this.options.logger.info({ logDir: dir }, `No ${HIGH_WATERMARK_CHECKPOINT_FILE} in ${dir}: high watermarks start from the log start offsets`);
      else this.hwCheckpointTexts.set(dir, formatOffsetCheckpoint(entries));
    }
    this.hwCheckpoints = loaded;
  }

  /**
   * Kafka's startHighWatermarkCheckPointThread: a checkpoint now, then every
   * replica.high.watermark.checkpoint.interval.ms on the broker's clock (once only when that is 0 or less,
   * as Kafka's scheduler does with a period <= 0). Needs loadHighWatermarkCheckpoints first.
   */
  startHighWatermarkCheckpoints(): void {
    if (this.hwCheckpointsStarted || this.stopped || this.hwCheckpoints === null) return;
    this.hwCheckpointsStarted = true;
    const interval = this.highWatermarkCheckpointIntervalMs;
    // At a fixed rate, as Kafka's scheduler: the next tick is set when this one fires; a tick that finds the
    // previous checkpoint still being written skips its turn.
    const schedule = (delayMs: number): void => {
      this.hwCheckpointTimer = this.clock.schedule(delayMs, () => {
        this.hwCheckpointTimer = null;
        if (interval > 0 && !this.stopped) schedule(interval);
        if (this.hwCheckpointWrites.length > 0) return;
        this.checkpointHighWatermarks().catch((err: unknown) => this.options.logger.error({ err }, 'checkpointing high watermarks failed'));
      });
    };
    schedule(0);
  }

  /** The replicas of the start-up metadata are open: from now on only hosted replicas are checkpointed. */
  finishedLoading(): void {
    this.keepUnhostedHighWatermarks = false;
  }

  /**
   * Kafka's checkpointHighWatermarks: each log dir's file is rewritten with the HW of every replica hosted
   * in it (while loading, also the entries of logs not opened yet). A write that fails is logged (Kafka's
   * "Error while writing to highwatermark file in directory") and tried again at the next checkpoint.
   */
  checkpointHighWatermarks(): Promise<void> {
    if (this.hwCheckpoints === null || this.halted) return Promise.resolve();
    return this.hwCheckpointWrites.run(() => this.writeHighWatermarkCheckpoints());
  }

  private async writeHighWatermarkCheckpoints(): Promise<void> {
    const known = this.hwCheckpoints;
    if (known === null || this.halted) return;
    const byDir = new Map<string, Map<string, number>>();
    for (const [dir, entries] of known) byDir.set(dir, this.keepUnhostedHighWatermarks ? new Map(entries) : new Map());
    for (const p of this.partitions()) {
      const dir = dirname(resolve(p.log.dir));
      let entries = byDir.get(dir);
      if (!entries) byDir.set(dir, (entries = new Map()));
      entries.set(basename(p.log.dir), p.highWatermark);
    }
    for (const [dir, entries] of byDir) {
      known.set(dir, entries);
      const list: OffsetCheckpointEntry[] = [];
      for (const [key, offset] of entries) {
        const tp = parsePartitionDir(key);
        if (tp) list.push({ topic: tp.topic, partition: tp.partition, offset });
      }
      const text = formatOffsetCheckpoint(list);
      if (this.hwCheckpointTexts.get(dir) === text) continue;
      if (this.halted) return;
      try {
        await writeOffsetCheckpointText(join(dir, HIGH_WATERMARK_CHECKPOINT_FILE), text);
        this.hwCheckpointTexts.set(dir, text);
      } catch (err) {
        this.options.logger.error({ err, logDir: dir }, `Error while writing to highwatermark file in directory ${dir}`);
      }
    }
  }

  /**
   * A kill-style stop (Broker.halt, the in-process stand-in for kill -9): the timers stop and nothing more
   * is written, not even an HW checkpoint; a restart reads the last one written. A checkpoint write under
   * way is let finish (as if the kill came just after it), so no write of this incarnation races the next.
   */
  async halt(): Promise<void> {
    this.stopped = true;
    this.halted = true;
    this.isrExpiration?.cancel();
    this.isrExpiration = null;
    this.hwCheckpointTimer?.cancel();
    this.hwCheckpointTimer = null;
    await this.hwCheckpointWrites.drained();
  }

  /**
   * Shutdown: every waiter completes, the HWs are checkpointed once more (Kafka's
   * ReplicaManager.shutdown(checkpointHW = true), after the fetchers stopped), every partition writes its
   * producer state snapshot.
   */
  async shutdown(): Promise<void> {
    this.stopped = true;
    this.isrExpiration?.cancel();
    this.isrExpiration = null;
    this.hwCheckpointTimer?.cancel();
    this.hwCheckpointTimer = null;
    await this.fetchers.shutdown();
    this.purgatory.completeAll();
    await this.checkpointHighWatermarks();
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
    // The checkpointed HW, clamped to the log (Kafka's Partition.createLog: "No checkpointed highwatermark
    // is found for partition", then "Log loaded for partition ... with initial high watermark").
    const checkpointed = this.hwCheckpoints?.get(dirname(resolve(log.dir)))?.get(basename(log.dir));
    const initialHighWatermark = created.initializeHighWatermark(checkpointed ?? 0);
    if (checkpointed === undefined && log.logEndOffset > log.logStartOffset) this.options.logger.info({ partition: created.key }, `No checkpointed highwatermark is found for partition ${created.key}`);
    this.options.logger.debug({ partition: created.key, highWatermark: initialHighWatermark }, `Log loaded for partition ${created.key} with initial high watermark ${initialHighWatermark}`);
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
