/**
 * The registry's only contact with the broker: appending to and replaying the compacted `_schemas` topic
 * (`kafkastore.topic`) through the broker's in-process partition API, as the group coordinator does with
 * `__consumer_offsets` (src/group/offsets-topic-store.ts).
 *
 * - The topic has one partition and cleanup.policy=compact, as Confluent's KafkaStore requires. It is
 *   created on the first write, so a broker whose registry was never written to has no extra topic.
 * - All records of one registry operation go in one batch (a subject deleted with all its versions is one
 *   atomic append). The append returns once the batch is in the log, which on a single node is also the high
 *   watermark: the write is committed when the registry applies it and answers.
 * - Replay reads the partition from its log start offset to its end, in log order.
 */
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import { isControl, splitBatches } from '../../protocol/records/batch.js';
import { buildBatch, readRecords } from '../../protocol/records/record.js';
import type { Partition } from '../broker/partition.js';
import { TopicError } from '../broker/topic-error.js';
import { decodeRecord, encodeKey, encodeValue, StoreRecordError, type StoreRecord } from './store-records.js';

const READ_CHUNK_BYTES = 1024 * 1024;

export class SchemasTopicError extends Error {
  override readonly name = 'SchemasTopicError';
  constructor(
    message: string,
    /** The broker's error code of a refused append (MESSAGE_TOO_LARGE for a schema over max.message.bytes). */
    readonly errorCode: number,
  ) {
    super(message);
  }
}

/**
 * What the registry needs of the broker (src/broker/broker.ts implements it, as for the group
 * coordinator's OffsetsTopicHost): the partition this node leads, and topic creation.
 */
export interface SchemasTopicHost {
  leaderPartition(name: string, index: number): Partition | undefined;
  /** Creates a topic; throws TopicError (TOPIC_ALREADY_EXISTS when it exists). */
  createTopic(name: string, numPartitions: number, replicationFactor: number, configs: ReadonlyMap<string, string>): Promise<unknown>;
}

export class SchemasTopic {
  constructor(
    private readonly broker: SchemasTopicHost,
    readonly topic: string,
    private readonly logger: Logger,
  ) {}

  private async partition(): Promise<Partition> {
    let partition = this.broker.leaderPartition(this.topic, 0);
    if (!partition) {
      try {
        await this.broker.createTopic(this.topic, 1, 1, new Map([['cleanup.policy', 'compact']]));
        this.logger.info({ topic: this.topic }, `created ${this.topic}`);
      } catch (err) {
        if (!(err instanceof TopicError && err.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS)) throw err;
      }
      partition = this.broker.leaderPartition(this.topic, 0);
    }
    if (!partition) throw new SchemasTopicError(`${this.topic}-0 is not hosted here`, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    return partition;
  }

  /** Appends the records as one batch; resolves once it is in the log. */
  async append(records: readonly StoreRecord[]): Promise<void> {
    const partition = await this.partition();
    const now = Date.now();
    const batch = await buildBatch(records.map((r) => ({ key: encodeKey(r), value: encodeValue(r), timestamp: now })));
    const result = await partition.appendAsLeader(batch);
    if (result.errorCode !== ErrorCode.NONE) {
      throw new SchemasTopicError(`append to ${this.topic}-0 failed: ${result.errorMessage ?? result.errorCode}`, result.errorCode);
    }
  }

  /** Hands every record of the topic to `apply`, in log order; undecodable records are logged and skipped. */
  async replay(apply: (record: StoreRecord) => void): Promise<number> {
    const partition = this.broker.leaderPartition(this.topic, 0);
    if (!partition) return 0;
    let count = 0;
    let offset = partition.logStartOffset;
    const end = partition.logEndOffset;
    while (offset < end) {
      const read = await partition.read(offset, READ_CHUNK_BYTES, true, end);
      if (read.sizeInBytes === 0) break;
      const before = offset;
      for (const chunk of read.records) {
        const split = splitBatches(chunk);
        if (!split.ok) {
          this.logger.warn({ offset, reason: split.message }, `unreadable batch in ${this.topic}; the rest is skipped`);
          return count;
        }
        for (const b of split.batches) {
          const next = b.header.baseOffset + b.header.lastOffsetDelta + 1;
          if (next <= offset) continue;
          offset = next;
          if (isControl(b.header.attributes)) continue;
          for (const r of await readRecords(chunk.subarray(b.pos, b.pos + b.size))) {
            if (r.key === null) continue;
            try {
              const decoded = decodeRecord(r.key, r.value);
              if (decoded) {
                apply(decoded);
                count++;
              }
            } catch (err) {
              if (!(err instanceof StoreRecordError)) throw err;
              this.logger.warn({ offset: r.offset, reason: err.message }, `undecodable ${this.topic} record skipped`);
            }
          }
        }
      }
      if (offset <= before) break;
    }
    return count;
  }
}
