/**
 * DeleteRecords (21), versions 0-2 (KIP-107): moves partitions' log start offset forward; the records
 * before it can no longer be fetched (OFFSET_OUT_OF_RANGE) and ListOffsets EARLIEST returns the new start.
 * - offset -1 means the high watermark; an offset above the high watermark, or another negative one, is
 *   OFFSET_OUT_OF_RANGE; an offset at or below the current start changes nothing.
 * - The answer's lowWatermark is the log start offset after the deletion (-1 on an error). Segments wholly
 *   below it are deleted (after file.delete.delay.ms), and the start offset is persisted.
 * - A topic whose cleanup.policy lacks "delete" is POLICY_VIOLATION, as in Kafka.
 * - Single node: the ISR is this node, so the request completes at once (Kafka waits in a purgatory for
 *   every replica's low watermark, up to timeoutMs).
 * - v1 answers before throttling (KIP-219); v2 is flexible (KIP-482).
 */
import { DeleteRecords } from '../../protocol/messages/delete-records.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from './types.js';

export const deleteRecordsHandler = defineHandler(DeleteRecords, {
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const topics = await Promise.all(
      req.topics.map(async (t) => {
        const partitions = await Promise.all(
          t.partitions.map(async (p) => {
            const { partition, errorCode } = broker.replicaManager.leaderFor(t.name, p.partitionIndex);
            if (!partition) return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode };
            try {
              const r = await partition.deleteRecordsBefore(Number(p.offset));
              return { partitionIndex: p.partitionIndex, lowWatermark: BigInt(r.lowWatermark), errorCode: r.errorCode };
            } catch (err) {
              // Deleted with its topic meanwhile: unknown now, as Kafka answers, and nothing to log.
              if (broker.getPartition(t.name, p.partitionIndex) !== partition) return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION as number };
              const code = (err as { errorCode?: unknown }).errorCode;
              const errorCode = typeof code === 'number' ? code : ErrorCode.UNKNOWN_SERVER_ERROR;
              ctx.logger.error({ partition: partition.key, offset: p.offset.toString(), err }, 'delete records failed');
              return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode };
            }
          }),
        );
        return { name: t.name, partitions };
      }),
    );
    return { throttleTimeMs: 0, topics };
  },
});
