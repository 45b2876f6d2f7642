/**
 * The broker: the metadata image (metadata-image.ts) and the replica manager (replica-manager.ts) wired
 * together, plus the services beside them (group coordinator, producer ids, log cleaner, retention).
 *
 * Request handlers read `image` (immutable, swapped whole on every change) and ask `replicaManager` for
 * the partitions hosted here; they never touch storage. Every node, a single `npm start` included (a
 * quorum of one voter), takes its metadata from the KRaft metadata log: committed records are replayed
 * into images that `publishImage` applies, and the admin operations here (create/delete topics, grow
 * partitions, change topic and dynamic broker configs) are requests to the active controller
 * (ControllerChannel), answered once this node's image has the result (../shared/design/cluster.md A.11).
 * The dynamic broker configs in force here are the image's (its own id's and the cluster default's,
 * dynamic-broker-config.ts), applied with each image. Partition directories follow
 * Kafka's layout (`<topic>-<partition>`).
 */
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { BrokerConfig } from '../config.js';
import { ErrorCode } from '../../protocol/errors.js';
import { LogCleaner } from '../../storage/log-cleaner.js';
import { LogManager } from '../../storage/log-manager.js';
import { InconsistentTopicIdError, ioErrorCode, LogDirFailureError, logDirLoadFailure } from '../../storage/errors.js';
import { ensureMetaProperties } from '../../storage/meta-properties.js';
import { lockLogDirs, type LogDirLock } from '../../storage/log-dir-lock.js';
import { defaultLogConfig, type LogConfig } from '../../storage/log-config.js';
import type { Partition, PartitionSettings } from './partition.js';
import type { ProducerStateOptions } from './partition-producer-state.js';
import { ProducerIdManager } from './producer-ids.js';
import { MetadataImage, type PartitionRegistration, type TopicImage } from './metadata-image.js';
import { ReplicaManager } from './replica-manager.js';
import { resolveTopicConfig, topicLogSettings, validateTopicConfigs } from './topic-config.js';
import type { GroupCoordinator } from '../group/coordinator.js';
import { startGroupCoordinator } from '../group/start.js';
import type { OffsetsTopicHost } from '../group/offsets-topic-store.js';
import { TopicError } from './topic-error.js';
import { collidingTopic, MAX_PARTITIONS_PER_BATCH, topicNameError } from '../controller/topic-validation.js';
import {
  brokerPropertyValue,
  DynamicBrokerConfig,
  dynamicBrokerConfigsProblem,
  markLegacyDynamicBrokerConfigsMigrated,
  readLegacyDynamicBrokerConfigs,
  showsBrokerConfigChange,
  type BrokerConfigChange,
  type DynamicConfigLevel,
} from './dynamic-broker-config.js';
import { isSensitiveConfig } from '../kafka-broker-configs.js';
import type { Clock, Timer } from '../util/clock.js';
import { SerialQueue } from '../util/serial-queue.js';
import { topLevelNotController, type ControllerChannel } from './controller-channel.js';
import { AlterPartition } from '../../protocol/messages/alter-partition.js';
import { replicaFetcherConfig } from './replica-fetcher.js';
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { DeleteTopics } from '../../protocol/messages/delete-topics.js';
import { CreatePartitions } from '../../protocol/messages/create-partitions.js';
import { AlterConfigs } from '../../protocol/messages/alter-configs.js';
import { IncrementalAlterConfigs } from '../../protocol/messages/incremental-alter-configs.js';
import { OFFSETS_TOPIC } from '../group/coordinator-records.js';

// Topic checks shared with the quorum controller (src/controller/topic-validation.ts); re-exported for the
// handlers that import them from here.
export { collidingTopic, MAX_PARTITIONS_PER_BATCH, topicNameError };

export { TopicError };

/**
 * How a broker reaches the KRaft quorum (issue 11): its metadata is the committed `__cluster_metadata` log
 * replayed into images that `publishImage` applies, and every metadata change is a request to the active
 * controller (ControllerChannel).
 */
export interface KRaftBrokerOptions {
  readonly channel: ControllerChannel;
  /** How long a forwarded admin request may take, retries included (request.timeout.ms). */
  readonly requestTimeoutMs: number;
}

/** The Raft quorum's state on this node (src/kraft.ts fills it from the RaftNode and the controller). */
export interface QuorumStatus {
  readonly leaderId: () => number;
  readonly epoch: () => number;
  readonly highWatermark: () => number;
  readonly logEndOffset: () => number;
  /** Raft state name: Leader, Follower, Candidate, Prospective, Voted, Unattached, Resigned. */
  readonly state: () => string;
  readonly isActiveController: () => boolean;
}

export interface QuorumStatusDescription {
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly highWatermark: number;
  readonly currentVoters: readonly { readonly replicaId: number; readonly logEndOffset: number; readonly lastFetchTimestamp: number; readonly lastCaughtUpTimestamp: number }[];
  readonly observers: readonly { readonly replicaId: number; readonly logEndOffset: number; readonly lastFetchTimestamp: number; readonly lastCaughtUpTimestamp: number }[];
}

/** A full or failing disk while loading: one clear reason (LogDirFailureError) instead of an uncaught ENOSPC. */
export function loadFailure(err: unknown, dirs: readonly string[]): unknown {
  const code = err instanceof LogDirFailureError ? null : ioErrorCode(err);
  if (code === null) return err;
  const path = (err as NodeJS.ErrnoException).path;
  const logDir = (path && dirs.find((d) => path.startsWith(d))) || dirs[0]!;
  return logDirLoadFailure(err as NodeJS.ErrnoException, logDir, 'loading the log directory');
}

/** Two registrations that make a node do the same thing (same role, epoch, replicas and ISR). */
function sameRegistration(a: PartitionRegistration, b: PartitionRegistration): boolean {
  return a.leader === b.leader && a.leaderEpoch === b.leaderEpoch && a.partitionEpoch === b.partitionEpoch && a.replicas.join() === b.replicas.join() && a.isr.join() === b.isr.join();
}

export class Broker implements OffsetsTopicHost {
  private current: MetadataImage;
  readonly replicaManager: ReplicaManager;
  /** The ApiVersions list, set from the handler registry at start. */
  advertisedApis: { apiKey: number; minVersion: number; maxVersion: number }[] = [];
  /** The classic consumer group coordinator (src/group), started once the topics are loaded. */
  groupCoordinator!: GroupCoordinator;
  /** InitProducerId's producer ids and transactional ids (KIP-98), loaded at start. */
  producerIds!: ProducerIdManager;
  private readonly logManager: LogManager;
  private readonly producerStateOptions: ProducerStateOptions;
  /** Bumped whenever topic configs or dynamic broker configs change: partitions re-resolve their settings. */
  private configGeneration = 0;
  private readonly appendSettingsCache = new Map<string, { topic: TopicImage; generation: number; settings: PartitionSettings }>();
  private retentionTimer: Timer | null = null;
  private stopping = false;
  /** Compaction of cleanup.policy=compact topics (storage/log-cleaner.ts); null with log.cleaner.enable=false. */
  logCleaner: LogCleaner | null = null;
  /** The `.lock` of every log dir, held until shutdown. */
  private locks: LogDirLock[] = [];
  /** The way to the quorum: metadata comes from it (publishImage), changes go to the active controller. */
  kraft!: KRaftBrokerOptions;
  /** The Raft quorum as this node sees it (set by src/kraft.ts): for /metrics and the console. */
  quorum: QuorumStatus | null = null;
  /**
   * DescribeQuorum's view (KIP-836), known on the quorum's leader only (null elsewhere). The console reads it.
   */
  describeQuorum?: (now: number) => QuorumStatusDescription | null;
  /** Images are applied one at a time, in commit order. */
  private readonly publications = new SerialQueue();
  /** Waiters for a published image that satisfies them (forwarded admin requests). */
  private imageWaiters = new Set<() => void>();
  /**
   * The last image whose application finished (replicas opened and stopped, deleted logs removed): what
   * awaitImage answers from, so an admin request is answered only once this node has fully applied it.
   */
  private applied: MetadataImage;
  /** True until finishLoading: the replicas of the metadata this node started with are being opened. */
  private loading = true;
  /** The first log directory failure met while loading (a full disk, an unreadable log): fails the start. */
  private loadError: unknown = null;
  /** The client listener's address once bound (the image names it only once registered). */
  private advertisedAddress: { host: string; port: number } | null = null;

  private constructor(
    readonly config: BrokerConfig,
    readonly logger: Logger,
    /** Dynamic broker configs (KIP-226), from the image; `config.dynamic` is its live view. */
    readonly dynamicConfig: DynamicBrokerConfig,
    /** The one clock everything that times out runs on (src/util/clock.ts). */
    readonly clock: Clock,
  ) {
    this.logManager = new LogManager(config.logDirList, { logger: logger.child({ component: 'storage' }) });
    // One object shared by every partition's producer state: producer.id.expiration.ms is dynamic
    // (DynamicProducerStateManagerConfig), changed here in place when the image changes it.
    this.producerStateOptions = {
      now: () => clock.now(),
      logger: logger.child({ component: 'producer-state' }),
      producerIdExpirationMs: Number(brokerPropertyValue(config, 'producer.id.expiration.ms') ?? 86400000),
      producerIdExpirationCheckIntervalMs: Number(config.props.get('producer.id.expiration.check.interval.ms') ?? 600000),
    };
    this.current = MetadataImage.EMPTY.withCluster(config.clusterId, -1);
    this.applied = this.current;
    this.replicaManager = new ReplicaManager({
      nodeId: config.nodeId,
      logManager: this.logManager,
      logger,
      image: () => this.current,
      logConfigFor: (configs) => this.logConfigFor(configs),
      appendSettings: (topic) => this.appendSettings(topic),
      clock,
      replicaFetcher: replicaFetcherConfig(config.props),
      replicaLagTimeMaxMs: Number(config.props.get('replica.lag.time.max.ms') ?? 30000),
      interBrokerListenerName: config.props.get('inter.broker.listener.name') ?? 'PLAINTEXT',
      highWatermarkCheckpointIntervalMs: Number(config.props.get('replica.high.watermark.checkpoint.interval.ms') ?? 5000),
      producerStateOptions: this.producerStateOptions,
    });
  }

  static async start(config: BrokerConfig, logger: Logger, clock: Clock, kraft: KRaftBrokerOptions): Promise<Broker> {
    const asLoadFailure = (err: unknown): unknown => loadFailure(err, config.logDirList);
    // Before reading anything: a second process on the same log dirs must not touch them (Kafka's .lock).
    let locks: LogDirLock[];
    try {
      // Every entry of log.dirs (config.logDirs is only the first, where the metadata files live).
      locks = await lockLogDirs(config.logDirList);
    } catch (err) {
      throw asLoadFailure(err);
    }
    try {
      return await Broker.startLocked(config, logger, locks, clock, kraft);
    } catch (err) {
      await Promise.all(locks.map((l) => l.release()));
      throw asLoadFailure(err);
    }
  }

  private static async startLocked(config: BrokerConfig, logger: Logger, locks: LogDirLock[], clock: Clock, kraft: KRaftBrokerOptions): Promise<Broker> {
    // The old per-node file (a corrupt one stops the start here): in force until migrateLegacyDynamicConfigs.
    const dynamicConfig = new DynamicBrokerConfig(String(config.nodeId), await readLegacyDynamicBrokerConfigs(config.logDirs));
    const broker = new Broker({ ...config, dynamic: dynamicConfig.layers }, logger, dynamicConfig, clock);
    broker.locks = locks;
    broker.kraft = kraft;
    // Issue 12: the leaders' ISR changes go to the active controller.
    broker.replicaManager.isrManager.transport = async (request) => (await kraft.channel.send(AlterPartition, request, { deadlineMs: kraft.requestTimeoutMs, version: 3, notController: topLevelNotController })).response;
    await broker.writeMetaProperties();
    // Before any replica opens: each starts from its checkpointed HW (a corrupt file fails the start).
    await broker.replicaManager.loadHighWatermarkCheckpoints();
    broker.producerIds = await ProducerIdManager.load(config.logDirs);
    // The coordinator takes the __consumer_offsets partitions as the images make this node their leader
    // (publishImage).
    broker.groupCoordinator = (await startGroupCoordinator(broker, config.props, logger, clock, { singleVoter: !config.quorum.votersConfigured })).coordinator;
    const interval = Number(config.props.get('log.retention.check.interval.ms') ?? 300000);
    broker.scheduleRetention(interval);
    if ((config.props.get('log.cleaner.enable') ?? 'true') === 'true') {
      broker.logCleaner = new LogCleaner(broker.logManager, {
        logger,
        ...broker.logCleanerSettings(),
        // Kafka keeps the last batch of every active producer, from the partition's producer state.
        activeProducers: (topic, partition) => {
          const p = broker.getPartition(topic, partition);
          if (!p) return null;
          const last = new Map<number, number>();
          for (const e of p.producers.state.entries()) {
            const batch = e.batches[e.batches.length - 1];
            if (batch) last.set(e.producerId, batch.lastOffset);
          }
          return last;
        },
      });
      broker.logCleaner.start();
    }
    broker.replicaManager.startHighWatermarkCheckpoints();
    return broker;
  }

  get nodeId(): number {
    return this.config.nodeId;
  }

  /** The log cleaner's reconfigurable settings (LogCleaner.RECONFIGURABLE_CONFIGS), dynamic layers first. */
  private logCleanerSettings(): { backoffMs: number; ioMaxBytesPerSecond: number; dedupeBufferSize: number } {
    const number = (name: string, fallback: number): number => {
      const n = Number(brokerPropertyValue(this.config, name) ?? fallback);
      return Number.isFinite(n) && n < Number.MAX_SAFE_INTEGER ? n : Infinity;
    };
    return {
      backoffMs: number('log.cleaner.backoff.ms', 15000),
      ioMaxBytesPerSecond: number('log.cleaner.io.max.bytes.per.second', Infinity),
      dedupeBufferSize: number('log.cleaner.dedupe.buffer.size', 134217728),
    };
  }

  /**
   * This node's dynamic broker configs changed (its own id's or the default's, in the image being
   * applied): every hosted log takes the new topic-config defaults, the cleaner and the producer state
   * their reconfigurable settings, as Kafka's DynamicBrokerConfig reconfigures its components.
   */
  private applyDynamicConfigs(image: MetadataImage, levels: readonly DynamicConfigLevel[]): void {
    for (const t of image.topics()) this.replicaManager.applyLogConfig(t);
    this.logCleaner?.reconfigure(this.logCleanerSettings());
    this.producerStateOptions.producerIdExpirationMs = Number(brokerPropertyValue(this.config, 'producer.id.expiration.ms') ?? 86400000);
    for (const level of levels) {
      // Passwords are logged as Kafka prints them: [hidden]. Every start replays them: news only afterwards.
      const shown = Object.fromEntries([...this.dynamicConfig.get(level)].map(([k, v]) => [k, isSensitiveConfig(k) ? '[hidden]' : v]));
      this.logger[this.loading ? 'debug' : 'info']({ configLevel: level, configs: shown }, 'dynamic broker configs changed');
    }
  }

  /** The current metadata image: read it once per request for a consistent view. */
  get image(): MetadataImage {
    return this.current;
  }

  /** The address clients are told to connect to (this node's registration in the image). */
  get advertised(): { host: string; port: number } {
    if (this.advertisedAddress !== null) return this.advertisedAddress;
    const self = this.current.brokers.get(this.nodeId)!;
    return { host: self.host, port: self.port };
  }

  /** Set once the listener is bound (its port may have been 0). */
  set advertised(address: { host: string; port: number }) {
    this.advertisedAddress = { ...address };
  }

  /**
   * Applies an image built from committed metadata records (KRaft): opens the replicas newly assigned to
   * this node as leader or follower before the image names them, publishes it, then stops the replicas no
   * longer assigned here (deleting their logs) and moves `__consumer_offsets` leadership into or out of
   * the group coordinator (Kafka's BrokerMetadataPublisher: ReplicaManager.applyDelta, then the
   * coordinators' onElection/onResignation). Images are applied one at a time, in order.
   */
  publishImage(next: MetadataImage): Promise<void> {
    return this.publications.run(() => this.applyImage(next));
  }

  private async applyImage(next: MetadataImage): Promise<void> {
    if (this.stopping) return;
    const prev = this.current;
    const me = this.nodeId;
    const rm = this.replicaManager;
    // First, so the replicas this image opens get the new topic-config defaults.
    const dynamicChanged = this.dynamicConfig.update(next);
    if (dynamicChanged.length > 0) this.configGeneration++;
    for (const topic of next.topics()) {
      const before = prev.topicById(topic.topicId);
      for (const reg of topic.partitions) {
        if (!reg.replicas.includes(me)) continue;
        const old = before?.partitions[reg.partition];
        if (old && sameRegistration(old, reg) && rm.hostedPartition(topic.topicId, reg.partition)) continue;
        try {
          if (reg.leader === me) await rm.becomeLeader(topic, reg);
          else await rm.becomeFollower(topic, reg);
          if (!old || old.leader !== reg.leader || old.isr.join() !== reg.isr.join()) {
            // One line per partition: news in a cluster, noise on a single node (where every start makes
            // it the leader of all of them again), so there at debug.
            this.logger[this.config.quorum.votersConfigured ? 'info' : 'debug']({ topic: topic.name, partition: reg.partition, leader: reg.leader, leaderEpoch: reg.leaderEpoch, isr: reg.isr, replicas: reg.replicas }, `${topic.name}-${reg.partition}: ${reg.leader === me ? 'leader' : `follower of ${reg.leader}`} at epoch ${reg.leaderEpoch}, ISR [${reg.isr.join(',')}]`);
          }
        } catch (err) {
          const failure = loadFailure(err, this.config.logDirList);
          if (this.loading && failure instanceof LogDirFailureError) {
            // While loading, as the old single-node start did (and Kafka, whose only log dir failing stops
            // the broker): the start fails with the reason (finishLoading throws it).
            this.loadError ??= failure;
          } else if (!(this.loading && err instanceof InconsistentTopicIdError)) {
            // The replica stays offline on this node (Kafka's HostedPartition.Offline: KAFKA_STORAGE_ERROR to
            // its clients); the others go on. (While loading, a directory of another incarnation is in the
            // way: the stray check moves it aside and opens the replica again.)
            if (failure instanceof LogDirFailureError) rm.markOffline(topic.topicId, reg.partition);
            this.logger.error({ err, topic: topic.name, partition: reg.partition }, 'opening a replica failed');
          }
        }
      }
      if (before && before.configs !== topic.configs) {
        this.configGeneration++;
        this.replicaManager.applyLogConfig(topic);
      }
    }
    if (dynamicChanged.length > 0) this.applyDynamicConfigs(next, dynamicChanged);
    this.current = next;
    const removed: TopicImage[] = [];
    for (const topic of prev.topics()) {
      const after = next.topicById(topic.topicId);
      if (!after) removed.push(topic);
      for (const reg of topic.partitions) {
        if (!rm.hostedPartition(topic.topicId, reg.partition)) continue;
        const now = after?.partitions[reg.partition];
        if (now && now.replicas.includes(me)) continue;
        this.replicaManager.purgatory.notify(`${topic.name}-${reg.partition}`);
        await rm.stopReplica(topic.topicId, reg.partition, true).catch((err: unknown) => this.logger.warn({ err, topic: topic.name, partition: reg.partition }, 'removing a replica failed'));
      }
    }
    for (const topic of removed) {
      this.appendSettingsCache.delete(topic.topicId);
      await this.groupCoordinator?.onTopicDeleted(topic.name);
      this.logger.info({ topic: topic.name }, 'topic deleted');
    }
    const offsetsBefore = prev.topic(OFFSETS_TOPIC);
    const offsetsAfter = next.topic(OFFSETS_TOPIC);
    if (this.groupCoordinator && (offsetsBefore || offsetsAfter)) {
      const count = Math.max(offsetsBefore?.partitions.length ?? 0, offsetsAfter?.partitions.length ?? 0);
      // In a cluster the partitions load in the background (their groups answer COORDINATOR_LOAD_IN_PROGRESS
      // meanwhile, as in Kafka). A single node, the only possible coordinator, finishes loading before the
      // image counts as applied: its groups are ready when it starts answering, and once FindCoordinator's
      // creation of __consumer_offsets returns.
      const elections: Promise<void>[] = [];
      for (let p = 0; p < count; p++) {
        const was = offsetsBefore?.partitions[p];
        const is = offsetsAfter?.partitions[p];
        const ledBefore = was?.leader === me && offsetsBefore?.topicId === offsetsAfter?.topicId;
        const ledNow = is?.leader === me;
        if (ledNow && (!ledBefore || was!.leaderEpoch !== is!.leaderEpoch)) {
          elections.push(this.groupCoordinator.onElection(p, is!.leaderEpoch).catch((err: unknown) => this.logger.error({ err, partition: p }, 'loading an __consumer_offsets partition failed')));
        } else if (!ledNow && was?.leader === me) {
          this.groupCoordinator.onResignation(p);
        }
      }
      if (!this.config.quorum.votersConfigured) await Promise.all(elections);
    }
    this.applied = next;
    const waiters = [...this.imageWaiters];
    for (const w of waiters) w();
  }

  /** Resolves once a fully applied image satisfies `ready` (true at once if the last one does), or with false after timeoutMs. */
  awaitImage(ready: (image: MetadataImage) => boolean, timeoutMs: number): Promise<boolean> {
    if (ready(this.applied)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!ready(this.applied)) return;
        finish(true);
      };
      const timer = this.clock.schedule(timeoutMs, () => finish(false));
      const finish = (ok: boolean): void => {
        this.imageWaiters.delete(check);
        timer.cancel();
        resolve(ok);
      };
      this.imageWaiters.add(check);
    });
  }

  /** Kafka's meta.properties in every log dir: refuses another node's or cluster's directory. */
  private async writeMetaProperties(): Promise<void> {
    for (const dir of this.logManager.logDirs) await ensureMetaProperties(dir, { clusterId: this.config.clusterId, nodeId: this.config.nodeId });
  }

  /**
   * Kafka's stray replica check (LogManager.findStrayReplicas, run on the first image that has caught up
   * with the metadata log): every partition directory the image does not assign to this node, or whose
   * partition.metadata names another topic id (a deleted incarnation), is moved aside as `-stray` (kept,
   * never deleted), and interrupted deletions (`-delete`) are finished. src/kraft.ts calls it once this node
   * is unfenced, i.e. its image includes every record committed before it started. Replicas that could not
   * open because such a directory was in their place are opened again. Throws the first log directory
   * failure met while loading (LogDirFailureError): the start fails with it.
   */
  finishLoading(): Promise<void> {
    return this.publications.run(async () => {
      if (this.stopping) return;
      if (this.loadError === null) {
        const image = this.current;
        try {
          await this.logManager.moveAsideStrayLogs((topic, partition) => {
            const t = image.topic(topic);
            return t !== undefined && t.partitions[partition]?.replicas.includes(this.nodeId) === true ? t.topicId : null;
          });
        } catch (err) {
          throw loadFailure(err, this.config.logDirList);
        }
        await this.applyImage(image);
        this.replicaManager.finishedLoading();
      }
      this.loading = false;
      if (this.loadError !== null) throw this.loadError;
    });
  }

  /**
   * The topic `name` once this node's image has it (the controller said it exists, e.g. TOPIC_ALREADY_EXISTS
   * to a racing creation, but its records may not be applied here yet); undefined after request.timeout.ms.
   */
  async awaitTopic(name: string): Promise<TopicImage | undefined> {
    await this.awaitImage((image) => image.topic(name) !== undefined, this.kraft.requestTimeoutMs);
    return this.current.topic(name);
  }

  /** max.message.bytes and message.timestamp.type of a topic, resolved once per config change, not per append. */
  private appendSettings(topic: TopicImage): PartitionSettings {
    // Keyed by the image's topic object: a config change replaces it, so a stale entry is never used.
    const cached = this.appendSettingsCache.get(topic.topicId);
    if (cached && cached.topic === topic && cached.generation === this.configGeneration) return cached.settings;
    const s = topicLogSettings(this.config, topic.configs);
    const settings: PartitionSettings = {
      maxMessageBytes: s.maxMessageBytes,
      messageTimestampType: s.messageTimestampType,
      timestampBeforeMaxMs: s.timestampBeforeMaxMs,
      timestampAfterMaxMs: s.timestampAfterMaxMs,
      minInSyncReplicas: Number(resolveTopicConfig(this.config, topic.configs, 'min.insync.replicas')!.value),
    };
    this.appendSettingsCache.set(topic.topicId, { topic, generation: this.configGeneration, settings });
    return settings;
  }


  logConfigFor(configs: ReadonlyMap<string, string>): LogConfig {
    const s = topicLogSettings(this.config, configs);
    return {
      ...defaultLogConfig,
      segmentBytes: s.segmentBytes,
      segmentMs: s.segmentMs,
      indexIntervalBytes: s.indexIntervalBytes,
      segmentIndexBytes: s.segmentIndexBytes,
      retentionMs: s.retentionMs,
      retentionBytes: s.retentionBytes,
      flushMessages: s.flushMessages,
      flushMs: s.flushMs,
      fileDeleteDelayMs: s.fileDeleteDelayMs,
      messageTimestampType: s.messageTimestampType,
      cleanupPolicy: s.cleanupPolicy,
      deleteRetentionMs: s.deleteRetentionMs,
      minCleanableDirtyRatio: s.minCleanableDirtyRatio,
      minCompactionLagMs: s.minCompactionLagMs,
      maxCompactionLagMs: s.maxCompactionLagMs,
      tailCacheBytes: Number(this.config.props.get('samsa.log.tail.cache.bytes') ?? defaultLogConfig.tailCacheBytes),
    };
  }

  /** The replica of a partition hosted here, by topic name in the current image (tools, tests, the cleaner). */
  getPartition(topic: string, partition: number): Partition | undefined {
    const t = this.current.topic(topic);
    return t ? this.replicaManager.hostedPartition(t.topicId, partition) : undefined;
  }

  topicPartitionCount(name: string): number | undefined {
    return this.current.topic(name)?.partitions.length;
  }

  leaderPartition(name: string, index: number): Partition | undefined {
    return this.replicaManager.leaderFor(name, index).partition;
  }

  async awaitReplication(partition: Partition, nextOffset: number, timeoutMs: number): Promise<number> {
    return (await this.replicaManager.awaitReplication(partition, nextOffset, timeoutMs)).errorCode;
  }

  /**
   * Creates a topic; numPartitions / replicationFactor of -1 mean the broker defaults (KIP-464). It is
   * CreateTopics of one topic sent to the active controller (the way Kafka's broker forwards
   * auto-creation, KIP-590); resolves with the topic once this node's image has it, so the caller can use
   * it at once. Throws TopicError with Kafka's code on a bad request.
   */
  async createTopic(name: string, numPartitions: number, replicationFactor: number, configs: ReadonlyMap<string, string>, validateOnly = false): Promise<TopicImage | null> {
    const { channel, requestTimeoutMs } = this.kraft;
    const { response } = await channel
      .send(
        CreateTopics,
        {
          topics: [{ name, numPartitions, replicationFactor, assignments: [], configs: [...configs].map(([k, v]) => ({ name: k, value: v })) }],
          timeoutMs: requestTimeoutMs,
          validateOnly,
        },
        { deadlineMs: requestTimeoutMs, notController: (r) => r.topics.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER) },
      )
      .catch((err: unknown) => {
        throw new TopicError(ErrorCode.REQUEST_TIMED_OUT, (err as Error).message);
      });
    const result = response.topics[0];
    if (!result) throw new TopicError(ErrorCode.UNKNOWN_SERVER_ERROR, `the controller did not answer for topic ${name}`);
    if (result.errorCode !== ErrorCode.NONE) throw new TopicError(result.errorCode, result.errorMessage ?? '');
    if (validateOnly) return null;
    await this.awaitImage((image) => image.topic(name) !== undefined, requestTimeoutMs);
    return this.current.topic(name) ?? null;
  }

  /** Metadata/Produce auto-creation of an unknown topic (auto.create.topics.enable). */
  async autoCreateTopic(name: string): Promise<TopicImage | null> {
    if (!this.config.autoCreateTopicsEnable || topicNameError(name) !== null) return null;
    const existing = this.current.topic(name);
    if (existing) return existing;
    try {
      return await this.createTopic(name, -1, -1, new Map());
    } catch (err) {
      if (err instanceof TopicError && err.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) return (await this.awaitTopic(name)) ?? null;
      throw err;
    }
  }

  /**
   * CreatePartitions: grows a topic to `count` partitions, sent to the active controller (which checks it
   * with Kafka's messages, ReplicationControlManager.createPartitions); resolves once this node's image has
   * the new partitions. Nothing changes when `validateOnly`. Throws TopicError.
   */
  async createPartitions(name: string, count: number, assignments: readonly (readonly number[])[] | null, validateOnly = false): Promise<void> {
    const { channel, requestTimeoutMs } = this.kraft;
    const { response } = await channel
      .send(
        CreatePartitions,
        { topics: [{ name, count, assignments: assignments === null ? null : assignments.map((brokerIds) => ({ brokerIds: [...brokerIds] })) }], timeoutMs: requestTimeoutMs, validateOnly },
        { deadlineMs: requestTimeoutMs, notController: (r) => r.results.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER) },
      )
      .catch((err: unknown) => {
        throw new TopicError(ErrorCode.REQUEST_TIMED_OUT, (err as Error).message);
      });
    const result = response.results[0];
    if (result && result.errorCode !== ErrorCode.NONE) throw new TopicError(result.errorCode, result.errorMessage ?? '');
    if (!validateOnly) await this.awaitImage((image) => (image.topic(name)?.partitions.length ?? 0) >= count, requestTimeoutMs);
  }

  /**
   * Replaces a topic's config overrides (AlterConfigs, IncrementalAlterConfigs) and applies them at once:
   * each partition's Log gets the new LogConfig (segment roll, index interval, retention, flush, deletion
   * delay; the Log reads its config when it needs a value) and the produce path reads max.message.bytes
   * and message.timestamp.type from the overrides on every append. Throws TopicError
   * (UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG); nothing changes when `validateOnly`.
   */
  async setTopicConfigs(name: string, overrides: ReadonlyMap<string, string>, validateOnly = false): Promise<void> {
    // Kafka's order (ConfigurationControlManager.validateAlterConfig): the values, then the topic's existence.
    try {
      validateTopicConfigs(overrides);
    } catch (err) {
      throw new TopicError(ErrorCode.INVALID_CONFIG, (err as Error).message);
    }
    const { channel, requestTimeoutMs } = this.kraft;
    const TOPIC_RESOURCE = 2;
    const { response } = await channel
      .send(
        AlterConfigs,
        { resources: [{ resourceType: TOPIC_RESOURCE, resourceName: name, configs: [...overrides].map(([k, v]) => ({ name: k, value: v })) }], validateOnly },
        { deadlineMs: requestTimeoutMs, notController: (r) => r.responses.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER) },
      )
      .catch((err: unknown) => {
        throw new TopicError(ErrorCode.REQUEST_TIMED_OUT, (err as Error).message);
      });
    const result = response.responses[0];
    if (result && result.errorCode !== ErrorCode.NONE) throw new TopicError(result.errorCode, result.errorMessage ?? '');
    if (validateOnly) return;
    const wanted = [...overrides].sort().join('\n');
    await this.awaitImage((image) => {
      const t = image.topic(name);
      return t !== undefined && [...t.configs].sort().join('\n') === wanted;
    }, requestTimeoutMs);
  }

  /**
   * Sends one BROKER resource's change (IncrementalAlterConfigs operations, or AlterConfigs' whole set) to
   * the active controller as the client asked it, as Kafka's broker forwards it (KIP-590); the controller
   * checks it and writes ConfigRecords. Resolves once this node's image shows the change (so a
   * DescribeConfigs here after the answer sees it); the node it names applies it from its own image.
   * The caller has checked it against this node's image (config-changes.ts). Throws TopicError with the
   * controller's code; nothing changes when `validateOnly`.
   */
  async alterBrokerConfigs(resourceName: string, change: BrokerConfigChange, validateOnly = false): Promise<void> {
    const { channel, requestTimeoutMs } = this.kraft;
    const BROKER_RESOURCE = 4;
    const options = { deadlineMs: requestTimeoutMs, notController: (r: { responses: readonly { errorCode: number }[] }) => r.responses.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER) };
    const timedOut = (err: unknown): never => {
      throw new TopicError(ErrorCode.REQUEST_TIMED_OUT, (err as Error).message);
    };
    const result =
      change.kind === 'replace'
        ? (
            await channel
              .send(AlterConfigs, { resources: [{ resourceType: BROKER_RESOURCE, resourceName, configs: [...change.configs].map(([name, value]) => ({ name, value })) }], validateOnly }, options)
              .catch(timedOut)
          ).response.responses[0]
        : (
            await channel
              .send(IncrementalAlterConfigs, { resources: [{ resourceType: BROKER_RESOURCE, resourceName, configs: change.ops.map((o) => ({ name: o.name, configOperation: o.configOperation, value: o.value })) }], validateOnly }, options)
              .catch(timedOut)
          ).response.responses[0];
    if (!result) throw new TopicError(ErrorCode.UNKNOWN_SERVER_ERROR, `the controller did not answer for broker resource '${resourceName}'`);
    if (result.errorCode !== ErrorCode.NONE) throw new TopicError(result.errorCode, result.errorMessage ?? '');
    if (validateOnly) return;
    await this.awaitImage((image) => showsBrokerConfigChange(image.brokerConfigs.get(resourceName) ?? new Map<string, string>(), change), requestTimeoutMs);
  }

  /**
   * Replaces the dynamic broker configs of one level (this node's, or the cluster-wide default) through the
   * controller, as AlterConfigs on the BROKER resource does. Throws TopicError (INVALID_REQUEST, with
   * Kafka's message, for a static name or a bad value); nothing changes when `validateOnly`.
   */
  async setDynamicBrokerConfigs(level: DynamicConfigLevel, values: ReadonlyMap<string, string>, validateOnly = false): Promise<void> {
    const problem = dynamicBrokerConfigsProblem(values, level);
    if (problem !== null) throw new TopicError(ErrorCode.INVALID_REQUEST, problem);
    await this.alterBrokerConfigs(level === 'perBroker' ? String(this.nodeId) : '', { kind: 'replace', configs: values }, validateOnly);
  }

  /**
   * The one-time migration of an old `samsa-broker-configs.json` (dynamic-broker-config.ts), once this
   * node is unfenced and its image has every record committed before it started (src/kraft.ts): the keys
   * the metadata log does not have at a level are set through the controller (IncrementalAlterConfigs
   * SET, this node's values under its id, the defaults under ""), and once the image has them the file is
   * renamed `.migrated`. Keys the log has already keep the log's value (a warning names them), so a second
   * run after a crash, or a second node's file, changes nothing the log holds. A change the controller
   * refuses (a file edited by hand) stops the start, naming the file.
   */
  async migrateLegacyDynamicConfigs(): Promise<void> {
    const legacy = this.dynamicConfig.legacy;
    if (legacy === null) return;
    const image = this.current;
    const resources: { resourceType: number; resourceName: string; configs: { name: string; configOperation: number; value: string }[] }[] = [];
    const kept: string[] = [];
    for (const [resourceName, values] of [[String(this.nodeId), legacy.perBroker], ['', legacy.clusterDefault]] as const) {
      const inLog = image.brokerConfigs.get(resourceName) ?? new Map<string, string>();
      const configs = [...values].filter(([name]) => !inLog.has(name)).map(([name, value]) => ({ name, configOperation: 0, value }));
      for (const [name, value] of values) if (inLog.has(name) && inLog.get(name) !== value) kept.push(`${resourceName === '' ? '<default>' : resourceName}/${name}`);
      if (configs.length > 0) resources.push({ resourceType: 4, resourceName, configs });
    }
    if (kept.length > 0) this.logger.warn({ path: legacy.path, configs: kept }, `the metadata log already has other values for ${kept.join(', ')}: they stay; the values of ${legacy.path} for them are not migrated`);
    if (resources.length > 0) {
      const { channel, requestTimeoutMs } = this.kraft;
      const { response } = await channel.send(IncrementalAlterConfigs, { resources, validateOnly: false }, { deadlineMs: requestTimeoutMs, notController: (r) => r.responses.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER) });
      const refused = response.responses.find((r) => r.errorCode !== ErrorCode.NONE);
      if (refused) {
        throw new LogDirFailureError(
          `Dynamic broker config file ${legacy.path} holds configs the controller refused for broker resource '${refused.resourceName}' (error ${refused.errorCode}: ${refused.errorMessage ?? ''}); refusing to start without them. Correct the file, or remove it to drop them.`,
          legacy.path,
        );
      }
      const migrated = await this.awaitImage((img) => resources.every((r) => r.configs.every((c) => img.brokerConfigs.get(r.resourceName)?.get(c.name) === c.value)), requestTimeoutMs);
      if (!migrated) throw new Error(`the dynamic broker configs of ${legacy.path} were accepted by the controller but did not reach this node's metadata image within ${requestTimeoutMs} ms`);
    }
    const to = await markLegacyDynamicBrokerConfigsMigrated(legacy, this.config.logDirs);
    this.dynamicConfig.finishMigration();
    const count = resources.reduce((n, r) => n + r.configs.length, 0);
    this.logger.info({ configs: count, renamedTo: to }, `migrated ${count} dynamic broker config(s) of ${legacy.path} into the metadata log`);
  }

  /** DeleteTopics of one topic sent to the active controller; resolves once this node's image no longer has it. */
  async deleteTopic(name: string): Promise<void> {
    const { channel, requestTimeoutMs } = this.kraft;
    const { response } = await channel
      .send(DeleteTopics, { topicNames: [name], topics: [{ name, topicId: '00000000-0000-0000-0000-000000000000' }], timeoutMs: requestTimeoutMs }, { deadlineMs: requestTimeoutMs, notController: (r) => r.responses.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER) })
      .catch((err: unknown) => {
        throw new TopicError(ErrorCode.REQUEST_TIMED_OUT, (err as Error).message);
      });
    const result = response.responses[0];
    if (result && result.errorCode !== ErrorCode.NONE) throw new TopicError(result.errorCode, result.errorMessage ?? '');
    await this.awaitImage((image) => image.topic(name) === undefined, requestTimeoutMs);
  }

  /** log.retention.check.interval.ms on the broker's clock; a pass never overlaps the previous one. */
  private scheduleRetention(intervalMs: number): void {
    if (this.stopping) return;
    this.retentionTimer = this.clock.schedule(intervalMs, () => {
      void this.applyRetention()
        .catch((err: unknown) => this.logger.error({ err }, 'retention pass failed'))
        .finally(() => this.scheduleRetention(intervalMs));
    });
  }

  async applyRetention(): Promise<void> {
    await this.replicaManager.applyRetention();
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    this.retentionTimer?.cancel();
    await this.logCleaner?.stop();
    this.replicaManager.purgatory.completeAll();
    await this.groupCoordinator?.shutdown();
    // Producer state snapshots at the log ends, so the next start reads no log.
    await this.replicaManager.shutdown();
    await this.logManager.closeAll();
    await Promise.all(this.locks.map((l) => l.release()));
  }

  /**
   * For in-process simulations of `kill -9`: the broker stops applying images and its logs' files are
   * closed without fsync, clean-shutdown marker, producer state snapshot or HW checkpoint, so the next
   * start on the same directories recovers as after a killed process whose page cache survived. The
   * replica manager's own timers (ISR expiration, HW checkpoints) stop; nothing else is stopped: the
   * caller must make sure no request, timer or answer reaches this broker any more (the simulation drops
   * them), as none would reach a dead process.
   */
  async halt(): Promise<void> {
    this.stopping = true;
    this.retentionTimer?.cancel();
    // No more HW checkpoints either: the next start reads the last one written before the "kill".
    await this.replicaManager.halt();
    await this.logManager.closeAll({ cleanShutdown: false });
    await Promise.all(this.locks.map((l) => l.release()));
  }

  /** For tests and tools: remove the whole data directory. */
  static async wipe(logDirs: string): Promise<void> {
    await rm(logDirs, { recursive: true, force: true });
  }
}
