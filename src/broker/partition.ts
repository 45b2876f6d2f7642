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
 */
import type { Log } from '../../storage/log.js';
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

const RECENT_APPENDS = 4096;
const EMPTY = Buffer.alloc(0);

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
  /** The log end offsets followers reported in their fetches (none until replication exists). */
  private readonly followerEndOffsets = new Map<number, number>();
  /** The assigned replicas and the in-sync ones, from the image's registration (makeLeader). */
  private assignment: { replicas: readonly number[]; isr: readonly number[] } = { replicas: [], isr: [] };
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
  }

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

  get isr(): readonly number[] {
    return this.assignment.isr;
  }

  /**
   * Kafka's Partition.makeLeader: takes the registration's epoch, replicas and ISR. A new epoch starts at
   * the log end offset, recorded before any append, so OffsetForLeaderEpoch answers for an empty partition
   * too (KIP-101).
   */
  makeLeader(registration: PartitionRegistration, localNodeId: number): void {
    if (registration.leaderEpoch < this.epoch) return; // a stale registration
    const newEpoch = registration.leaderEpoch > this.epoch;
    this.epoch = registration.leaderEpoch;
    this.localNodeId = localNodeId;
    this.assignment = { replicas: registration.replicas, isr: registration.isr };
    this.leader = true;
    if (newEpoch) this.followerEndOffsets.clear();
    if (this.log.leaderEpochCache.latestEpoch() < this.epoch) this.log.leaderEpochCache.assign(this.epoch, this.log.logEndOffset);
    // The HW is never below the log start offset; with the ISR at hand it may move up at once.
    this.hw = Math.min(Math.max(this.hw, this.log.logStartOffset), this.log.logEndOffset);
    if (this.maybeIncrementHighWatermark()) this.onAppend(this);
  }

  /**
   * Kafka's Partition.makeFollower: takes the registration's leader epoch, replicas and ISR; the replica
   * stops answering as leader (Produce and consumer Fetch get NOT_LEADER_OR_FOLLOWER). The follower's log
   * is filled by the replica fetcher (issue 12), which also truncates a diverging suffix by leader epoch.
   */
  makeFollower(registration: PartitionRegistration, localNodeId: number): void {
    if (registration.leaderEpoch < this.epoch) return; // a stale registration
    this.epoch = registration.leaderEpoch;
    this.localNodeId = localNodeId;
    this.assignment = { replicas: registration.replicas, isr: registration.isr };
    this.leader = false;
    this.followerEndOffsets.clear();
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
   * Kafka's maybeIncrementLeaderHW: the HW moves up to the smallest log end offset among the in-sync
   * replicas (this node's is the log's), never down, and not at all while the ISR is under the effective
   * min ISR (KAFKA-15583). A follower whose LEO is not known yet holds it. Returns whether it moved.
   */
  maybeIncrementHighWatermark(): boolean {
    if (!this.leader || this.isUnderMinIsr) return false;
    let candidate = this.log.logEndOffset;
    for (const id of this.assignment.isr) {
      if (id === this.localNodeId) continue;
      const leo = this.followerEndOffsets.get(id);
      if (leo === undefined) return false;
      candidate = Math.min(candidate, leo);
    }
    if (candidate <= this.hw) return false;
    this.hw = candidate;
    return true;
  }

  /**
   * A follower's log end offset, as its fetch reports it (Kafka's updateFollowerFetchState): may move
   * the HW and so complete delayed produces. The seam the replica fetch path will call.
   */
  updateFollowerEndOffset(replicaId: number, logEndOffset: number): void {
    if (!this.assignment.replicas.includes(replicaId) || replicaId === this.localNodeId) return;
    this.followerEndOffsets.set(replicaId, logEndOffset);
    if (this.maybeIncrementHighWatermark()) this.onAppend(this);
  }

  /** No longer led here (deleted or reassigned): requests looking it up are refused. */
  resign(): void {
    this.leader = false;
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
   * Removes every batch at or above `offset` (a follower dropping its diverged tail) and rebuilds the
   * producer state from what remains; appends with producer ids wait for the rebuild.
   */
  async truncateTo(offset: number): Promise<void> {
    await this.producers.rebuildAfter(() => this.log.truncateTo(offset));
    this.hw = Math.min(this.hw, this.log.logEndOffset);
  }

  /** Empties the log and restarts it at `offset` (a follower far behind its leader); forgets all producers. */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    await this.producers.rebuildAfter(() => this.log.truncateFullyAndStartAt(offset), { discardSnapshots: true });
    this.hw = this.log.logEndOffset;
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

  /** Bytes available to a consumer between fetchOffset and the HW, known without reading the log. */
  bytesAvailableFrom(fetchOffset: number): number {
    const hw = this.highWatermark;
    if (fetchOffset >= hw) return 0;
    const oldest = this.recentEnds[0];
    if (!oldest || fetchOffset < oldest.nextOffset) {
      // Older than the appends we remember (or written before this process started): report plenty,
      // which is true since fetchOffset < HW.
      return Number.MAX_SAFE_INTEGER;
    }
    let before = 0;
    for (let i = this.recentEnds.length - 1; i >= 0; i--) {
      const e = this.recentEnds[i]!;
      if (e.nextOffset <= fetchOffset) {
        before = e.bytes;
        break;
      }
    }
    return this.appendedBytes - before;
  }

  /** `alloc`: where file reads go (the fetch path passes pooled buffers, storage/read-buffers.ts). */
  read(offset: number, maxBytes: number, minOneMessage: boolean, upTo: number = this.highWatermark, alloc?: (size: number) => Buffer) {
    return this.log.read(offset, maxBytes, upTo, minOneMessage, alloc);
  }

  /**
   * A consumer fetch's read of this partition, up to the HW: the records (possibly empty), or the Kafka
   * error code of a read that failed (OFFSET_OUT_OF_RANGE when the log moved under the fetch offset,
   * KAFKA_STORAGE_ERROR otherwise, with the cause for the log).
   */
  async readForFetch(offset: number, maxBytes: number, minOneMessage: boolean, alloc?: ReadAlloc): Promise<{ errorCode: number; records: Buffer; cause?: unknown }> {
    try {
      const read = await this.log.read(offset, maxBytes, this.highWatermark, minOneMessage, alloc);
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
