/**
 * The broker: the metadata image (metadata-image.ts) and the replica manager (replica-manager.ts) wired
 * together, plus the services beside them (group coordinator, producer ids, log cleaner, retention).
 *
 * Request handlers read `image` (immutable, swapped whole on every change) and ask `replicaManager` for
 * the partitions led here; they never touch storage. The admin operations here (create/delete topics,
 * grow partitions, change configs) play the controller's part on a single node: validate, open the
 * replicas the change needs, publish the new image, persist it. With the KRaft quorum they become "send to
 * the controller, apply the committed records" (../shared/design/cluster.md A.11).
 *
 * The image's topics (name, topic id, partition count, config overrides) are kept in
 * `<log.dirs>/samsa-topics.json`, rewritten atomically (temp file + rename) on every change, standing in
 * for the KRaft metadata log; partition directories follow Kafka's layout (`<topic>-<partition>`).
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BrokerConfig } from '../config.js';
import { ErrorCode } from '../../protocol/errors.js';
import { LogCleaner } from '../../storage/log-cleaner.js';
import { writeFileAtomic } from '../../storage/file-util.js';
import { LogManager } from '../../storage/log-manager.js';
import { InconsistentTopicIdError, ioErrorCode, KafkaStorageError, LogDirFailureError, logDirLoadFailure } from '../../storage/errors.js';
import { ensureMetaProperties } from '../../storage/meta-properties.js';
import { parseKafkaUuidString, randomTopicId } from '../../storage/kafka-uuid.js';
import { lockLogDirs, type LogDirLock } from '../../storage/log-dir-lock.js';
import { defaultLogConfig, type LogConfig } from '../../storage/log-config.js';
import type { Partition, PartitionSettings } from './partition.js';
import { ProducerIdManager } from './producer-ids.js';
import { MetadataImage, localPartition, type PartitionRegistration, type TopicImage } from './metadata-image.js';
import { ReplicaManager } from './replica-manager.js';
import { resolveTopicConfig, topicLogSettings, validateTopicConfigs } from './topic-config.js';
import type { GroupCoordinator } from '../group/coordinator.js';
import { startGroupCoordinator } from '../group/start.js';
import type { OffsetsTopicHost } from '../group/offsets-topic-store.js';
import { TopicError } from './topic-error.js';
import { collidingTopic, MAX_PARTITIONS_PER_BATCH, topicNameError, validateNewTopic } from '../controller/topic-validation.js';
import { brokerPropertyValue, DynamicBrokerConfig, dynamicBrokerConfigsProblem, type DynamicConfigLevel } from './dynamic-broker-config.js';
import { isSensitiveConfig } from '../kafka-broker-configs.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { SerialQueue } from '../util/serial-queue.js';
import { topLevelNotController, type ControllerChannel } from './controller-channel.js';
import { AlterPartition } from '../../protocol/messages/alter-partition.js';
import { replicaFetcherConfig } from './replica-fetcher.js';
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { DeleteTopics } from '../../protocol/messages/delete-topics.js';
import { CreatePartitions } from '../../protocol/messages/create-partitions.js';
import { AlterConfigs } from '../../protocol/messages/alter-configs.js';
import { OFFSETS_TOPIC } from '../group/coordinator-records.js';

interface PersistedTopic {
  name: string;
  topicId: string;
  numPartitions: number;
  configs: Record<string, string>;
}

/**
 * Reads samsa-topics.json: [] when there is none (a new broker). A file that does not parse or does not
 * have the expected shape stops the start (LogDirFailureError naming it): treating it as empty would lose
 * every topic, and the stray check would then move every partition directory aside.
 */
async function readTopicsFile(path: string): Promise<PersistedTopic[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const refuse = (why: string, cause?: unknown): never => {
    throw new LogDirFailureError(`Topic metadata file ${path} is corrupt (${why}); refusing to start rather than lose its topics. Restore it from a backup, or remove it to start without any topic.`, path, { cause });
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return refuse((err as Error).message, err);
  }
  if (!Array.isArray(parsed)) return refuse('not a JSON array');
  const topics: PersistedTopic[] = [];
  for (const [i, t] of (parsed as unknown[]).entries()) {
    const o = t as Partial<Record<keyof PersistedTopic, unknown>> | null;
    if (
      typeof o !== 'object' || o === null ||
      typeof o.name !== 'string' || topicNameError(o.name) !== null ||
      typeof o.topicId !== 'string' || parseKafkaUuidString(o.topicId) === null ||
      typeof o.numPartitions !== 'number' || !Number.isSafeInteger(o.numPartitions) || o.numPartitions < 1 ||
      typeof o.configs !== 'object' || o.configs === null || Object.values(o.configs).some((v) => typeof v !== 'string')
    ) {
      return refuse(`entry ${i} is not a topic with a name, topicId, numPartitions and configs`);
    }
    topics.push({ name: o.name, topicId: parseKafkaUuidString(o.topicId)!, numPartitions: o.numPartitions, configs: o.configs as Record<string, string> });
  }
  return topics;
}

// Topic checks shared with the quorum controller (src/controller/topic-validation.ts); re-exported for the
// handlers that import them from here.
export { collidingTopic, MAX_PARTITIONS_PER_BATCH, topicNameError };

export { TopicError };

/**
 * A broker in a KRaft cluster (issue 11): its metadata is the committed `__cluster_metadata` log replayed
 * into images that `publishImage` applies, and every metadata change is a request to the active
 * controller (ControllerChannel) instead of a local write of samsa-topics.json.
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
  /** samsa-topics.json is rewritten one write at a time. */
  private readonly metadataWrites = new SerialQueue();
  /** Bumped whenever topic configs or dynamic broker configs change: partitions re-resolve their settings. */
  private configGeneration = 0;
  private readonly appendSettingsCache = new Map<string, { topic: TopicImage; generation: number; settings: PartitionSettings }>();
  /**
   * Topics being created: not in the image until their partitions are open and samsa-topics.json names
   * them, so nothing is acknowledged into a topic a crash would forget (KIP-631's order: a topic exists
   * once its record is durable). A second create of the same name is TOPIC_ALREADY_EXISTS.
   */
  private readonly creatingTopics = new Map<string, Promise<TopicImage>>();
  /** Created topics whose partitions are open, being written to samsa-topics.json. */
  private readonly committingTopics = new Set<TopicImage>();
  /** CreatePartitions in progress: the new partition count, written before the new partitions are visible. */
  private readonly growingPartitions = new Map<string, number>();
  /** CreatePartitions runs one at a time: each reads the partition count it grows. */
  private readonly partitionChanges = new SerialQueue();
  private retentionTimer: Timer | null = null;
  private stopping = false;
  /** Compaction of cleanup.policy=compact topics (storage/log-cleaner.ts); null with log.cleaner.enable=false. */
  logCleaner: LogCleaner | null = null;
  /** The `.lock` of every log dir, held until shutdown. */
  private locks: LogDirLock[] = [];
  /** Set in a KRaft cluster: metadata comes from the quorum (publishImage), changes go to the controller. */
  kraft: KRaftBrokerOptions | null = null;
  /** The Raft quorum as this node sees it (KRaft only): for /metrics and the console. */
  quorum: QuorumStatus | null = null;
  /**
   * DescribeQuorum's view (KIP-836), known on the quorum's leader only (null elsewhere); absent on a single
   * node. The console reads it.
   */
  describeQuorum?: (now: number) => QuorumStatusDescription | null;
  /** Images are applied one at a time, in commit order. */
  private readonly publications = new SerialQueue();
  /** Waiters for a published image that satisfies them (forwarded admin requests). */
  private imageWaiters = new Set<() => void>();
  /** The client listener's address once bound (a KRaft image names it only once registered). */
  private advertisedAddress: { host: string; port: number } | null = null;

  private constructor(
    readonly config: BrokerConfig,
    readonly logger: Logger,
    /** Dynamic broker configs (KIP-226); `config.dynamic` is its live view. */
    readonly dynamicConfig: DynamicBrokerConfig,
    /** The one clock everything that times out runs on (src/util/clock.ts). */
    readonly clock: Clock,
  ) {
    this.logManager = new LogManager(config.logDirList, { logger: logger.child({ component: 'storage' }) });
    this.current = MetadataImage.EMPTY.withCluster(config.clusterId, config.nodeId).withBroker({ nodeId: config.nodeId, host: '127.0.0.1', port: 9092, rack: null });
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
      producerStateOptions: {
        now: () => clock.now(),
        logger: logger.child({ component: 'producer-state' }),
        producerIdExpirationMs: Number(brokerPropertyValue(config, 'producer.id.expiration.ms') ?? 86400000),
        producerIdExpirationCheckIntervalMs: Number(config.props.get('producer.id.expiration.check.interval.ms') ?? 600000),
      },
    });
  }

  static async start(config: BrokerConfig, logger: Logger, clock: Clock = systemClock, kraft: KRaftBrokerOptions | null = null): Promise<Broker> {
    // A full or failing disk while loading: one clear reason instead of an uncaught ENOSPC.
    const asLoadFailure = (err: unknown): unknown => {
      const code = err instanceof LogDirFailureError ? null : ioErrorCode(err);
      if (code === null) return err;
      const path = (err as NodeJS.ErrnoException).path;
      const dirs = config.logDirList;
      const logDir = (path && dirs.find((d) => path.startsWith(d))) || dirs[0]!;
      return logDirLoadFailure(err as NodeJS.ErrnoException, logDir, 'loading the log directory');
    };
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

  private static async startLocked(config: BrokerConfig, logger: Logger, locks: LogDirLock[], clock: Clock, kraft: KRaftBrokerOptions | null): Promise<Broker> {
    const dynamicConfig = await DynamicBrokerConfig.load(config.logDirs);
    const broker = new Broker({ ...config, dynamic: dynamicConfig.layers }, logger, dynamicConfig, clock);
    broker.locks = locks;
    broker.kraft = kraft;
    // Issue 12: the leaders' ISR changes go to the active controller.
    if (kraft !== null) broker.replicaManager.isrManager.transport = async (request) => (await kraft.channel.send(AlterPartition, request, { deadlineMs: kraft.requestTimeoutMs, version: 3, notController: topLevelNotController })).response;
    await broker.writeMetaProperties();
    broker.producerIds = await ProducerIdManager.load(config.logDirs);
    if (kraft === null) await broker.loadTopics();
    else broker.current = MetadataImage.EMPTY.withCluster(config.clusterId, -1);
    // In a cluster the coordinator takes the __consumer_offsets partitions as the images make this node
    // their leader (publishImage); on a single node it takes all of them at once.
    broker.groupCoordinator = (await startGroupCoordinator(broker, config.props, logger, clock, { electAll: kraft === null })).coordinator;
    const interval = Number(config.props.get('log.retention.check.interval.ms') ?? 300000);
    broker.scheduleRetention(interval);
    if ((config.props.get('log.cleaner.enable') ?? 'true') === 'true') {
      const number = (name: string, fallback: number): number => {
        const n = Number(brokerPropertyValue(broker.config, name) ?? fallback);
        return Number.isFinite(n) && n < Number.MAX_SAFE_INTEGER ? n : Infinity;
      };
      broker.logCleaner = new LogCleaner(broker.logManager, {
        logger,
        backoffMs: number('log.cleaner.backoff.ms', 15000),
        ioMaxBytesPerSecond: number('log.cleaner.io.max.bytes.per.second', Infinity),
        dedupeBufferSize: number('log.cleaner.dedupe.buffer.size', 134217728),
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
    return broker;
  }

  get nodeId(): number {
    return this.config.nodeId;
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
    if (this.kraft === null) this.current = this.current.withBroker({ nodeId: this.nodeId, host: address.host, port: address.port, rack: null });
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
            this.logger.info({ topic: topic.name, partition: reg.partition, leader: reg.leader, leaderEpoch: reg.leaderEpoch, isr: reg.isr, replicas: reg.replicas }, `${topic.name}-${reg.partition}: ${reg.leader === me ? 'leader' : `follower of ${reg.leader}`} at epoch ${reg.leaderEpoch}, ISR [${reg.isr.join(',')}]`);
          }
        } catch (err) {
          // The replica stays offline on this node (Kafka marks its log dir failed); the others go on.
          this.logger.error({ err, topic: topic.name, partition: reg.partition }, 'opening a replica failed');
        }
      }
      if (before && before.configs !== topic.configs) {
        this.configGeneration++;
        this.replicaManager.applyLogConfig(topic);
      }
    }
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
      for (let p = 0; p < count; p++) {
        const was = offsetsBefore?.partitions[p];
        const is = offsetsAfter?.partitions[p];
        const ledBefore = was?.leader === me && offsetsBefore?.topicId === offsetsAfter?.topicId;
        const ledNow = is?.leader === me;
        if (ledNow && (!ledBefore || was!.leaderEpoch !== is!.leaderEpoch)) {
          void this.groupCoordinator.onElection(p, is!.leaderEpoch).catch((err: unknown) => this.logger.error({ err, partition: p }, 'loading an __consumer_offsets partition failed'));
        } else if (!ledNow && was?.leader === me) {
          this.groupCoordinator.onResignation(p);
        }
      }
    }
    const waiters = [...this.imageWaiters];
    for (const w of waiters) w();
  }

  /** Resolves once a published image satisfies `ready` (true at once if the current one does), or after timeoutMs. */
  awaitImage(ready: (image: MetadataImage) => boolean, timeoutMs: number): Promise<boolean> {
    if (ready(this.current)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!ready(this.current)) return;
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

  private get metadataPath(): string {
    return join(this.config.logDirs, 'samsa-topics.json');
  }

  /** Kafka's meta.properties in every log dir: refuses another node's or cluster's directory. */
  private async writeMetaProperties(): Promise<void> {
    for (const dir of this.logManager.logDirs) await ensureMetaProperties(dir, { clusterId: this.config.clusterId, nodeId: this.config.nodeId });
  }

  private async loadTopics(): Promise<void> {
    const persisted = await readTopicsFile(this.metadataPath);
    const byName = new Map(persisted.map((t) => [t.name, t]));
    // Directories of deleted topics (or of another incarnation) must not be reopened as a live partition.
    await this.logManager.moveAsideStrayLogs((topic, partition) => {
      const t = byName.get(topic);
      return t !== undefined && partition < t.numPartitions ? t.topicId : null;
    });
    let image = this.current;
    for (const t of persisted) {
      const topic = this.topicImage(t.name, t.topicId, t.numPartitions, new Map(Object.entries(t.configs)));
      for (const p of topic.partitions) await this.replicaManager.becomeLeader(topic, p);
      image = image.withTopic(topic);
    }
    this.current = image;
    this.logger.debug({ topics: image.topicCount }, 'topics loaded');
  }

  /** A topic as a single node registers it: this node the only replica and leader of every partition. */
  private topicImage(name: string, topicId: string, numPartitions: number, configs: ReadonlyMap<string, string>): TopicImage {
    return { name, topicId, configs, partitions: Array.from({ length: numPartitions }, (_, p) => localPartition(this.nodeId, p)) };
  }

  /**
   * Rewrites samsa-topics.json: the image's topics plus those being created (partitions open, not yet in
   * the image), with any partition count being grown. The text is built when the write's turn comes, so a
   * write never drops a topic that another one made durable meanwhile.
   */
  private persistTopics(): Promise<void> {
    const path = this.metadataPath;
    // fsynced and renamed into place (directory fsynced): a topic acknowledged to a client survives a power loss.
    return this.metadataWrites.run(() => {
      const all = new Map<string, TopicImage>();
      for (const t of this.current.topics()) all.set(t.name, t);
      for (const t of this.committingTopics) all.set(t.name, t);
      const data: PersistedTopic[] = [...all.values()].map((t) => ({
        name: t.name,
        topicId: t.topicId,
        numPartitions: this.growingPartitions.get(t.name) ?? t.partitions.length,
        configs: Object.fromEntries(t.configs),
      }));
      return writeFileAtomic(path, JSON.stringify(data, null, 2), this.config.logDirs);
    });
  }

  /** The topic `name` once it is durable, waiting for a creation in progress; undefined if there is none. */
  async awaitTopic(name: string): Promise<TopicImage | undefined> {
    await this.creatingTopics.get(name)?.catch(() => undefined);
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
   * Creates a topic; numPartitions / replicationFactor of -1 mean the broker defaults (KIP-464).
   * Throws TopicError with Kafka's code on a bad request.
   */
  async createTopic(name: string, numPartitions: number, replicationFactor: number, configs: ReadonlyMap<string, string>, validateOnly = false): Promise<TopicImage | null> {
    if (this.kraft !== null) return this.createTopicThroughController(name, numPartitions, replicationFactor, configs, validateOnly);
    // One node: it is the only registered (and unfenced) broker.
    const { partitions } = validateNewTopic(name, numPartitions, replicationFactor, configs, {
      exists: (n) => this.current.topic(n) !== undefined || this.creatingTopics.has(n),
      names: () => [...[...this.current.topics()].map((t) => t.name), ...this.creatingTopics.keys()],
      defaultNumPartitions: this.config.numPartitions,
      defaultReplicationFactor: this.config.defaultReplicationFactor,
      registeredBrokers: 1,
      unfencedBrokers: 1,
    });
    if (validateOnly) return null;
    const creation = this.createDurably(this.topicImage(name, randomTopicId(), partitions, new Map(configs))).catch((err: unknown) => {
      throw this.asTopicError(err, `creating topic ${name}`);
    });
    this.creatingTopics.set(name, creation);
    try {
      return await creation;
    } finally {
      this.creatingTopics.delete(name);
    }
  }

  /**
   * KRaft: CreateTopics of one topic sent to the active controller (the way Kafka's broker forwards
   * auto-creation, KIP-590); resolves with the topic once this node's image has it, so the caller can use
   * it at once.
   */
  private async createTopicThroughController(name: string, numPartitions: number, replicationFactor: number, configs: ReadonlyMap<string, string>, validateOnly: boolean): Promise<TopicImage | null> {
    const { channel, requestTimeoutMs } = this.kraft!;
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

  /**
   * Opens the replicas of a new topic, writes samsa-topics.json, and only then publishes the topic in the
   * image: a client never sees a partition that is not open, nor one a crash would forget. On failure the
   * opened partitions are deleted, and the topic never existed.
   */
  private async createDurably(topic: TopicImage): Promise<TopicImage> {
    try {
      for (const p of topic.partitions) await this.replicaManager.becomeLeader(topic, p);
      this.committingTopics.add(topic);
      try {
        await this.persistTopics();
      } finally {
        this.committingTopics.delete(topic);
      }
    } catch (err) {
      for (const p of topic.partitions) {
        await this.replicaManager
          .stopReplica(topic.topicId, p.partition, true)
          .catch((e: unknown) => this.logger.warn({ topic: topic.name, partition: p.partition, err: e }, 'removing a partition of a failed topic creation failed'));
      }
      throw err;
    }
    this.current = this.current.withTopic(topic);
    this.logger.info({ topic: topic.name, partitions: topic.partitions.length, topicId: topic.topicId }, 'topic created');
    return topic;
  }

  /**
   * A failure to write the log dir (full disk, I/O error) as KAFKA_STORAGE_ERROR for the request's answer
   * (Kafka answers it per topic), logged; TopicErrors pass through.
   */
  private asTopicError(err: unknown, what: string): unknown {
    if (err instanceof TopicError) return err;
    if (err instanceof InconsistentTopicIdError) return new TopicError(ErrorCode.INCONSISTENT_TOPIC_ID, err.message);
    const code = ioErrorCode(err);
    if (code === null && !(err instanceof KafkaStorageError)) return err;
    this.logger.error({ err, code }, `${what} failed: log directory error`);
    const detail = code === 'ENOSPC' || code === 'EDQUOT' ? 'the log directory is full' : (err as Error).message;
    return new TopicError(ErrorCode.KAFKA_STORAGE_ERROR, `Disk error when trying to access log file on the disk: ${detail}`);
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
   * CreatePartitions: grows a topic to `count` partitions, with Kafka's checks and messages
   * (ReplicationControlManager.createPartitions). `assignments` (one replica list per new partition) may
   * name only this node, once. Nothing changes when `validateOnly`. Throws TopicError.
   */
  createPartitions(name: string, count: number, assignments: readonly (readonly number[])[] | null, validateOnly = false): Promise<void> {
    if (this.kraft !== null) return this.createPartitionsThroughController(name, count, assignments, validateOnly);
    return this.partitionChanges.run(() =>
      this.createPartitionsNow(name, count, assignments, validateOnly).catch((err: unknown) => {
        throw this.asTopicError(err, `creating partitions of ${name}`);
      }),
    );
  }

  private async createPartitionsThroughController(name: string, count: number, assignments: readonly (readonly number[])[] | null, validateOnly: boolean): Promise<void> {
    const { channel, requestTimeoutMs } = this.kraft!;
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

  private async createPartitionsNow(name: string, count: number, assignments: readonly (readonly number[])[] | null, validateOnly: boolean): Promise<void> {
    const state = this.current.topic(name);
    if (!state) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    const current = state.partitions.length;
    if (count === current) throw new TopicError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`);
    if (count < current) {
      throw new TopicError(ErrorCode.INVALID_PARTITIONS, `The topic ${name} currently has ${current} partition(s); ${count} would not be an increase.`);
    }
    const additional = count - current;
    // Kafka's cap on the partitions one CreateTopics request creates (ReplicationControlManager
    // .MAX_PARTITIONS_PER_BATCH), applied here to CreatePartitions too: a hostile count must not make this
    // node open billions of logs.
    if (additional > MAX_PARTITIONS_PER_BATCH) throw new TopicError(ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.');
    if (assignments !== null) {
      if (assignments.length !== additional) {
        throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Attempted to add ${additional} additional partition(s), but only ${assignments.length} assignment(s) were specified.`);
      }
      for (const replicas of assignments) {
        if (replicas.length === 0) throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an empty replica list.');
        const sorted = [...replicas].sort((a, b) => a - b);
        for (let i = 0; i < sorted.length; i++) {
          if (sorted[i] !== this.nodeId) {
            throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${sorted[i]}, but no such broker is registered.`);
          }
          if (i > 0 && sorted[i] === sorted[i - 1]) {
            throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes the broker ${sorted[i]} more than once.`);
          }
        }
      }
    }
    if (validateOnly) return;
    // The new partitions are published only once samsa-topics.json has the new count.
    const added = Array.from({ length: count - current }, (_, i) => localPartition(this.nodeId, current + i));
    const grown: TopicImage = { ...state, partitions: [...state.partitions, ...added] };
    const gone = (): boolean => this.current.topicById(state.topicId) === undefined;
    const removeAdded = async (): Promise<void> => {
      for (const p of added) {
        await this.replicaManager
          .stopReplica(state.topicId, p.partition, true)
          .catch((e: unknown) => this.logger.warn({ topic: name, partition: p.partition, err: e }, 'removing a partition of a failed CreatePartitions failed'));
      }
    };
    try {
      for (const p of added) {
        if (gone()) break; // deleted meanwhile
        await this.replicaManager.becomeLeader(grown, p);
      }
      if (gone()) {
        await removeAdded();
        return;
      }
      this.growingPartitions.set(name, count);
      try {
        await this.persistTopics();
      } finally {
        this.growingPartitions.delete(name);
      }
    } catch (err) {
      await removeAdded();
      throw err;
    }
    if (gone()) {
      await removeAdded();
      return;
    }
    // Configs may have changed meanwhile: keep the image's, add the partitions.
    this.current = this.current.withTopic({ ...this.current.topicById(state.topicId)!, partitions: grown.partitions });
    this.logger.info({ topic: name, from: current, partitions: count }, 'partitions created');
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
    if (this.kraft !== null) return this.setTopicConfigsThroughController(name, overrides, validateOnly);
    const state = this.current.topic(name);
    if (!state) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
    if (validateOnly) return;
    const changed: TopicImage = { ...state, configs: new Map(overrides) };
    this.current = this.current.withTopic(changed);
    this.configGeneration++;
    this.replicaManager.applyLogConfig(this.current.topicById(state.topicId)!);
    await this.persistTopics().catch((err: unknown) => {
      throw this.asTopicError(err, `changing the configs of ${name}`);
    });
    this.logger.info({ topic: name, configs: Object.fromEntries(overrides) }, 'topic configs changed');
  }

  /** KRaft: AlterConfigs (a whole replacement of the topic's overrides) sent to the active controller. */
  private async setTopicConfigsThroughController(name: string, overrides: ReadonlyMap<string, string>, validateOnly: boolean): Promise<void> {
    const { channel, requestTimeoutMs } = this.kraft!;
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
   * Replaces the dynamic broker configs of one level (this node, or the cluster-wide default) and applies
   * them at once to every topic that does not override them. Throws TopicError (INVALID_REQUEST, with
   * Kafka's message, for a static name or a bad value); nothing changes when `validateOnly`.
   */
  async setDynamicBrokerConfigs(level: DynamicConfigLevel, values: ReadonlyMap<string, string>, validateOnly = false): Promise<void> {
    const problem = dynamicBrokerConfigsProblem(values, level);
    if (problem !== null) throw new TopicError(ErrorCode.INVALID_REQUEST, problem);
    if (validateOnly) return;
    try {
      await this.dynamicConfig.set(level, values).catch((err: unknown) => {
        throw this.asTopicError(err, 'changing dynamic broker configs');
      });
    } finally {
      this.configGeneration++;
    }
    for (const t of this.current.topics()) this.replicaManager.applyLogConfig(t);
    // Passwords are logged as Kafka prints them: [hidden].
    const shown = Object.fromEntries([...values].map(([k, v]) => [k, isSensitiveConfig(k) ? '[hidden]' : v]));
    this.logger.info({ configLevel: level, configs: shown }, 'dynamic broker configs changed');
  }

  async deleteTopic(name: string): Promise<void> {
    if (this.kraft !== null) {
      const { channel, requestTimeoutMs } = this.kraft;
      const { response } = await channel
        .send(DeleteTopics, { topicNames: [name], topics: [{ name, topicId: '00000000-0000-0000-0000-000000000000' }], timeoutMs: requestTimeoutMs }, { deadlineMs: requestTimeoutMs, notController: (r) => r.responses.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER) })
        .catch((err: unknown) => {
          throw new TopicError(ErrorCode.REQUEST_TIMED_OUT, (err as Error).message);
        });
      const result = response.responses[0];
      if (result && result.errorCode !== ErrorCode.NONE) throw new TopicError(result.errorCode, result.errorMessage ?? '');
      await this.awaitImage((image) => image.topic(name) === undefined, requestTimeoutMs);
      return;
    }
    if (!this.config.deleteTopicEnable) throw new TopicError(ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.');
    const state = this.current.topic(name);
    if (!state) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    // Out of the image first: from here requests answer UNKNOWN_TOPIC_OR_PARTITION, then the replicas go.
    this.current = this.current.withoutTopic(state.topicId);
    // Waiting fetches see the topic gone and answer UNKNOWN_TOPIC_OR_PARTITION now, not after max.wait.ms.
    for (const p of state.partitions) this.replicaManager.purgatory.notify(`${name}-${p.partition}`);
    try {
      await this.persistTopics();
    } catch (err) {
      // Not durably deleted: the topic stays, as when Kafka's controller cannot commit the deletion.
      this.current = this.current.withTopic(state);
      throw this.asTopicError(err, `deleting topic ${name}`);
    }
    this.appendSettingsCache.delete(state.topicId);
    // Each directory is renamed `<topic>-<p>.<uuid>-delete` before it is removed; a crash before the rename
    // leaves a directory that the next start moves aside as stray (moveAsideStrayLogs), never reopens.
    for (const p of state.partitions) await this.replicaManager.stopReplica(state.topicId, p.partition, true);
    await this.groupCoordinator?.onTopicDeleted(name);
    this.logger.info({ topic: name }, 'topic deleted');
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
    await this.metadataWrites.drained();
    // Producer state snapshots at the log ends, so the next start reads no log.
    await this.replicaManager.shutdown();
    await this.logManager.closeAll();
    await Promise.all(this.locks.map((l) => l.release()));
  }

  /**
   * For in-process simulations of `kill -9`: the broker stops applying images and its logs' files are
   * closed without fsync, clean-shutdown marker or producer state snapshot, so the next start on the same
   * directories recovers as after a killed process whose page cache survived. Nothing else is stopped:
   * the caller must make sure no request, timer or answer reaches this broker any more (the simulation
   * drops them), as none would reach a dead process.
   */
  async halt(): Promise<void> {
    this.stopping = true;
    this.retentionTimer?.cancel();
    await this.logManager.closeAll({ cleanShutdown: false });
    await Promise.all(this.locks.map((l) => l.release()));
  }

  /** For tests and tools: remove the whole data directory. */
  static async wipe(logDirs: string): Promise<void> {
    await rm(logDirs, { recursive: true, force: true });
  }
}
