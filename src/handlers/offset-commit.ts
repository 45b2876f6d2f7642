/**
 * OffsetCommit (8), versions 2-9: store a group's committed offsets as OffsetCommitValue records in
 * `__consumer_offsets` (one batch per request), with the committed leader epoch (v6+, KIP-320) and the
 * metadata string (null stored as "").
 * - Group commits (a generation >= 0, a member id or a groupInstanceId) must come from a current member of
 *   the current generation: UNKNOWN_MEMBER_ID (25), ILLEGAL_GENERATION (22), FENCED_INSTANCE_ID (82), and
 *   REBALANCE_IN_PROGRESS (27) between the join and sync of a generation. A commit also counts as a
 *   heartbeat.
 * - Simple commits (generation -1, no member: assign()-based consumers, admin tools) are accepted for an
 *   unknown or Empty group, which they create; for a group with members they are UNKNOWN_MEMBER_ID. A
 *   group commit for an unknown group is ILLEGAL_GENERATION, as in Kafka.
 * - Per partition: UNKNOWN_TOPIC_OR_PARTITION for a partition this broker does not have,
 *   OFFSET_METADATA_TOO_LARGE beyond offset.metadata.max.bytes.
 * - retentionTimeMs (v2-4) is ignored: offsets expire by offsets.retention.minutes (KIP-211). v0-1 are not
 *   advertised (deprecated, KIP-896). v9 (KIP-848 member epochs) is treated as v8 for classic groups.
 */
import { OffsetCommit } from '../../protocol/messages/offset-commit.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from './types.js';

export const offsetCommitHandler = defineHandler(OffsetCommit, {
  minVersion: 2,
  maxVersion: 9,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const results = req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE as number })) }));
    const valid: { topic: number; partition: number }[] = [];
    const offsets = [];
    for (let ti = 0; ti < req.topics.length; ti++) {
      const t = req.topics[ti]!;
      const state = broker.image.topic(t.name);
      for (let pi = 0; pi < t.partitions.length; pi++) {
        const p = t.partitions[pi]!;
        if (!state || p.partitionIndex < 0 || p.partitionIndex >= state.partitions.length) {
          results[ti]!.partitions[pi]!.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          continue;
        }
        valid.push({ topic: ti, partition: pi });
        offsets.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata });
      }
    }
    if (offsets.length > 0) {
      const errors = await broker.groupCoordinator.commitOffsets({
        groupId: req.groupId,
        generationId: req.generationIdOrMemberEpoch,
        memberId: req.memberId,
        groupInstanceId: ctx.apiVersion >= 7 ? req.groupInstanceId : null,
        offsets,
      });
      valid.forEach((at, i) => {
        results[at.topic]!.partitions[at.partition]!.errorCode = errors[i]!;
      });
    }
    return { throttleTimeMs: 0, topics: results };
  },
});
