/**
 * OffsetDelete (47), version 0 (KIP-496): delete some committed offsets of a group (tombstones in
 * `__consumer_offsets`).
 * - Group level: GROUP_ID_NOT_FOUND (69) for an unknown group; NON_EMPTY_GROUP (68) for a group with
 *   members whose protocol type is not "consumer" (its subscriptions cannot be read).
 * - Partition level: GROUP_SUBSCRIBED_TO_TOPIC (86) when a member of the group subscribes to the topic;
 *   UNKNOWN_TOPIC_OR_PARTITION for a partition this broker does not have. Deleting an offset that was never
 *   committed succeeds.
 */
import { OffsetDelete } from '../../protocol/messages/offset-delete.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from './types.js';

export const offsetDeleteHandler = defineHandler(OffsetDelete, {
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const results = req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE as number })) }));
    const known: { topic: number; partition: number }[] = [];
    const wanted: { topic: string; partition: number }[] = [];
    req.topics.forEach((t, ti) => {
      const state = broker.image.topic(t.name);
      t.partitions.forEach((p, pi) => {
        if (!state || p.partitionIndex < 0 || p.partitionIndex >= state.partitions.length) {
          results[ti]!.partitions[pi]!.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          return;
        }
        known.push({ topic: ti, partition: pi });
        wanted.push({ topic: t.name, partition: p.partitionIndex });
      });
    });
    const r = await broker.groupCoordinator.deleteOffsets(req.groupId, wanted);
    if (r.errorCode !== ErrorCode.NONE) return { errorCode: r.errorCode, throttleTimeMs: 0, topics: [] };
    known.forEach((at, i) => {
      results[at.topic]!.partitions[at.partition]!.errorCode = r.partitionErrors[i]!;
    });
    return { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics: results };
  },
});
