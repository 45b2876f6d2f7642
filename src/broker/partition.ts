/**
 * One partition replica hosted on this node (Kafka's Partition), created and given its role by the
 * replica manager (replica-manager.ts): `makeLeader` sets the leader epoch, replicas and ISR from the
 * metadata image's registration.
 *
 * The high watermark (HW) is state of the partition, advanced by maybeIncrementHighWatermark to the smallest
 * log end offset of the in-sync replicas (Kafka's rule, cluster.md A.6). On a single node the ISR is this
 * node alone, so the HW reaches the log end offset right after each append, and an acks=all produce (a
 * delayed operation of the replica manager) completes at once. The last stable offset equals the HW (no
 * transactions yet), which librdkafka's default read_committed consumers read up to.
 *
 * For long-polling fetches the partition remembers, for its recent appends, the cumulative byte count at
 * each batch end; a waiting fetch can then tell synchronously how many bytes lie past its fetch offset.
 *
 * Idempotent producers (KIP-98): appends go through `producers` (partition-producer-state.ts), which checks
 * sequences and epochs atomically with the append and answers a retried batch with its original offset.
 * Truncations must go through this class (truncateTo, truncateFullyAndStartAt) so the producer state is
 * rebuilt with the log.
 *
 * Replication (issue 12, Kafka's Partition.scala and Replica.scala; docs/replication.md):
 * - As leader, each replica Fetch reports the follower's log end offset (updateFollowerFetchState), which
 *   may move the HW, completing acks=all produces, and may add the follower to the ISR. A follower that
 *   has not caught up within replica.lag.time.max.ms is removed (maybeShrinkIsr). ISR changes are proposed
 *   to the controller (AlterPartition, through `hooks.alterPartition`) and only the committed ISR counts
 *   for min.insync.replicas; while an expansion is in flight the HW already waits for the new member too
 *   (KIP-497's "maximal ISR": the committed ISR plus pending additions), so the ISR the controller commits
 *   never includes a replica lacking a record below the HW.
 * - As follower, the replica fetcher (replica-fetcher.ts) appends the leader's batches as they are
 *   (appendAsFollower: offsets and epochs kept, producer state recorded) and sets the HW to
 *   min(leader's HW, own LEO).
 * - Either way the HW starts, when the log is opened, from the one the replica manager checkpointed in
 *   `replication-offset-checkpoint` (initializeHighWatermark), so it does not go back across a restart.
 */
import type { AppendPosition, Log } from '../../storage/log.js';
import { OffsetOutOfRangeError } from '../../storage/errors.js';
import type { ReadAlloc } from '../../storage/read-buffers.js';
import { isControl, readBatchHeader, setLogAppendTime, splitBatches, timestampTypeIsLogAppend } from '../../protocol/records/batch.js';
import { readRecords } from '../../protocol/records/record.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../../protocol/records/compression.js';
import { validateBatchRecords, type RecordError } from '../../protocol/records/validate.js';
import { ErrorCode } from '../../protocol/errors.js';
import { hasCompactPolicy, hasDeletePolicy } from '../../storage/log-config.js';
import { PartitionProducerState, type AppendingBatch, type ProducerStateOptions } from './partition-producer-state.js';
import type { PartitionRegistration } from './metadata-image.js';
import type { Logger } from 'pino';
import { BrokerNotRegisteredError } from './isr-errors.js';

export interface AppendResult {
  errorCode: number;
  errorMessage: string | null;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
  /** KIP-467: the records that made the batch fail (Produce v8+ answers them). */
  recordErrors: RecordError[];
  /** The offset after the appended batch (-1 on failure): acks=all waits until the HW reaches it. */
  nextOffset: number;
}

/** The topic settings an append reads (resolved once per config change by the broker). */
export interface PartitionSettings {
  maxMessageBytes: number;
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
  /** message.timestamp.before.max.ms / after.max.ms (KIP-937); Infinity = not checked. */
  timestampBeforeMaxMs: number;
  timestampAfterMaxMs: number;
  /** min.insync.replicas (topic, else broker): acks=all needs this many in-sync replicas. */
  minInSyncReplicas: number;
}

/** A leader's fetch answer that is not whole, valid record batches: the follower appends none of it. */
export class CorruptReplicaDataError extends Error {
  override readonly name = 'CorruptReplicaDataError';
}

const RECENT_APPENDS = 4096;
const EMPTY = Buffer.alloc(0);

/**
 * What the leader knows of one follower (Kafka's ReplicaState), updated in place by each of its fetches.
 * `logEndOffset` is -1 until its first fetch in the current leader epoch.
 */
interface FollowerState {
  logEndOffset: number;
  /** The last time the follower was known to have every record the leader had (Replica.lastCaughtUpTimeMs). */
  lastCaughtUpTimeMs: number;
  /** The leader's LEO when the follower last fetched, and when that was. */
  lastFetchLeaderLogEndOffset: number;
  lastFetchTimeMs: number;
}

/** An ISR change sent to the controller and not answered yet (Kafka's PendingExpandIsr / PendingShrinkIsr). */
interface PendingIsrChange {
  readonly kind: 'expand' | 'shrink';
  readonly proposedIsr: readonly number[];
  /** The ISR the HW waits for meanwhile: the committed ISR plus the replica being added (KIP-497). */
  readonly maximalIsr: readonly number[];
}

/** The leader's proposal of a new ISR (AlterPartition v2+, one partition). */
export interface IsrProposal {
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly newIsr: readonly number[];
}

/** The controller's answer for one partition of an AlterPartition. */
export interface IsrProposalResult {
  readonly errorCode: number;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly isr: readonly number[];
  readonly partitionEpoch: number;
}

/** What a leader partition needs from the rest of the broker for its ISR (set by the replica manager). */
export interface PartitionIsrHooks {
  /** Sends the proposal to the controller (isr-manager.ts); rejects when the controller cannot be reached. */
  readonly alterPartition: (partition: Partition, proposal: IsrProposal) => Promise<IsrProposalResult>;
  /** KIP-841: only an unfenced broker not in controlled shutdown may join an ISR. */
  readonly isReplicaIsrEligible: (replicaId: number) => boolean;
  /** replica.lag.time.max.ms */
  readonly replicaLagTimeMaxMs: () => number;
  readonly logger: Logger;
}

/** Errors after which Kafka waits for the next metadata update instead of retrying (Partition.handleAlterPartitionError). */
const AWAIT_METADATA_ERRORS: ReadonlySet<number> = new Set([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_ID, ErrorCode.FENCED_LEADER_EPOCH, ErrorCode.INVALID_UPDATE_VERSION, ErrorCode.NEW_LEADER_ELECTED]);

export class Partition {
  private epoch = -1;
  private leader = false;
  /** This node's id (set by makeLeader): its LEO is the log's, the other replicas' come from their fetches. */
  private localNodeId = -1;
  /**
   * The high watermark: the offset up to which every in-sync replica has the records (Kafka's
   * Partition.maybeIncrementLeaderHW). Consumers read below it; acks=all completes when it covers the batch.
   */
  private hw = 0;
  /** What this leader knows of each follower (replica fetches), reset on every new leader epoch. */
  private readonly followers = new Map<number, FollowerState>();
  /** The assigned replicas and the committed ISR, from the image's registration or an AlterPartition answer. */
  private assignment: { replicas: readonly number[]; isr: readonly number[] } = { replicas: [], isr: [] };
  /** KIP-841's partition epoch of the committed state above; AlterPartition names it. */
  private partitionEpochValue = -1;
  /** The LEO when this node became leader at the current epoch: a follower joins the ISR only past it. */
  private leaderEpochStartOffset = -1;
  /** The ISR change in flight to the controller, at most one (Kafka's isInflight). */
  private pendingIsr: PendingIsrChange | null = null;
  /** Set by the replica manager in a cluster; without it the ISR never changes (single node). */
  isrHooks: PartitionIsrHooks | null = null;
  private appendedBytes = 0;
  /** Ring of (lastOffset + 1, cumulative bytes after that batch), oldest first. */
  private readonly recentEnds: { nextOffset: number; bytes: number }[] = [];
  /** Idempotent producer state: checked and recorded with every append, snapshotted beside the log. */
  readonly producers: PartitionProducerState;

  constructor(
    readonly topic: string,
    readonly topicId: string,
    readonly partition: number,
    readonly log: Log,
    private readonly onAppend: (p: Partition) => void,
    private readonly settings: () => PartitionSettings,
    producerStateOptions: ProducerStateOptions = {},
  ) {
    this.producers = new PartitionProducerState(log, producerStateOptions);
    this.now = producerStateOptions.now ?? Date.now;
  }

  private readonly now: () => number;

  /** The current leader epoch (-1 before the partition gets a role). */
  get leaderEpoch(): number {
    return this.epoch;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  get replicas(): readonly number[] {
    return this.assignment.replicas;
  }

  /** The committed ISR (what min.insync.replicas counts). */
  get isr(): readonly number[] {
    return this.assignment.isr;
  }

  /** The committed ISR plus a replica being added (KIP-497): the replicas the HW waits for. */
  get maximalIsr(): readonly number[] {
    return this.pendingIsr?.maximalIsr ?? this.assignment.isr;
  }

  get partitionEpoch(): number {
    return this.partitionEpochValue;
  }

  /** An ISR change is waiting for the controller's answer. */
  get isrChangeInFlight(): boolean {
    return this.pendingIsr !== null;
  }

  /**
   * The leader's view of each follower (the web console, tools): its last reported LEO (-1: not fetched
   * in this leader epoch), how far it is behind this log's end, and when it was last caught up.
   */
  followerStates(): { nodeId: number; logEndOffset: number; lag: number | null; lastCaughtUpTimeMs: number; inSync: boolean }[] {
    const out = [];
    const end = this.log.logEndOffset;
    for (const [nodeId, f] of this.followers) {
      out.push({ nodeId, logEndOffset: f.logEndOffset, lag: f.logEndOffset < 0 ? null : end - f.logEndOffset, lastCaughtUpTimeMs: f.lastCaughtUpTimeMs, inSync: this.assignment.isr.includes(nodeId) });
    }
    return out;
  }

  /** The LEO a follower last reported (-1 when not known in this leader epoch); for tools and tests. */
  followerLogEndOffset(replicaId: number): number {
    return this.followers.get(replicaId)?.logEndOffset ?? -1;
  }

  /**
   * Kafka's Partition.makeLeader: takes the registration's epoch, replicas and ISR. A new epoch starts at
   * the log end offset, recorded before any append, so OffsetForLeaderEpoch answers for an empty partition
   * too (KIP-101). On a new epoch the followers' states restart: their LEOs are unknown until they fetch
   * (so the HW waits for them), and an in-sync follower counts as caught up now, as Kafka's
   * resetReplicaState does, so it is not dropped from the ISR before it could fetch.
   */
  makeLeader(registration: PartitionRegistration, localNodeId: number): void {
    if (registration.leaderEpoch < this.epoch) return; // a stale registration
    const newEpoch = registration.leaderEpoch > this.epoch || !this.leader;
    // The committed state may be known from the AlterPartition answer before the image brings it: an
    // image with an older partition epoch at the same leader epoch is stale (Kafka's makeLeader).
    if (!newEpoch && registration.partitionEpoch < this.partitionEpochValue) return;
    const unchanged = !newEpoch && registration.partitionEpoch === this.partitionEpochValue && sameIds(registration.isr, this.assignment.isr) && sameIds(registration.replicas, this.assignment.replicas);
    this.epoch = registration.leaderEpoch;
    this.localNodeId = localNodeId;
    this.assignment = { replicas: registration.replicas, isr: registration.isr };
    this.partitionEpochValue = registration.partitionEpoch;
    this.leader = true;
    if (!unchanged) this.pendingIsr = null;
    if (this.log.leaderEpochCache.latestEpoch() < this.epoch) this.log.leaderEpochCache.assign(this.epoch, this.log.logEndOffset);
    const now = this.now();
    if (newEpoch) {
      this.leaderEpochStartOffset = this.log.logEndOffset;
      this.followers.clear();
    }
    for (const id of registration.replicas) {
      if (id === localNodeId) continue;
      let f = this.followers.get(id);
      if (!f) this.followers.set(id, (f = { logEndOffset: -1, lastCaughtUpTimeMs: 0, lastFetchLeaderLogEndOffset: -1, lastFetchTimeMs: 0 }));
      if (newEpoch && registration.isr.includes(id)) f.lastCaughtUpTimeMs = now;
    }
    for (const id of [...this.followers.keys()]) if (!registration.replicas.includes(id)) this.followers.delete(id);
    // The HW is never below the log start offset; with the ISR at hand it may move up at once.
    this.hw = Math.min(Math.max(this.hw, this.log.logStartOffset), this.log.logEndOffset);
    if (this.maybeIncrementHighWatermark()) this.onAppend(this);
  }

  /**
   * Kafka's Partition.makeFollower: takes the registration's leader epoch, replicas and ISR; the replica
   * stops answering as leader (Produce and consumer Fetch get NOT_LEADER_OR_FOLLOWER). The follower's log
   * is filled by the replica fetcher (replica-fetcher.ts), which also truncates a diverging suffix by
   * leader epoch. Returns whether this is a new leader epoch (the fetcher must then check for divergence).
   */
  makeFollower(registration: PartitionRegistration, localNodeId: number): boolean {
    if (registration.leaderEpoch < this.epoch) return false; // a stale registration
    const newEpoch = registration.leaderEpoch > this.epoch || this.leader;
    this.epoch = registration.leaderEpoch;
    this.localNodeId = localNodeId;
    this.assignment = { replicas: registration.replicas, isr: registration.isr };
    this.partitionEpochValue = registration.partitionEpoch;
    this.leader = false;
    this.pendingIsr = null;
    this.followers.clear();
    this.leaderEpochStartOffset = -1;
    // The byte counts remembered for long polls describe this node's own appends as leader.
    this.recentEnds.length = 0;
    return newEpoch;
  }

  /**
   * Kafka's effectiveMinIsr (since 3.7, KAFKA-15583): min.insync.replicas capped by the replica count, so
   * a setting above the replication factor does not make the partition unwritable.
   */
  get effectiveMinIsr(): number {
    return Math.min(this.settings().minInSyncReplicas, Math.max(this.assignment.replicas.length, 1));
  }

  /** Fewer in-sync replicas than the effective min.insync.replicas: acks=all is refused, the HW holds. */
  get isUnderMinIsr(): boolean {
    return this.leader && this.assignment.isr.length < this.effectiveMinIsr;
  }

  /**
   * Kafka's maybeIncrementLeaderHW: the HW moves up to the smallest log end offset among the maximal ISR
   * (this node's is the log's) and the followers caught up within replica.lag.time.max.ms that may join
   * it, never down, and not at all while the ISR is under the effective min ISR (KAFKA-15583). A maximal
   * ISR member whose LEO is not known yet holds it. Returns whether it moved.
   */
  maybeIncrementHighWatermark(): boolean {
    if (!this.leader || this.isUnderMinIsr) return false;
    const leaderEnd = this.log.logEndOffset;
    let candidate = leaderEnd;
    const maximal = this.maximalIsr;
    const now = this.now();
    const lagMax = this.isrHooks?.replicaLagTimeMaxMs() ?? 30_000;
    for (const [id, f] of this.followers) {
      if (f.logEndOffset >= candidate) continue;
      const caughtUp = f.logEndOffset >= 0 && (f.logEndOffset === leaderEnd || now - f.lastCaughtUpTimeMs <= lagMax) && (this.isrHooks?.isReplicaIsrEligible(id) ?? true);
      if (maximal.includes(id) || caughtUp) {
        if (f.logEndOffset < 0) return false;
        candidate = f.logEndOffset;
      }
    }
    // An ISR member with no state (never assigned as a follower here) cannot be counted.
    for (const id of maximal) if (id !== this.localNodeId && !this.followers.has(id)) return false;
    if (candidate <= this.hw) return false;
    this.hw = candidate;
    return true;
  }

  /**
   * A replica fetch at `fetchOffset` (Kafka's updateFollowerFetchState + Replica.updateFetchStateOrThrow):
   * records the follower's LEO and when it was last caught up (it fetched at the leader's LEO now, or at the
   * leader's LEO of its previous fetch), may add it to the ISR and may move the HW, completing delayed
   * produces. `leaderEndOffset` is this log's LEO as of the read. False when the replica is not assigned.
   */
  updateFollowerFetchState(replicaId: number, fetchOffset: number, leaderEndOffset: number): boolean {
    const f = this.followers.get(replicaId);
    if (!f || !this.leader) return false;
    const now = this.now();
    if (fetchOffset >= leaderEndOffset) f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, now);
    else if (fetchOffset >= f.lastFetchLeaderLogEndOffset && f.lastFetchLeaderLogEndOffset >= 0) f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, f.lastFetchTimeMs);
    f.lastFetchLeaderLogEndOffset = leaderEndOffset;
    f.lastFetchTimeMs = now;
    f.logEndOffset = fetchOffset;
    this.maybeExpandIsr(replicaId, f);
    if (this.maybeIncrementHighWatermark()) this.onAppend(this);
    return true;
  }

  /** Kept for callers that only know a LEO (tests of the HW rule): a fetch at the leader's current LEO. */
  updateFollowerEndOffset(replicaId: number, logEndOffset: number): void {
    this.updateFollowerFetchState(replicaId, logEndOffset, this.log.logEndOffset);
  }

  /**
   * Kafka's maybeExpandIsr: a follower not in the ISR joins it once its LEO reaches the HW and the start of
   * this leader epoch, and it is eligible (KIP-841), with no other ISR change in flight.
   */
  private maybeExpandIsr(replicaId: number, f: FollowerState): void {
    if (this.isrHooks === null || this.pendingIsr !== null) return;
    if (this.assignment.isr.includes(replicaId)) return;
    if (f.logEndOffset < this.highWatermark || f.logEndOffset < this.leaderEpochStartOffset) return;
    if (!this.isrHooks.isReplicaIsrEligible(replicaId)) return;
    const proposed = [...this.assignment.isr, replicaId];
    this.proposeIsr({ kind: 'expand', proposedIsr: proposed, maximalIsr: proposed });
  }

  /**
   * Kafka's maybeShrinkIsr (the isr-expiration task, every replica.lag.time.max.ms / 2): followers of the
   * ISR that were not caught up within replica.lag.time.max.ms are proposed for removal. Until the
   * controller commits it, the HW still waits for them (the shrink only counts once committed).
   */
  maybeShrinkIsr(): void {
    if (!this.leader || this.isrHooks === null || this.pendingIsr !== null) return;
    const now = this.now();
    const lagMax = this.isrHooks.replicaLagTimeMaxMs();
    const leaderEnd = this.log.logEndOffset;
    const outOfSync: number[] = [];
    for (const id of this.assignment.isr) {
      if (id === this.localNodeId) continue;
      const f = this.followers.get(id);
      const caughtUp = f !== undefined && (f.logEndOffset === leaderEnd || now - f.lastCaughtUpTimeMs <= lagMax);
      if (!caughtUp) outOfSync.push(id);
    }
    if (outOfSync.length === 0) return;
    const proposed = this.assignment.isr.filter((id) => !outOfSync.includes(id));
    this.isrHooks.logger.info(
      { partition: this.key, outOfSync, leaderEndOffset: leaderEnd, followers: outOfSync.map((id) => ({ id, logEndOffset: this.followers.get(id)?.logEndOffset ?? -1 })) },
      `${this.key}: shrinking the ISR from [${this.assignment.isr.join(',')}] to [${proposed.join(',')}] (out of sync for over ${lagMax} ms: ${outOfSync.join(',')})`,
    );
    this.proposeIsr({ kind: 'shrink', proposedIsr: proposed, maximalIsr: this.assignment.isr });
  }

  private proposeIsr(change: PendingIsrChange): void {
    const hooks = this.isrHooks!;
    this.pendingIsr = change;
    const proposal: IsrProposal = { leaderEpoch: this.epoch, partitionEpoch: this.partitionEpochValue, newIsr: change.proposedIsr };
    if (change.kind === 'expand') hooks.logger.info({ partition: this.key, isr: change.proposedIsr }, `${this.key}: expanding the ISR from [${this.assignment.isr.join(',')}] to [${change.proposedIsr.join(',')}]`);
    hooks.alterPartition(this, proposal).then(
      (result) => this.onIsrResult(change, proposal, result),
      (err: unknown) => {
        // The controller could not be reached: back to the committed state; the next fetch or
        // expiration check proposes again.
        if (err instanceof BrokerNotRegisteredError) hooks.logger.debug({ partition: this.key }, 'AlterPartition waits for this broker to register');
        else hooks.logger.warn({ partition: this.key, err }, 'AlterPartition failed');
        if (this.pendingIsr === change) this.pendingIsr = null;
      },
    );
  }

  /** Kafka's Partition.handleAlterPartitionUpdate / handleAlterPartitionError. */
  private onIsrResult(change: PendingIsrChange, proposal: IsrProposal, result: IsrProposalResult): void {
    if (this.pendingIsr !== change) return; // superseded by a metadata update meanwhile
    const hooks = this.isrHooks!;
    if (result.errorCode !== ErrorCode.NONE) {
      hooks.logger.info({ partition: this.key, errorCode: result.errorCode, proposal }, `${this.key}: the controller refused the ISR change (error ${result.errorCode})`);
      // Stale state: the pending change stays until the next image replaces it (the HW keeps waiting for
      // the maximal ISR meanwhile); other refusals go back to the committed ISR and may be proposed again.
      if (!AWAIT_METADATA_ERRORS.has(result.errorCode)) this.pendingIsr = null;
      return;
    }
    this.pendingIsr = null;
    if (!this.leader || result.leaderEpoch !== this.epoch || result.partitionEpoch < this.partitionEpochValue) return;
    this.assignment = { replicas: this.assignment.replicas, isr: Object.freeze([...result.isr]) };
    this.partitionEpochValue = result.partitionEpoch;
    if (this.maybeIncrementHighWatermark()) this.onAppend(this);
    // A produce waiting for the old ISR may now be answered (NOT_ENOUGH_REPLICAS_AFTER_APPEND or done).
    this.onAppend(this);
  }

  /**
   * The HW a replica starts with when its log is opened: the one checkpointed in
   * `replication-offset-checkpoint` (0 when none), clamped to [log start offset, LEO] (Kafka's
   * Partition.createLog -> UnifiedLog.updateHighWatermark). So a restarted leader does not answer
   * ListOffsets(latest) or consumers below what it had already exposed, before its followers fetch again.
   * Returns the HW set.
   */
  initializeHighWatermark(checkpointed: number): number {
    const logStart = this.log.logStartOffset;
    const logEnd = this.log.logEndOffset;
    this.hw = checkpointed < logStart ? logStart : checkpointed >= logEnd ? logEnd : checkpointed;
    return this.hw;
  }

  /**
   * Follower: the leader's HW from a fetch response, capped by this replica's LEO (Kafka's
   * Partition.updateHighWatermark on the follower path). It may go down only through truncation.
   */
  updateFollowerHighWatermark(leaderHighWatermark: number): void {
    const next = Math.min(leaderHighWatermark, this.log.logEndOffset);
    if (next > this.hw) this.hw = next;
  }

  /**
   * KIP-320's replica path of Fetch v12+ (Kafka's validateFetchOffsetAndMaybeGetDivergingEpoch): the
   * follower's last fetched epoch must end, in this leader's history, at or after its fetch offset; if not,
   * the answer is where that epoch ends here (the largest epoch <= it and its end offset), and the follower
   * truncates there before fetching again. Null when the logs agree.
   */
  divergingEpoch(lastFetchedEpoch: number, fetchOffset: number): { epoch: number; endOffset: number } | null {
    if (lastFetchedEpoch < 0) return null;
    const found = this.log.leaderEpochCache.endOffsetFor(lastFetchedEpoch);
    if (found.epoch < lastFetchedEpoch || found.endOffset < fetchOffset) return found;
    return null;
  }

  /** No longer led here (deleted or reassigned): requests looking it up are refused. */
  resign(): void {
    this.leader = false;
    this.pendingIsr = null;
  }

  get key(): string {
    return `${this.topic}-${this.partition}`;
  }

  get highWatermark(): number {
    // Retention and DeleteRecords move the log start offset; the HW is never below it (Kafka's
    // maybeIncrementLogStartOffset raises the HW with it).
    return Math.max(this.hw, this.log.logStartOffset);
  }

  get lastStableOffset(): number {
    return this.highWatermark;
  }

  get logStartOffset(): number {
    return this.log.logStartOffset;
  }

  get logEndOffset(): number {
    return this.log.logEndOffset;
  }

  /**
   * Validates and appends a produce request's record bytes, in the order of Kafka's
   * UnifiedLog.analyzeAndValidateRecords then LogValidator: whole v2 batches with valid CRCs, none larger
   * than max.message.bytes, base offset 0, exactly one batch, a count matching the offset range, no control
   * batch, then every record (validate.ts: framing, keys on compacted topics, timestamps). Offsets are
   * assigned by rewriting the batch's base offset in place.
   */
  async appendAsLeader(records: Buffer): Promise<AppendResult> {
    const fail = (errorCode: number, errorMessage: string, recordErrors: RecordError[] = [], logStartOffset = -1): AppendResult => ({
      errorCode,
      errorMessage,
      baseOffset: -1,
      logAppendTimeMs: -1,
      logStartOffset,
      recordErrors,
      nextOffset: -1,
    });
    const split = splitBatches(records);
    if (!split.ok) {
      if (split.reason === 'unsupported-magic') return fail(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, split.message);
      return fail(ErrorCode.CORRUPT_MESSAGE, split.message);
    }
    if (split.batches.length === 0) return fail(ErrorCode.INVALID_RECORD, 'produce request without record batches');
    const settings = this.settings();
    const { maxMessageBytes, messageTimestampType } = settings;
    const tp = this.key;
    for (const b of split.batches) {
      if (b.size > maxMessageBytes) {
        return fail(ErrorCode.MESSAGE_TOO_LARGE, `The record batch size in the append to ${tp} is ${b.size} bytes which exceeds the maximum configured value of ${maxMessageBytes}.`);
      }
      if (b.header.baseOffset !== 0) {
        return fail(ErrorCode.INVALID_RECORD, `The baseOffset of the record batch in the append to ${tp} should be 0, but it is ${b.header.baseOffset}`);
      }
    }
    // LogValidator.getFirstBatchAndMaybeValidateNoMoreBatches: a v2 produce carries one batch per partition.
    if (split.batches.length > 1) return fail(ErrorCode.INVALID_RECORD, 'Compressed outer record has more than one batch');
    const b = split.batches[0]!;
    const h = b.header;
    // LogValidator.validateBatch (the magic is 2, checked by splitBatches).
    const lastOffset = h.baseOffset + h.lastOffsetDelta;
    if (lastOffset - h.baseOffset + 1 <= 0) return fail(ErrorCode.INVALID_RECORD, `Batch has an invalid offset range: [${h.baseOffset}, ${lastOffset}] in topic partition ${tp}`);
    if (h.recordCount <= 0) return fail(ErrorCode.INVALID_RECORD, `Invalid reported count for record batch: ${h.recordCount} in topic partition ${tp}`);
    if (h.lastOffsetDelta + 1 !== h.recordCount) {
      return fail(ErrorCode.INVALID_RECORD, `Inconsistent batch offset range [${h.baseOffset}, ${lastOffset}] and count of records ${h.recordCount} in topic partition ${tp}`);
    }
    if (isControl(h.attributes)) return fail(ErrorCode.INVALID_RECORD, `Clients are not allowed to write control records in topic partition ${tp}`);
    const now = Date.now();
    // No await unless a gzip batch inflates to over 1 MiB (zlib's stream): other appends reach the log in
    // the same turn.
    let checked = validateBatchRecords(records, b.pos, b.size, h, {
      topicPartition: tp,
      compacted: hasCompactPolicy(this.log.config),
      timestampType: messageTimestampType,
      nowMs: now,
      timestampBeforeMaxMs: settings.timestampBeforeMaxMs,
      timestampAfterMaxMs: settings.timestampAfterMaxMs,
      maxDecompressedBytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
    });
    if (checked instanceof Promise) checked = await checked;
    if (!checked.ok) {
      // Kafka answers record errors (RecordValidationException) and other invalid records with the log start offset.
      const logStartOffset = checked.errorCode === ErrorCode.CORRUPT_MESSAGE ? -1 : this.log.logStartOffset;
      return fail(checked.errorCode, checked.errorMessage, checked.recordErrors, logStartOffset);
    }
    let maxTimestamp = h.maxTimestamp;
    if (messageTimestampType === 'LogAppendTime') {
      setLogAppendTime(records, b.pos, now);
      maxTimestamp = now;
    }
    const positions = [{ pos: b.pos, size: b.size, lastOffsetDelta: h.lastOffsetDelta, maxTimestamp }];
    const appending: AppendingBatch[] = [{ header: h, maxTimestamp }];
    const appended = await this.producers.append(appending, () => this.log.append(records, positions, this.leaderEpoch));
    if (appended.kind === 'error') return fail(appended.errorCode, appended.errorMessage);
    if (appended.kind === 'duplicate') {
      // Kafka answers a retried batch with NONE and the offsets it was first written at; nothing is appended.
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        baseOffset: appended.batch.firstOffset,
        logAppendTimeMs: messageTimestampType === 'LogAppendTime' ? appended.batch.timestamp : -1,
        logStartOffset: this.log.logStartOffset,
        recordErrors: [],
        nextOffset: appended.batch.lastOffset + 1,
      };
    }
    const result = appended.result;
    let cumulative = this.appendedBytes;
    let next = result.firstOffset;
    for (const p of positions) {
      cumulative += p.size;
      next += p.lastOffsetDelta + 1;
      this.recentEnds.push({ nextOffset: next, bytes: cumulative });
    }
    if (this.recentEnds.length > RECENT_APPENDS) this.recentEnds.splice(0, this.recentEnds.length - RECENT_APPENDS);
    this.appendedBytes = cumulative;
    // Kafka's appendRecordsToLeader: the HW may move at once (the ISR may be this node alone).
    this.maybeIncrementHighWatermark();
    this.onAppend(this);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      baseOffset: result.firstOffset,
      logAppendTimeMs: messageTimestampType === 'LogAppendTime' ? now : -1,
      logStartOffset: this.log.logStartOffset,
      recordErrors: [],
      nextOffset: result.lastOffset + 1,
    };
  }

  /**
   * A follower's append of the batches its leader sent (Kafka's appendRecordsToFollowerOrFutureReplica):
   * whole v2 batches with valid CRCs (splitBatches checks them), written with the leader's offsets and
   * leader epochs (storage adds their epochs to the leader epoch cache), recorded in the producer state.
   * Throws CorruptReplicaDataError on bytes that are not whole batches.
   */
  async appendAsFollower(records: Buffer): Promise<{ firstOffset: number; lastOffset: number }> {
    const split = splitBatches(records);
    if (!split.ok) throw new CorruptReplicaDataError(`${this.key}: the leader's fetch answer is not whole record batches: ${split.message}`);
    const positions: AppendPosition[] = [];
    const appending: AppendingBatch[] = [];
    for (const b of split.batches) {
      positions.push({ pos: b.pos, size: b.size, lastOffsetDelta: b.header.lastOffsetDelta, maxTimestamp: b.header.maxTimestamp });
      appending.push({ header: b.header, maxTimestamp: b.header.maxTimestamp });
    }
    const result = await this.producers.appendAsFollower(appending, () => this.log.appendAsFollower(records, positions));
    return { firstOffset: result.firstOffset, lastOffset: result.lastOffset };
  }

  /**
   * Removes every batch at or above `offset` (a follower dropping its diverged tail) and rebuilds the
   * producer state from what remains; appends with producer ids wait for the rebuild. At or past the log
   * end nothing is removed but leader epoch entries starting at the log end are (Kafka's
   * UnifiedLog.truncateTo: a replica that became leader and appended nothing left such an entry, which
   * would make it report that epoch as its last fetched one forever).
   */
  async truncateTo(offset: number): Promise<void> {
    if (offset >= this.log.logEndOffset) {
      this.log.leaderEpochCache.truncateFromEnd(this.log.logEndOffset);
      await this.log.leaderEpochCache.flush();
      return;
    }
    await this.producers.rebuildAfter(() => this.log.truncateTo(offset));
    this.hw = Math.min(this.hw, this.log.logEndOffset);
    this.recentEnds.length = 0;
  }

  /** Empties the log and restarts it at `offset` (a follower far behind its leader); forgets all producers. */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    await this.producers.rebuildAfter(() => this.log.truncateFullyAndStartAt(offset), { discardSnapshots: true });
    this.hw = this.log.logEndOffset;
    this.recentEnds.length = 0;
  }

  /** Clean shutdown, before the log closes: a producer state snapshot at the end of the log. */
  async close(): Promise<void> {
    await this.producers.close();
  }

  /**
   * DeleteRecords (KIP-107), as Kafka's Partition.deleteRecordsOnLeader: -1 means the high watermark; the
   * log start offset moves up to the offset (never down) and the low watermark (the log start offset) is
   * returned. POLICY_VIOLATION without cleanup.policy delete; OFFSET_OUT_OF_RANGE below 0 or above the HW.
   */
  async deleteRecordsBefore(offset: number): Promise<{ errorCode: number; errorMessage: string | null; lowWatermark: number }> {
    if (!hasDeletePolicy(this.log.config)) {
      return { errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: `Records of partition ${this.key} can not be deleted due to the configured policy`, lowWatermark: -1 };
    }
    const target = offset === -1 ? this.highWatermark : offset;
    if (target < 0) return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, errorMessage: `The offset ${target} for partition ${this.key} is not valid`, lowWatermark: -1 };
    if (target > this.highWatermark) {
      return {
        errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
        errorMessage: `Cannot increment the log start offset to ${target} of partition ${this.key} since it is larger than the high watermark ${this.highWatermark}`,
        lowWatermark: -1,
      };
    }
    await this.log.deleteRecordsBefore(target);
    return { errorCode: ErrorCode.NONE, errorMessage: null, lowWatermark: this.log.logStartOffset };
  }

  /**
   * OffsetForLeaderEpoch, as Kafka's Partition.lastOffsetForLeaderEpoch: fence on currentLeaderEpoch
   * (-1: not given) and answer the largest epoch <= leaderEpoch with its end offset (the LEO for the
   * current epoch); -1/-1 when the epoch is unknown.
   */
  lastOffsetForLeaderEpoch(currentLeaderEpoch: number, leaderEpoch: number): { errorCode: number; leaderEpoch: number; endOffset: number } {
    if (currentLeaderEpoch !== -1 && currentLeaderEpoch < this.leaderEpoch) return { errorCode: ErrorCode.FENCED_LEADER_EPOCH, leaderEpoch: -1, endOffset: -1 };
    if (currentLeaderEpoch > this.leaderEpoch) return { errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH, leaderEpoch: -1, endOffset: -1 };
    const found = this.log.leaderEpochCache.endOffsetFor(leaderEpoch);
    if (found.endOffset === -1) return { errorCode: ErrorCode.NONE, leaderEpoch: -1, endOffset: -1 };
    return { errorCode: ErrorCode.NONE, leaderEpoch: found.epoch, endOffset: found.endOffset };
  }

  /**
   * Bytes available between fetchOffset and the HW (a consumer) or the log end offset (a follower), known
   * without reading the log.
   */
  bytesAvailableFrom(fetchOffset: number, toLogEnd = false): number {
    const end = toLogEnd ? this.log.logEndOffset : this.highWatermark;
    if (fetchOffset >= end) return 0;
    const oldest = this.recentEnds[0];
    if (!oldest || fetchOffset < oldest.nextOffset) {
      // Older than the appends we remember (or written before this process started): report plenty,
      // which is true since fetchOffset < end.
      return Number.MAX_SAFE_INTEGER;
    }
    let before = 0;
    let upTo = 0;
    for (let i = this.recentEnds.length - 1; i >= 0; i--) {
      const e = this.recentEnds[i]!;
      if (upTo === 0 && e.nextOffset <= end) upTo = e.bytes;
      if (e.nextOffset <= fetchOffset) {
        before = e.bytes;
        break;
      }
    }
    return Math.max(upTo, before) - before;
  }

  /** `alloc`: where file reads go (the fetch path passes pooled buffers, storage/read-buffers.ts). */
  read(offset: number, maxBytes: number, minOneMessage: boolean, upTo: number = this.highWatermark, alloc?: (size: number) => Buffer) {
    return this.log.read(offset, maxBytes, upTo, minOneMessage, alloc);
  }

  /**
   * A fetch's read of this partition, up to the HW (a consumer) or the LEO (`toLogEnd`, a follower): the records (possibly empty), or the Kafka
   * error code of a read that failed (OFFSET_OUT_OF_RANGE when the log moved under the fetch offset,
   * KAFKA_STORAGE_ERROR otherwise, with the cause for the log).
   */
  async readForFetch(offset: number, maxBytes: number, minOneMessage: boolean, alloc?: ReadAlloc, toLogEnd = false): Promise<{ errorCode: number; records: Buffer; cause?: unknown }> {
    try {
      const read = await this.log.read(offset, maxBytes, toLogEnd ? this.log.logEndOffset : this.highWatermark, minOneMessage, alloc);
      if (read.sizeInBytes === 0) return { errorCode: ErrorCode.NONE, records: EMPTY };
      return { errorCode: ErrorCode.NONE, records: read.records.length === 1 ? read.records[0]! : Buffer.concat(read.records) };
    } catch (err) {
      if (err instanceof OffsetOutOfRangeError) return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, records: EMPTY };
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, records: EMPTY, cause: err };
    }
  }

  /**
   * ListOffsets by timestamp: the first record (below the HW) whose timestamp is >= timestampMs. The time
   * index finds the first batch whose max timestamp reaches it; that one batch is then decoded to find the
   * record, as Kafka does, so the answer is a record's offset, not a batch's.
   */
  async offsetForTimestamp(timestampMs: number): Promise<{ offset: number; timestamp: number } | null> {
    let found = await this.log.offsetForTimestamp(timestampMs);
    while (found && found.offset < this.highWatermark) {
      const { records } = await this.log.read(found.offset, 1, this.highWatermark, true);
      const bytes = records.length === 1 ? records[0]! : Buffer.concat(records);
      if (bytes.length === 0) return null;
      const header = readBatchHeader(bytes, 0);
      const logAppendTime = timestampTypeIsLogAppend(header.attributes);
      for (const r of await readRecords(bytes.subarray(0, 12 + header.batchLength))) {
        const ts = logAppendTime ? header.maxTimestamp : r.timestamp;
        if (r.offset >= found.offset && ts >= timestampMs) return { offset: r.offset, timestamp: ts };
      }
      // No record of this batch qualifies (timestamps out of order): look from the next batch on.
      found = await this.log.offsetForTimestamp(timestampMs, header.baseOffset + header.lastOffsetDelta + 1);
    }
    return null;
  }

  /**
   * ListOffsets MAX_TIMESTAMP (-3, KIP-734): the first record with the largest timestamp. Storage finds
   * the batch through the segments' max-timestamp bookkeeping; that batch is decoded to find the record.
   */
  async offsetOfMaxTimestamp(): Promise<{ offset: number; timestamp: number } | null> {
    const found = await this.log.offsetOfMaxTimestamp();
    if (!found || found.offset >= this.highWatermark) return null;
    const { records } = await this.log.read(found.offset, 1, this.highWatermark, true);
    const bytes = records.length === 1 ? records[0]! : Buffer.concat(records);
    if (bytes.length === 0) return null;
    const header = readBatchHeader(bytes, 0);
    if (timestampTypeIsLogAppend(header.attributes)) return { offset: Math.max(header.baseOffset, found.offset), timestamp: header.maxTimestamp };
    for (const r of await readRecords(bytes.subarray(0, 12 + header.batchLength))) {
      if (r.offset >= found.offset && r.timestamp === found.timestamp) return { offset: r.offset, timestamp: r.timestamp };
    }
    return found;
  }
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
