/**
 * The controller of a node with the controller role (Kafka's QuorumController event loop, KIP-631): the
 * pure QuorumController (quorum-controller.ts) driven by the Raft node (raft/raft-node.ts).
 *
 * - Every voter keeps the image of the committed metadata records (onCommit), so a new leader starts
 *   from it at once. A voter becomes the ACTIVE controller only once it leads and every record of its log
 *   is committed (the LeaderChange of its epoch included): from then its QuorumController starts from the
 *   committed image, and an empty log gets the bootstrap records (metadata.version) first.
 * - A request (BrokerRegistration, BrokerHeartbeat, CreateTopics, ...) becomes records proposed as one
 *   batch; they are applied to the controller's own state at once (the next request sees them, as Kafka's
 *   controller applies on append), and the answer is sent once the batch is committed. Operations run one
 *   at a time, so the offsets the controller predicts (a broker's epoch is its registration's offset) are
 *   the ones the log gives.
 * - Losing the leadership, or a proposal refused, drops the uncommitted state: requests in flight are
 *   answered NOT_CONTROLLER (the broker's channel sends them to the new leader), and the next activation
 *   starts again from the committed image.
 * - `tick` runs every `tickIntervalMs` on the injected clock while active: brokers whose session expired
 *   are fenced and their partitions get new leaders from the ISR.
 * - Automatic preferred leader election (auto.leader.rebalance.enable, Kafka's
 *   maybeScheduleNextBalancePartitionLeaders): after every operation, and on activation, the controller is
 *   asked whether a balancing pass is due; if so a timer runs it then (leader.imbalance.check.interval.seconds
 *   after leaders became imbalanced, 10 ms after a pass that stopped at its 1000-election cap).
 *
 * No timers or wall clock here: time comes from the Clock (src/util/clock.ts), as in the Raft core.
 */
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import { AllocateProducerIds } from '../../protocol/messages/allocate-producer-ids.js';
import { AlterConfigs } from '../../protocol/messages/alter-configs.js';
import { AlterPartition } from '../../protocol/messages/alter-partition.js';
import { BrokerHeartbeat } from '../../protocol/messages/broker-heartbeat.js';
import { BrokerRegistration } from '../../protocol/messages/broker-registration.js';
import { CreatePartitions } from '../../protocol/messages/create-partitions.js';
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { DeleteTopics } from '../../protocol/messages/delete-topics.js';
import { ElectLeaders } from '../../protocol/messages/elect-leaders.js';
import { IncrementalAlterConfigs } from '../../protocol/messages/incremental-alter-configs.js';
import { UnregisterBroker } from '../../protocol/messages/unregister-broker.js';
import { decodeMetadataRecord, type DecodedMetadataRecord } from '../../protocol/metadata/serde.js';
import { NULL_UUID } from '../../protocol/primitives.js';
import { MetadataImage } from '../broker/metadata-image.js';
import { applyMetadataRecord } from '../broker/metadata-replay.js';
import { imageFromRecords } from '../broker/metadata-image-records.js';
import type { LegacyMetadata } from '../broker/legacy-topics.js';
import type { Clock, Timer } from '../util/clock.js';
import { electLeadersErrorResponse } from './elect-leaders-response.js';
import { encodeControllerRecords, QuorumController, type ControllerResult } from './quorum-controller.js';
import { defineControllerHandler, type AnyControllerHandler } from './raft/raft-handlers.js';
import { NotControllerError, type CommittedRecord, type RaftNode } from './raft/raft-node.js';

export interface ControllerServiceOptions {
  readonly raft: RaftNode;
  readonly controller: QuorumController;
  readonly clusterId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often an active controller checks broker sessions. */
  readonly tickIntervalMs?: number;
  /** An old single-node data directory's topics, written with the bootstrap records of an empty log. */
  readonly legacy?: LegacyMetadata | null;
}

export class ControllerService {
  private committed: MetadataImage;
  private active = false;
  private activeEpoch = -1;
  /** The offset the next proposed record gets (active only). */
  private nextOffset = 0;
  private tickTimer: Timer | null = null;
  /** The scheduled balancing pass (auto.leader.rebalance.enable), while active. */
  private balanceTimer: Timer | null = null;
  private closed = false;

  constructor(private readonly o: ControllerServiceOptions) {
    this.committed = MetadataImage.EMPTY.withCluster(o.clusterId, -1);
    // KIP-630: a snapshot (loaded at start, or fetched from the leader) is the committed image; records follow it.
    o.raft.onSnapshotLoaded((snap) => {
      this.committed = imageFromRecords(snap.values, snap.id.offset, this.committed);
    });
    o.raft.onCommit((records) => this.onCommit(records));
    o.raft.onLeaderChange((leader) => this.onLeaderChange(leader.leaderId, leader.epoch, leader.isLocal));
  }

  /** This node is the active controller (it leads the quorum and has caught up with its log). */
  get isActive(): boolean {
    return this.active;
  }

  /** The image of the committed metadata (every voter keeps it). */
  get committedImage(): MetadataImage {
    return this.committed;
  }

  close(): void {
    this.closed = true;
    this.deactivate('closing');
  }

  private onCommit(records: readonly CommittedRecord[]): void {
    let image = this.committed;
    for (const r of records) {
      if (r.offset <= image.offset) continue;
      if (r.control !== null) {
        image = image.withOffset(r.offset);
        continue;
      }
      try {
        image = applyMetadataRecord(image, decodeMetadataRecord(r.value), r.offset);
      } catch (err) {
        // The broker side (MetadataLoader) reports the fault and stops the node; the controller stays inactive.
        this.o.logger.fatal({ err, offset: r.offset }, 'a committed metadata record does not apply; the controller stops');
        this.committed = image;
        this.deactivate('metadata fault');
        this.closed = true;
        return;
      }
    }
    this.committed = image;
    this.maybeActivate();
  }

  private onLeaderChange(leaderId: number, epoch: number, isLocal: boolean): void {
    if (!isLocal || epoch !== this.activeEpoch) this.deactivate(`leader is now ${leaderId} in epoch ${epoch}`);
    if (isLocal) this.maybeActivate();
  }

  private maybeActivate(): void {
    const { raft } = this.o;
    if (this.closed || this.active || !raft.isLeader) return;
    // Everything on our log is committed and applied: the LeaderChange of this epoch included.
    if (raft.highWatermark < raft.logEndOffset || this.committed.offset < raft.logEndOffset - 1) return;
    this.active = true;
    this.activeEpoch = raft.leader.epoch;
    this.nextOffset = raft.logEndOffset;
    this.o.controller.reset(this.committed);
    this.o.logger.info({ epoch: this.activeEpoch, offset: this.nextOffset }, `active controller in epoch ${this.activeEpoch}`);
    if (!this.committed.features.has('metadata.version')) {
      void this.run(() => ({ records: this.o.controller.bootstrapRecords(this.o.legacy ?? null), response: null })).catch((err: unknown) => this.o.logger.warn({ err }, 'writing the bootstrap records failed'));
    }
    this.scheduleTick();
    this.maybeScheduleBalance();
  }

  private deactivate(reason: string): void {
    if (!this.active) return;
    this.active = false;
    this.activeEpoch = -1;
    this.tickTimer?.cancel();
    this.tickTimer = null;
    this.balanceTimer?.cancel();
    this.balanceTimer = null;
    this.o.logger.info({ reason }, 'no longer the active controller');
  }

  private scheduleTick(): void {
    if (!this.active || this.closed) return;
    this.tickTimer = this.o.clock.schedule(this.o.tickIntervalMs ?? 500, () => {
      this.tickTimer = null;
      void this.run((c, now) => c.tick(now))
        .then((r) => {
          if (r && r.fencedBrokers.length > 0) this.o.logger.info({ brokers: r.fencedBrokers }, `fenced broker(s) ${r.fencedBrokers.join(', ')}: session expired`);
        })
        .catch(() => undefined)
        .finally(() => this.scheduleTick());
    });
  }

  /** Sets the balancing timer when the controller schedules a pass (see QuorumController.maybeScheduleNextBalancePartitionLeaders). */
  private maybeScheduleBalance(): void {
    if (!this.active || this.closed) return;
    const now = this.o.clock.now();
    const due = this.o.controller.maybeScheduleNextBalancePartitionLeaders(now);
    if (due === null) return;
    this.balanceTimer?.cancel();
    this.balanceTimer = this.o.clock.schedule(Math.max(0, due - now), () => {
      this.balanceTimer = null;
      void this.run((c, at) => c.maybeBalancePartitionLeaders(at))
        .then((r) => {
          if (r && r.elected.length > 0) {
            this.o.logger.info({ partitions: r.elected.map((e) => `${e.topic}-${e.partition}`) }, `preferred leader election: ${r.elected.length} partition(s) led by their preferred replica again`);
          }
        })
        .catch((err: unknown) => this.o.logger.warn({ err }, 'automatic preferred leader election failed'));
    });
  }

  /**
   * Runs one controller operation: its records are applied to the controller's state and proposed as one
   * batch; resolves with its answer once they are committed, with null when this node is not (or stops
   * being) the active controller.
   */
  async run<R>(op: (controller: QuorumController, now: number, nextOffset: number) => ControllerResult<R>): Promise<R | null> {
    // Synchronous up to the propose call: operations are applied and appended in call order, and the next
    // one may start before this one commits (pipelining, as Kafka's controller does).
    if (!this.active) return null;
    const epoch = this.activeEpoch;
    const { controller, raft, clock } = this.o;
    const result = op(controller, clock.now(), this.nextOffset);
    if (result.records.length === 0) {
      this.maybeScheduleBalance();
      return result.response;
    }
    const base = this.nextOffset;
    result.records.forEach((r: DecodedMetadataRecord, i: number) => controller.replay(r, base + i));
    this.nextOffset += result.records.length;
    // As Kafka's ControllerWriteEvent: once an operation's records are applied, a balancing pass may be due.
    this.maybeScheduleBalance();
    try {
      await raft.propose(encodeControllerRecords(result.records));
    } catch (err) {
      if (!(err instanceof NotControllerError)) this.o.logger.error({ err }, 'proposing metadata records failed');
      if (this.activeEpoch === epoch) this.deactivate('a proposal was not committed');
      return null;
    }
    return result.response;
  }

  /** The controller-listener handlers of the operations above (the Raft RPCs are raftHandlers). */
  handlers(): AnyControllerHandler[] {
    const NOT_CONTROLLER = ErrorCode.NOT_CONTROLLER;
    const notControllerMessage = 'This is not the correct controller for this cluster.';
    return [
      defineControllerHandler(BrokerRegistration, {
        minVersion: 0,
        maxVersion: 4,
        handle: async (_ctx, req) => (await this.run((c, now, next) => c.registerBroker(now, req, next))) ?? { throttleTimeMs: 0, errorCode: NOT_CONTROLLER, brokerEpoch: -1n },
      }),
      defineControllerHandler(BrokerHeartbeat, {
        minVersion: 0,
        maxVersion: 2,
        handle: async (_ctx, req) =>
          (await this.run((c, now) => c.brokerHeartbeat(now, req, this.committed.offset))) ?? { throttleTimeMs: 0, errorCode: NOT_CONTROLLER, isCaughtUp: false, isFenced: true, shouldShutDown: false },
      }),
      defineControllerHandler(UnregisterBroker, {
        minVersion: 0,
        maxVersion: 0,
        handle: async (_ctx, req) => (await this.run((c, now) => c.unregisterBroker(now, req))) ?? { throttleTimeMs: 0, errorCode: NOT_CONTROLLER, errorMessage: notControllerMessage },
      }),
      defineControllerHandler(CreateTopics, {
        minVersion: 2,
        maxVersion: 7,
        handle: async (ctx, req) =>
          (await this.run((c, now) => c.createTopics(now, req, ctx.apiVersion))) ?? {
            throttleTimeMs: 0,
            topics: req.topics.map((t) => ({ name: t.name, topicId: NULL_UUID, errorCode: NOT_CONTROLLER, errorMessage: notControllerMessage, numPartitions: -1, replicationFactor: -1, configs: null })),
          },
      }),
      defineControllerHandler(CreatePartitions, {
        minVersion: 0,
        maxVersion: 3,
        handle: async (ctx, req) =>
          (await this.run((c, now) => c.createPartitions(now, req, ctx.apiVersion))) ?? { throttleTimeMs: 0, results: req.topics.map((t) => ({ name: t.name, errorCode: NOT_CONTROLLER, errorMessage: notControllerMessage })) },
      }),
      defineControllerHandler(DeleteTopics, {
        minVersion: 1,
        maxVersion: 6,
        handle: async (ctx, req) =>
          (await this.run((c, now) => c.deleteTopics(now, req, ctx.apiVersion))) ?? {
            throttleTimeMs: 0,
            responses: (ctx.apiVersion >= 6 ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId })) : req.topicNames.map((name) => ({ name, topicId: NULL_UUID }))).map((t) => ({ ...t, errorCode: NOT_CONTROLLER, errorMessage: notControllerMessage })),
          },
      }),
      defineControllerHandler(AlterConfigs, {
        minVersion: 0,
        maxVersion: 2,
        handle: async (_ctx, req) =>
          (await this.run((c, now) => c.alterConfigs(now, req))) ?? { throttleTimeMs: 0, responses: req.resources.map((r) => ({ errorCode: NOT_CONTROLLER, errorMessage: notControllerMessage, resourceType: r.resourceType, resourceName: r.resourceName })) },
      }),
      defineControllerHandler(IncrementalAlterConfigs, {
        minVersion: 0,
        maxVersion: 1,
        handle: async (_ctx, req) =>
          (await this.run((c, now) => c.incrementalAlterConfigs(now, req))) ?? { throttleTimeMs: 0, responses: req.resources.map((r) => ({ errorCode: NOT_CONTROLLER, errorMessage: notControllerMessage, resourceType: r.resourceType, resourceName: r.resourceName })) },
      }),
      defineControllerHandler(AlterPartition, {
        minVersion: 2,
        maxVersion: 3,
        handle: async (ctx, req) => (await this.run((c, now) => c.alterPartition(now, req, ctx.apiVersion))) ?? { throttleTimeMs: 0, errorCode: NOT_CONTROLLER, topics: [] },
      }),
      defineControllerHandler(AllocateProducerIds, {
        minVersion: 0,
        maxVersion: 0,
        handle: async (_ctx, req) => (await this.run((c, now) => c.allocateProducerIds(now, req))) ?? { throttleTimeMs: 0, errorCode: NOT_CONTROLLER, producerIdStart: -1n, producerIdLen: 0 },
      }),
      defineControllerHandler(ElectLeaders, {
        minVersion: 0,
        maxVersion: 2,
        handle: async (ctx, req) => {
          const response = await this.run((c, now) => c.electLeaders(now, req, ctx.apiVersion));
          return response ?? electLeadersErrorResponse(req, NOT_CONTROLLER, notControllerMessage, ctx.apiVersion);
        },
      }),
    ];
  }
}
