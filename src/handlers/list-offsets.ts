/**
 * ListOffsets (2), versions 1-7.
 * - timestamp -2 (EARLIEST): the log start offset; -1 (LATEST): the high watermark, or the last stable
 *   offset under read_committed (equal here: no transactions); -3 (MAX_TIMESTAMP, v7, KIP-734): the
 *   offset and timestamp of the batch holding the largest timestamp.
 * - timestamp >= 0: the first offset whose timestamp is >= it, found through the time index; none:
 *   offset -1 and timestamp -1 (what Kafka answers, and what PySpark's startingOffsetsByTimestamp expects).
 * - leaderEpoch (v4+) is the partition's current leader epoch for -1/-2/-3 and lookups.
 */
import { ListOffsets } from '../../protocol/messages/list-offsets.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from './types.js';

const EARLIEST = -2;
const LATEST = -1;
const MAX_TIMESTAMP = -3;

export const listOffsetsHandler = defineHandler(ListOffsets, {
  minVersion: 1,
  maxVersion: 7,
  async handle(ctx, req) {
    const broker = ctx.broker;
    // leaderEpoch exists from v4 and is not ignorable: below v4 it must stay at its default.
    const epochOf = (epoch: number): number => (ctx.apiVersion >= 4 ? epoch : -1);
    const topics = await Promise.all(
      req.topics.map(async (t) => {
        const partitions = await Promise.all(
          t.partitions.map(async (p) => {
            const out = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE as number, oldStyleOffsets: [] as bigint[], timestamp: -1n, offset: -1n, leaderEpoch: -1 };
            const { partition, errorCode } = broker.replicaManager.leaderFor(t.name, p.partitionIndex);
            if (!partition) return { ...out, errorCode };
            if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch < partition.leaderEpoch) return { ...out, errorCode: ErrorCode.FENCED_LEADER_EPOCH };
            if (p.currentLeaderEpoch > partition.leaderEpoch) return { ...out, errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH };
            const ts = Number(p.timestamp);
            if (ts === EARLIEST) return { ...out, offset: BigInt(partition.logStartOffset), leaderEpoch: epochOf(partition.leaderEpoch) };
            if (ts === LATEST) {
              const end = req.isolationLevel === 1 ? partition.lastStableOffset : partition.highWatermark;
              return { ...out, offset: BigInt(end), leaderEpoch: epochOf(partition.leaderEpoch) };
            }
            if (ts !== MAX_TIMESTAMP && ts < 0) return { ...out, errorCode: ErrorCode.INVALID_REQUEST };
            let found: { offset: number; timestamp: number } | null;
            try {
              found = ts === MAX_TIMESTAMP ? await partition.offsetOfMaxTimestamp() : await partition.offsetForTimestamp(ts);
            } catch (err) {
              // The topic was deleted while its log was searched: gone, as Kafka answers, not a storage fault.
              if (broker.getPartition(t.name, p.partitionIndex) !== partition) return { ...out, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
              ctx.logger.error({ partition: partition.key, timestamp: ts, err }, 'offset lookup by timestamp failed');
              return { ...out, errorCode: ErrorCode.KAFKA_STORAGE_ERROR };
            }
            if (!found || (ts !== MAX_TIMESTAMP && found.offset >= partition.highWatermark)) return out;
            return { ...out, offset: BigInt(found.offset), timestamp: BigInt(found.timestamp), leaderEpoch: epochOf(partition.leaderEpoch) };
          }),
        );
        return { name: t.name, partitions };
      }),
    );
    return { throttleTimeMs: 0, topics };
  },
});
