/**
 * The group coordinator's records in the internal compacted topic `__consumer_offsets` (record formats in
 * coordinator-records.ts).
 *
 * - The topic is created on first use with `offsets.topic.num.partitions` partitions and
 *   cleanup.policy=compact. When it already exists its own partition count is used, so changing the
 *   property later does not move groups.
 * - A group lives in partition `abs(javaHashCode(groupId)) % partitions`, as in Kafka.
 * - All records of one write go in one uncompressed batch: a commit of many partitions is atomic.
 *   Writes to one partition are chained, so the coordinator's in-memory cache is updated in log order.
 * - A write is done once the partition's ISR has it (Kafka's coordinator appends with acks=-1 and
 *   offsets.commit.timeout.ms, 5000): an OffsetCommit answered before its record reached the followers
 *   would be forgotten by the next leader, and the group's committed offset would go back (the fault
 *   suite saw it, seed 3103). The wait is outside the chain, so writes to one partition still pipeline.
 *   Errors map as Kafka's GroupMetadataManager does: too few in-sync replicas or a timeout is
 *   COORDINATOR_NOT_AVAILABLE, a lost leadership NOT_COORDINATOR.
 * - On start every partition is read from its log start offset to its end, in log order, and each record
 *   handed to the coordinator; records that cannot be decoded are logged and skipped.
 */
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import { isControl, splitBatches } from '../../protocol/records/batch.js';
import { buildBatch, readRecords, type RecordInput } from '../../protocol/records/record.js';
import type { Partition } from '../broker/partition.js';
import { TopicError } from '../broker/topic-error.js';
import {
  OFFSETS_TOPIC,
  decodeCoordinatorRecord,
  groupMetadataKey,
  groupMetadataValue,
  offsetCommitKey,
  offsetCommitValue,
  partitionForGroup,
  type CoordinatorRecord,
} from './coordinator-records.js';
import { GroupStoreError, type GroupStore } from './coordinator.js';
import { KeyedSerialQueue } from '../util/serial-queue.js';

export { OFFSETS_TOPIC };

const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * What the store needs of the broker (src/broker/broker.ts implements it): the topic's partition count from
 * the metadata, the partitions this node leads, and topic creation. An interface rather than the Broker
 * itself, so the group layer does not import the broker that starts it (no import cycle).
 */
export interface OffsetsTopicHost {
  /** The topic's partition count, or undefined when it does not exist. */
  topicPartitionCount(name: string): number | undefined;
  /** The partition, when this node hosts it as leader. */
  leaderPartition(name: string, index: number): Partition | undefined;
  /** Creates a topic; throws TopicError (TOPIC_ALREADY_EXISTS when it exists). */
  createTopic(name: string, numPartitions: number, replicationFactor: number, configs: ReadonlyMap<string, string>): Promise<unknown>;
  /** Resolves once a creation of `name` in progress has finished (topics become visible only once durable). */
  awaitTopic(name: string): Promise<unknown>;
  /**
   * Waits until the partition's high watermark reaches `nextOffset` (the whole ISR has the write), or
   * `timeoutMs` passes; answers with the error of an acks=all produce (NONE, REQUEST_TIMED_OUT,
   * NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS_AFTER_APPEND).
   */
  awaitReplication(partition: Partition, nextOffset: number, timeoutMs: number): Promise<number>;
}

/** Kafka's GroupMetadataManager error mapping for a failed append to __consumer_offsets. */
export function coordinatorWriteError(errorCode: number): number {
  switch (errorCode) {
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    default:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }
}

export class OffsetsTopicStore implements GroupStore {
  private creating: Promise<void> | null = null;
  /** Appends to one partition run one at a time, in call order. */
  private readonly chains = new KeyedSerialQueue<number>();

  constructor(
    private readonly broker: OffsetsTopicHost,
    private readonly numPartitions: number,
    private readonly logger: Logger,
    /** offsets.topic.replication.factor in a cluster; 1 on a single node. */
    private readonly replicationFactor = 1,
    /** offsets.commit.timeout.ms: how long a write may wait for the ISR. */
    private readonly commitTimeoutMs = 5000,
  ) {}

  /** The partition count in use: the topic's own when it exists, else the configured one. */
  get partitionCount(): number {
    return this.broker.topicPartitionCount(OFFSETS_TOPIC) ?? this.numPartitions;
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.partitionCount);
  }

  /** Creates `__consumer_offsets` if it does not exist yet. */
  ensureTopic(): Promise<void> {
    if (this.broker.topicPartitionCount(OFFSETS_TOPIC) !== undefined) return Promise.resolve();
    this.creating ??= (async () => {
      try {
        const configs = new Map([
          ['cleanup.policy', 'compact'],
          ['compression.type', 'producer'],
          ['segment.bytes', String(100 * 1024 * 1024)],
        ]);
        await this.broker.createTopic(OFFSETS_TOPIC, this.numPartitions, this.replicationFactor, configs);
        this.logger.info({ partitions: this.numPartitions }, `created ${OFFSETS_TOPIC}`);
      } catch (err) {
        // Created by another path (CreateTopics, auto-creation): wait until it is durable and visible.
        if (err instanceof TopicError && err.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) {
          await this.broker.awaitTopic(OFFSETS_TOPIC);
          if (this.broker.topicPartitionCount(OFFSETS_TOPIC) !== undefined) return;
        }
        throw err;
      } finally {
        this.creating = null;
      }
    })();
    return this.creating;
  }

  async ensureReady(): Promise<void> {
    await this.ensureTopic();
  }

  async write(groupId: string, records: CoordinatorRecord[]): Promise<void> {
    // The place in the partition's chain is taken before any await, so writes land in call order.
    const index = this.partitionFor(groupId);
    const now = Date.now();
    const { partition, result } = await this.chains.run(index, async () => {
      await this.ensureTopic();
      const partition = this.broker.leaderPartition(OFFSETS_TOPIC, index);
      if (!partition) throw new GroupStoreError(ErrorCode.NOT_COORDINATOR, `${OFFSETS_TOPIC}-${index} is not led here`);
      // Partition.appendRecordsToLeader with acks=-1: nothing is written while the ISR is too small.
      if (partition.isUnderMinIsr) {
        throw new GroupStoreError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${OFFSETS_TOPIC}-${index} has fewer in-sync replicas (${partition.isr.length}) than min.insync.replicas (${partition.effectiveMinIsr})`);
      }
      const batch = await buildBatch(records.map((r) => toRecordInput(r, now)));
      return { partition, result: await partition.appendAsLeader(batch) };
    });
    if (result.errorCode !== ErrorCode.NONE) {
      throw new GroupStoreError(coordinatorWriteError(result.errorCode), `append to ${OFFSETS_TOPIC}-${index} failed: ${result.errorMessage ?? result.errorCode}`);
    }
    const replicated = await this.broker.awaitReplication(partition, result.nextOffset, this.commitTimeoutMs);
    if (replicated !== ErrorCode.NONE) {
      throw new GroupStoreError(coordinatorWriteError(replicated), `the write to ${OFFSETS_TOPIC}-${index} did not reach the in-sync replicas (error ${replicated})`);
    }
  }

  /** Replays one partition's records (every partition's when `only` is not given), oldest first. */
  async load(apply: (record: CoordinatorRecord) => void, only?: number): Promise<void> {
    const partitions = this.broker.topicPartitionCount(OFFSETS_TOPIC);
    if (partitions === undefined) return;
    let count = 0;
    for (let index = only ?? 0; index < (only === undefined ? partitions : Math.min(only + 1, partitions)); index++) {
      const partition = this.broker.leaderPartition(OFFSETS_TOPIC, index);
      if (!partition) continue;
      let offset = partition.logStartOffset;
      const end = partition.logEndOffset;
      while (offset < end) {
        const read = await partition.read(offset, READ_CHUNK_BYTES, true, end);
        if (read.sizeInBytes === 0) break;
        const before = offset;
        for (const chunk of read.records) {
          const split = splitBatches(chunk);
          if (!split.ok) {
            this.logger.warn({ partition: partition.key, offset, reason: split.message }, `unreadable batch in ${OFFSETS_TOPIC}; skipping the rest of the partition`);
            offset = end;
            break;
          }
          for (const b of split.batches) {
            const next = b.header.baseOffset + b.header.lastOffsetDelta + 1;
            if (next <= offset) continue;
            offset = next;
            if (isControl(b.header.attributes)) continue;
            const records = await readRecords(chunk.subarray(b.pos, b.pos + b.size));
            for (const r of records) {
              if (r.key === null) continue;
              try {
                const decoded = decodeCoordinatorRecord(r.key, r.value);
                if (decoded) {
                  apply(decoded);
                  count++;
                }
              } catch (err) {
                this.logger.warn({ partition: partition.key, offset: r.offset, err }, `undecodable ${OFFSETS_TOPIC} record skipped`);
              }
            }
          }
        }
        if (offset <= before) break;
      }
    }
    this.logger.debug({ records: count, partition: only }, `loaded ${OFFSETS_TOPIC}`);
  }

  async close(): Promise<void> {
    await this.chains.drained();
  }
}

function toRecordInput(r: CoordinatorRecord, now: number): RecordInput {
  if (r.type === 'offset') {
    return { key: offsetCommitKey(r.group, r.topic, r.partition), value: r.value === null ? null : offsetCommitValue(r.value), timestamp: now };
  }
  return { key: groupMetadataKey(r.group), value: r.value === null ? null : groupMetadataValue(r.value), timestamp: now };
}
