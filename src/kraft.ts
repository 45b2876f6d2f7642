/**
 * The KRaft parts of a node (issue 11), wired around a started Broker: the Raft node on the metadata log
 * `__cluster_metadata-0`, the controller (on nodes with the controller role) and the CONTROLLER listener
 * that serves both, the metadata loader that turns committed records into the broker's images, and the
 * broker's lifecycle (registration, heartbeats, controlled shutdown). src/app.ts starts this on every node:
 * without `controller.quorum.voters` the node is a quorum of one voter (config.ts derives it, its CONTROLLER
 * listener on a free loopback port), as Kafka's combined quickstart node; docs/cluster.md draws the picture.
 * An old single-node data directory's `samsa-topics.json` is migrated into the metadata log on its first
 * start (src/broker/legacy-topics.ts), and any node's old `samsa-broker-configs.json` too, as ConfigRecords
 * written through the controller once the node is unfenced (Broker.migrateLegacyDynamicConfigs).
 *
 * Start order (Kafka's SharedServer/ControllerServer/BrokerServer, reduced to what Samsa has):
 *   1. the Raft node opens the metadata log and quorum-state, the CONTROLLER listener starts answering
 *      Vote/Fetch/... and the controller's requests;
 *   2. the loader applies the committed records as the high watermark moves (a restarted node replays
 *      its log first, then catches up from the leader); the broker gets no image before step 3's
 *      registration is accepted and the loader has reached it (Kafka's initialCatchUpFuture);
 *   3. once the client listener is bound, the broker registers and heartbeats; `startBroker` resolves
 *      when the controller has unfenced it, its image has the unfencing, the migrations (if any) are done
 *      and stray replica directories are moved aside.
 * A broker-only node (`process.roles=broker`) runs the Raft node as an observer (it fetches the metadata
 * log from the leader, never votes) and has no controller and no CONTROLLER listener; its loader and
 * lifecycle are the same (registration reaches the active controller through the ControllerChannel).
 * Given controller.quorum.bootstrap.servers instead of the voters (KIP-853), it asks those for the leader
 * and reaches the leader at the endpoint their Fetch answers name, for the metadata log and the
 * ControllerChannel alike.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AllocateProducerIds } from '../protocol/messages/allocate-producer-ids.js';
import { ErrorCode } from '../protocol/errors.js';
import type { Broker } from './broker/broker.js';
import { BrokerLifecycle } from './broker/broker-lifecycle.js';
import { ControllerChannel, topLevelNotController } from './broker/controller-channel.js';
import { MetadataImage } from './broker/metadata-image.js';
import { imageToRecords } from './broker/metadata-image-records.js';
import { MetadataLoader } from './broker/metadata-loader.js';
import type { BrokerConfig } from './config.js';
import { ControllerService } from './controller/controller-service.js';
import { METADATA_VERSION, QuorumController } from './controller/quorum-controller.js';
import { bootstrapServerId, quorumConfig } from './controller/raft/config.js';
import { ControllerDispatcher, raftHandlers } from './controller/raft/raft-handlers.js';
import { RaftNode } from './controller/raft/raft-node.js';
import { METADATA_LOG_DIR_NAME } from './controller/raft/raft-store.js';
import { SeededRandom } from './controller/raft/random.js';
import { Server } from './server/server.js';
import { markLegacyMetadataMigrated, readLegacyMetadata, type LegacyMetadata } from './broker/legacy-topics.js';
import { LogDirFailureError } from '../storage/errors.js';
import type { Clock } from './util/clock.js';

export interface KRaftNode {
  readonly raft: RaftNode;
  readonly controller: ControllerService | null;
  readonly loader: MetadataLoader;
  readonly lifecycle: BrokerLifecycle;
  /** The bound port of the CONTROLLER listener (null on a broker-only node). */
  readonly controllerPort: number | null;
  /** Registers the broker and resolves once the controller has unfenced it. */
  startBroker(listener: { name: string; host: string; port: number }, signal?: AbortSignal): Promise<void>;
  /**
   * Controlled shutdown (unless `controlled` is false: after a fault, when the metadata cannot be
   * trusted), then the listener and the Raft node stop (the Broker is the caller's).
   */
  close(options?: { controlled: boolean }): Promise<void>;
}

/**
 * The logger of the quorum's routine steps (the log loaded, the election, becoming the active controller,
 * registration, unfencing, controlled shutdown). On the single-node default they are the same every
 * start and say nothing to a user of `npm start`, who sees one start-up line as before: there they are
 * logged only at debug (warnings and errors always). A configured cluster logs them at info.
 */
export function quorumStepLogger(config: BrokerConfig, logger: Logger): Logger {
  if (config.quorum.votersConfigured || config.protocolTrace || logger.isLevelEnabled('debug')) return logger;
  return logger.child({}, { level: 'warn' });
}

/**
 * The channel a broker in KRaft mode sends its controller requests through; its leader hint (and, for a
 * node without controller.quorum.voters, where the leader is) is set later, from the Raft node.
 */
export function createControllerChannel(
  config: BrokerConfig,
  clock: Clock,
  logger: Logger,
): { channel: ControllerChannel; setLeaderHint: (hint: () => number, address?: (id: number) => { host: string; port: number } | null) => void } {
  let hint: () => number = () => -1;
  let address: (id: number) => { host: string; port: number } | null = () => null;
  const channel = new ControllerChannel({
    nodeId: config.nodeId,
    controllers: config.quorum.voters.map((v) => ({ id: v.id, host: v.host, port: v.port })),
    leaderHint: () => hint(),
    leaderAddress: (id) => address(id),
    clock,
    logger: quorumStepLogger(config, logger).child({ component: 'controller-channel' }),
    requestTimeoutMs: config.quorum.requestTimeoutMs,
    trace: config.protocolTrace ? logger : null,
  });
  return {
    channel,
    setLeaderHint: (h, a) => {
      hint = h;
      if (a !== undefined) address = a;
    },
  };
}

/**
 * `onFault` is told once when the node must stop serving: a committed metadata record that does not apply,
 * or the metadata log's disk failing. The caller stops the node (src/app.ts); the CLI then exits 1 and the
 * embedded broker reports the error; nothing here ends the process.
 */
export async function startKRaft(
  config: BrokerConfig,
  broker: Broker,
  channel: ControllerChannel,
  setLeaderHint: (hint: () => number, address?: (id: number) => { host: string; port: number } | null) => void,
  clock: Clock,
  logger: Logger,
  onFault: (err: Error) => void,
): Promise<KRaftNode> {
  const isController = config.processRoles.includes('controller');
  const steps = quorumStepLogger(config, logger);
  // This process's broker incarnation, known to its own controller (QuorumController.registerBroker).
  const incarnationId = randomUUID();
  // A data directory of the old single-node path: its topics go into the new metadata log (legacy-topics.ts).
  const legacy = await readLegacyMetadata(config.logDirs);
  const raftLogger = steps.child({ component: 'raft' });
  // A broker-only node without controller.quorum.voters finds the quorum through its bootstrap servers (KIP-853).
  const bootstrapServers = config.quorum.voters.length === 0 ? config.quorum.bootstrapServers.map((b, i) => ({ id: bootstrapServerId(i), host: b.host, port: b.port })) : [];
  const raft = await RaftNode.open({
    config: quorumConfig({
      nodeId: config.nodeId,
      clusterId: config.clusterId,
      voters: config.quorum.voters.map((v) => v.id),
      bootstrapServers: bootstrapServers.map((b) => b.id),
      electionTimeoutMs: config.quorum.electionTimeoutMs,
      fetchTimeoutMs: config.quorum.fetchTimeoutMs,
      electionBackoffMaxMs: config.quorum.electionBackoffMaxMs,
      requestTimeoutMs: config.quorum.requestTimeoutMs,
      retryBackoffMs: config.quorum.retryBackoffMs,
      appendLingerMs: config.quorum.appendLingerMs,
    }),
    voters: config.quorum.voters,
    bootstrapServers,
    dir: join(config.metadataLog.dir, METADATA_LOG_DIR_NAME),
    clock,
    random: new SeededRandom(randomInt(0x7fffffff)),
    // RaftNode names itself (component raft); raftLogger (the same name) is for the lines written here.
    logger: steps,
    segmentBytes: config.metadataLog.segmentBytes,
    maxRetentionBytes: config.metadataLog.maxRetentionBytes,
    maxRetentionMs: config.metadataLog.maxRetentionMs,
  });
  setLeaderHint(
    () => raft.leader.leaderId,
    (id) => raft.endpointOf(id),
  );

  // A broker-only node is an observer of the quorum: no controller, nothing listening for the voters.
  const controller = isController
    ? new ControllerService({
        raft,
        controller: new QuorumController({ nodeId: config.nodeId, clusterId: config.clusterId, config, random: new SeededRandom(randomInt(0x7fffffff)), localBrokerIncarnationId: incarnationId }),
        clusterId: config.clusterId,
        clock,
        logger: steps.child({ component: 'controller' }),
        legacy,
      })
    : null;
  let server: Server | null = null;
  let controllerPort: number | null = null;
  if (controller !== null) {
    const dispatcher = new ControllerDispatcher([...raftHandlers(raft), ...controller.handlers()], steps.child({ component: 'controller-listener' }), config.protocolTrace);
    server = new Server(dispatcher, config.socketRequestMaxBytes, logger);
    const cl = config.controllerListener!;
    try {
      controllerPort = await server.listen(cl.host, cl.port, cl.name);
    } catch (err) {
      await raft.close();
      throw err;
    }
    // The single-node default's CONTROLLER listener takes any free port: the broker dials the bound one.
    if (cl.port === 0) channel.bindLocal(config.nodeId, cl.host, controllerPort);
  }

  broker.quorum = {
    leaderId: () => raft.leader.leaderId,
    epoch: () => raft.leader.epoch,
    highWatermark: () => raft.highWatermark,
    logEndOffset: () => raft.logEndOffset,
    state: () => raft.stateName,
    isActiveController: () => controller?.isActive ?? false,
  };
  broker.describeQuorum = () => raft.describeQuorum();

  let fatal: Error | null = null;
  let started = false;
  let failStart: (err: Error) => void = () => undefined;
  // A node whose metadata cannot be applied, or whose metadata log cannot be written, must not serve: the
  // caller stops it, with the reason logged (Kafka's fault handler ends the process; an embedded broker
  // must not end its host's).
  const fail = (err: Error): void => {
    if (fatal !== null) return;
    fatal = err;
    failStart(err);
    onFault(err);
  };
  // Kafka's BrokerServer installs its metadata publishers (ReplicaManager.applyDelta: leader or follower,
  // ISR changes, coordinators) only after the controller accepted this process's registration and the
  // loader caught up to it (initialCatchUpFuture). Before that the image read from the local log is the
  // previous process's view: it may name this node leader at an epoch whose data a crash cut short, and
  // acting on it (leading, proposing ISR changes) could make the followers truncate to the shorter log
  // (fault suite, seed 1301). The registration's own batch moves leadership away from a re-registering
  // broker, so the first image published here already has this process's role.
  let lifecycleRef: BrokerLifecycle | null = null;
  let held: MetadataImage | null = null;
  let publishing = false;
  const openPublication = (): Promise<void> => {
    const epoch = lifecycleRef?.epoch ?? -1n;
    if (publishing || held === null || epoch < 0n || held.offset < Number(epoch)) return Promise.resolve();
    publishing = true;
    const image = held;
    held = null;
    steps.info({ offset: image.offset, brokerEpoch: String(epoch) }, 'caught up to this broker\'s registration; publishing the metadata image');
    return broker.publishImage(image);
  };
  const loader = new MetadataLoader({
    initial: MetadataImage.EMPTY.withCluster(config.clusterId, -1),
    publish: (image) => {
      if (publishing) return broker.publishImage(image);
      held = image;
      return openPublication();
    },
    onFault: fail,
    logger,
    // KIP-630 (snapshots helper): the image is snapshotted as the committed log grows.
    snapshots: {
      maxNewRecordBytes: config.metadataLog.snapshotMaxNewRecordBytes,
      maxIntervalMs: config.metadataLog.snapshotMaxIntervalMs,
      now: () => clock.now(),
      write: (image) => raft.createSnapshot(image.offset + 1, imageToRecords(image)),
    },
  });
  raft.onSnapshotLoaded((snap) => void loader.loadSnapshot(snap.values, snap.id.offset));
  raft.onCommit((records) => void loader.apply(records));
  raft.onLeaderChange((leader) => void loader.setController(leader.leaderId));
  raft.onFatal((err) => {
    // During start-up the failed start says it once (src/app.ts, naming the log directory).
    if (started) raftLogger.fatal({ err }, 'the metadata log failed; stopping');
    fail(err);
  });

  // NOT_CONTROLLER and unreachable controllers are retried by the channel; any other error fails this
  // InitProducerId, which the client retries.
  broker.producerIds.blockAllocator = async () => {
    const { response } = await channel.send(AllocateProducerIds, { brokerId: config.nodeId, brokerEpoch: lifecycle.epoch }, { deadlineMs: config.quorum.requestTimeoutMs * 5, notController: topLevelNotController });
    if (response.errorCode !== ErrorCode.NONE) throw new Error(`AllocateProducerIds failed with error ${response.errorCode}`);
    return { start: Number(response.producerIdStart), length: response.producerIdLen };
  };

  let listener: { name: string; host: string; port: number } | null = null;
  const lifecycle = new BrokerLifecycle({
    nodeId: config.nodeId,
    clusterId: config.clusterId,
    rack: config.props.get('broker.rack') || null,
    listener: () => listener!,
    metadataVersion: { min: 1, max: METADATA_VERSION },
    // What the broker serves from, not what the loader has read: unfenced only once the image that
    // includes this broker's registration is published (its replicas open).
    appliedOffset: () => broker.image.offset,
    channel,
    clock,
    logger: steps.child({ component: 'broker-lifecycle' }),
    heartbeatIntervalMs: config.brokerHeartbeatIntervalMs,
    requestTimeoutMs: config.quorum.requestTimeoutMs,
    incarnationId,
    onRegistered: () => void openPublication().catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err)))),
  });
  lifecycleRef = lifecycle;
  // AlterPartition carries this process's registration epoch, never the previous process's from the image.
  broker.replicaManager.isrManager.localBrokerEpoch = () => lifecycle.epoch;

  /**
   * The old single-node file's topics are in the image with their ids: the file is renamed aside. A topic
   * missing means the metadata log already existed without it (the file appeared later, or the log was
   * written by another path): refused rather than either source silently winning.
   */
  async function finishMigration(from: LegacyMetadata): Promise<void> {
    const image = broker.image;
    const missing = from.topics.filter((t) => image.topic(t.name)?.topicId !== t.topicId || image.topic(t.name)!.partitions.length < t.numPartitions);
    if (missing.length > 0) {
      throw new LogDirFailureError(
        `Topic metadata file ${from.path} names topic(s) ${missing.map((t) => t.name).join(', ')} that the metadata log ${join(config.metadataLog.dir, METADATA_LOG_DIR_NAME)} does not have (or has with another topic id); refusing to start rather than choose between them. Remove one of the two.`,
        from.path,
      );
    }
    const to = await markLegacyMetadataMigrated(from, config.logDirs);
    logger.info({ topics: from.topics.length, renamedTo: to }, `migrated ${from.topics.length} topic(s) of ${from.path} into the metadata log`);
  }

  return {
    raft,
    controller,
    loader,
    lifecycle,
    controllerPort,
    async startBroker(l, signal) {
      listener = l;
      steps.info(
        config.quorum.voters.length > 0 ? { voters: config.quorum.voters.map((v) => v.id) } : { bootstrapServers: config.quorum.bootstrapServers.map((b) => `${b.host}:${b.port}`) },
        'registering with the controller quorum; waiting to be unfenced',
      );
      const aborted = new Promise<never>((_, reject) => {
        if (signal?.aborted) reject(new Error('start-up aborted'));
        signal?.addEventListener('abort', () => reject(new Error('start-up aborted')), { once: true });
        // A fault while waiting to be unfenced ends the start-up with it (the node would never be unfenced).
        if (fatal !== null) reject(fatal);
        failStart = reject;
      });
      await Promise.race([lifecycle.start(), aborted]);
      if (fatal) throw fatal;
      // The controller's answer can come before this node applied the batch that unfenced it (and elected it
      // leader of its leaderless partitions): clients are let in once the image has it.
      await broker.awaitImage((image) => image.brokers.get(config.nodeId)?.fenced === false, config.quorum.requestTimeoutMs);
      // Unfenced: the image has every record committed before this start (our registration is after them).
      if (legacy !== null) await finishMigration(legacy);
      // An old samsa-broker-configs.json: its values go into the metadata log through the controller.
      await broker.migrateLegacyDynamicConfigs();
      // Kafka's stray replica check, once the image is caught up (LogManager.findStrayReplicas); a log
      // directory that failed while loading fails the start.
      await broker.finishLoading();
      if (fatal) throw fatal;
      started = true;
    },
    async close(options = { controlled: true }) {
      if (options.controlled) await lifecycle.controlledShutdown(Math.max(config.brokerSessionTimeoutMs / 2, 1000));
      else lifecycle.stop();
      channel.close();
      controller?.close();
      await server?.close();
      await raft.close();
    },
  };
}
