/**
 * Produce (0). Advertised 0-11, implemented 3-11.
 * - v0-2 carry message format v0/v1, which this broker does not store: every partition is answered with
 *   UNSUPPORTED_VERSION. They are advertised because librdkafka before 2.11 enables gzip/snappy/lz4 only
 *   when Produce v0 is listed (KAFKA-18659).
 * - acks must be -1, 0 or 1 (INVALID_REQUIRED_ACKS otherwise). acks=0 gets no response; if any partition
 *   failed, the connection is closed instead, as Kafka does, so the client learns of it.
 * - acks=all (-1) goes through the replica manager's delayed produce: it completes when the partition's
 *   high watermark covers the batch (on a single node, as soon as the append does), REQUEST_TIMED_OUT
 *   after timeoutMs otherwise; NOT_ENOUGH_REPLICAS before the append when the ISR is smaller than
 *   min.insync.replicas capped by the replication factor (Kafka 3.7+'s effective min ISR, KAFKA-15583).
 * - Produce never auto-creates topics; a topic or partition missing from the metadata image is
 *   UNKNOWN_TOPIC_OR_PARTITION, one whose leader is not this node NOT_LEADER_OR_FOLLOWER (the replica
 *   manager's leaderFor); UNKNOWN_TOPIC_OR_PARTITION also when the topic is deleted while the append is
 *   in flight (Kafka answers so once the partition is gone).
 * - Internal topics (__consumer_offsets, ...) are written by the coordinators only: a client's produce is
 *   INVALID_TOPIC_EXCEPTION with no message (ReplicaManager's "Cannot append to internal topic" exception
 *   is built with hasCustomErrorMessage = false, so Kafka keeps the text off the wire).
 * - Idempotent producers (KIP-98): Partition.appendAsLeader checks each batch's producer epoch and sequence
 *   (src/broker/producer-state.ts): OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, and a retried
 *   batch answered NONE with its original base offset.
 * - Every batch is validated as Kafka's LogValidator does (Partition.appendAsLeader, protocol/records/
 *   validate.ts); v8+ responses list the failing records (KIP-467 record_errors) and the partition's
 *   error_message.
 * - v10+ (KIP-951): a NOT_LEADER_OR_FOLLOWER partition names its current leader and epoch, and the
 *   response the leaders' endpoints (leader-hints.ts).
 * Not yet: transactions (a transactional batch is INVALID_TXN_STATE).
 */
import { Produce } from '../../protocol/messages/produce.js';
import { ErrorCode } from '../../protocol/errors.js';
import { isInternalTopic } from '../broker/internal-topics.js';
import { LeaderHints } from './leader-hints.js';
import { defineHandler } from './types.js';

interface PartitionOutcome {
  index: number;
  errorCode: number;
  baseOffset: bigint;
  logAppendTimeMs: bigint;
  logStartOffset: bigint;
  recordErrors: { batchIndex: number; batchIndexErrorMessage: string | null }[];
  errorMessage: string | null;
  currentLeader?: { leaderId: number; leaderEpoch: number };
}

function failed(index: number, errorCode: number, errorMessage: string | null = null): PartitionOutcome {
  return { index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage };
}

export const produceHandler = defineHandler(Produce, {
  minVersion: 0,
  maxVersion: 11,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const version = ctx.apiVersion;
    const acksValid = req.acks === -1 || req.acks === 0 || req.acks === 1;
    const responses = await Promise.all(
      req.topicData.map(async (topic) => {
        const partitionResponses = await Promise.all(
          topic.partitionData.map(async (pd): Promise<PartitionOutcome> => {
            if (version < 3) return failed(pd.index, ErrorCode.UNSUPPORTED_VERSION, 'Produce v0-2 (message format v0/v1) is not supported');
            if (!acksValid) return failed(pd.index, ErrorCode.INVALID_REQUIRED_ACKS);
            const { partition, errorCode, errorMessage } = broker.replicaManager.leaderFor(topic.name, pd.index);
            if (!partition) return failed(pd.index, errorCode, errorMessage);
            if (pd.records === null || pd.records.length === 0) return failed(pd.index, ErrorCode.INVALID_RECORD, 'no records');
            if (isInternalTopic(topic.name)) return failed(pd.index, ErrorCode.INVALID_TOPIC_EXCEPTION);
            try {
              const r = await broker.replicaManager.appendToLeader(partition, pd.records, req.acks, req.timeoutMs);
              // The topic was deleted while the append was in flight: whatever reached its log is gone.
              if (broker.getPartition(topic.name, pd.index) !== partition) return failed(pd.index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
              if (r.errorCode !== ErrorCode.NONE) {
                ctx.logger.debug({ partition: partition.key, errorCode: r.errorCode, reason: r.errorMessage }, 'produce refused');
                // KIP-467: v8+ carries the failing records; older versions drop these ignorable fields.
                return { ...failed(pd.index, r.errorCode, r.errorMessage), logStartOffset: BigInt(r.logStartOffset), recordErrors: r.recordErrors.map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message })) };
              }
              return {
                index: pd.index,
                errorCode: ErrorCode.NONE,
                baseOffset: BigInt(r.baseOffset),
                logAppendTimeMs: BigInt(r.logAppendTimeMs),
                logStartOffset: BigInt(r.logStartOffset),
                recordErrors: [],
                errorMessage: null,
              };
            } catch (err) {
              // Deleted while the append was in flight: its log is gone, which is no storage fault.
              if (broker.getPartition(topic.name, pd.index) !== partition) return failed(pd.index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
              ctx.logger.error({ partition: partition.key, err }, 'append failed');
              return failed(pd.index, ErrorCode.KAFKA_STORAGE_ERROR, 'append failed');
            }
          }),
        );
        return { name: topic.name, partitionResponses };
      }),
    );
    if (req.acks === 0) {
      const failure = responses.flatMap((t) => t.partitionResponses.map((p) => ({ topic: t.name, ...p }))).find((p) => p.errorCode !== ErrorCode.NONE);
      if (failure) ctx.closeConnection(`acks=0 produce to ${failure.topic}-${failure.index} failed with error ${failure.errorCode}`);
      return null;
    }
    // KIP-951 (v10+): where this node is not the leader, the current one, and its endpoint.
    if (version >= 10) {
      const hints = new LeaderHints(broker.image);
      for (const t of responses) {
        for (const p of t.partitionResponses) if (p.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER) p.currentLeader = hints.currentLeader(t.name, p.index);
      }
      return { responses, throttleTimeMs: 0, nodeEndpoints: hints.nodeEndpoints };
    }
    return { responses, throttleTimeMs: 0 };
  },
});
