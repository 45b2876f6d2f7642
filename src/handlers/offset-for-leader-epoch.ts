/**
 * OffsetForLeaderEpoch (23), versions 2-4: for each partition, the end offset of the requested leader
 * epoch (KIP-101, KIP-279), which consumers use to detect log truncation after a leader change (KIP-320)
 * and followers to find where their log diverged.
 * - From the partition's leader epoch cache (Kafka's LeaderEpochFileCache.endOffsetFor): the current epoch
 *   ends at the log end offset; an older epoch ends where the next known epoch starts, and the answer
 *   carries the largest known epoch <= the requested one; an epoch below every known one ends at the first
 *   known epoch's start; an epoch above every known one, or -1, is answered with leaderEpoch -1 and
 *   endOffset -1 (error NONE), as Kafka does. The leader's epoch is recorded at its start offset when the
 *   partition opens (Kafka's makeLeader), so an empty partition answers too.
 * - currentLeaderEpoch (v2+, KIP-320) fences: below the partition's epoch is FENCED_LEADER_EPOCH, above it
 *   UNKNOWN_LEADER_EPOCH; -1 skips the check.
 * - replicaId (v3+, KIP-392): -1 consumer, -2 debugging consumer, >= 0 a follower. Kafka only authorizes
 *   differently by it (CLUSTER_ACTION for followers); the answer is the same, here too.
 * - Versions: v0-1 are deprecated (KIP-896) and not advertised; librdkafka 2.1+ sends v2, and the Java client
 *   uses this API only when v3+ is advertised. v4 is flexible (KIP-482).
 * Unknown topic or partition: UNKNOWN_TOPIC_OR_PARTITION.
 */
import { OffsetForLeaderEpoch } from '../../protocol/messages/offset-for-leader-epoch.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from './types.js';

export const offsetForLeaderEpochHandler = defineHandler(OffsetForLeaderEpoch, {
  minVersion: 2,
  maxVersion: 4,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const topics = req.topics.map((t) => {
      return {
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const { partition, errorCode } = broker.replicaManager.leaderFor(t.topic, p.partition);
          if (!partition) return { errorCode, partition: p.partition, leaderEpoch: -1, endOffset: -1n };
          const r = partition.lastOffsetForLeaderEpoch(p.currentLeaderEpoch, p.leaderEpoch);
          return { errorCode: r.errorCode, partition: p.partition, leaderEpoch: r.leaderEpoch, endOffset: BigInt(r.endOffset) };
        }),
      };
    });
    return { throttleTimeMs: 0, topics };
  },
});
