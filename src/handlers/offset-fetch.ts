/**
 * OffsetFetch (9), versions 1-9: a group's committed offsets, from the coordinator's cache of
 * `__consumer_offsets`.
 * - A partition without a committed offset (or an unknown group) answers offset -1, metadata "" and
 *   no error, as Kafka does. The committed leader epoch is returned from v5 (KIP-320; -1 when none was
 *   committed).
 * - v2+: null topics ask for every committed offset of the group, and a top-level error code exists;
 *   before v2 a group-level error is repeated on every partition.
 * - v7 requireStable (KIP-447): no transactional offsets here, so nothing is ever pending.
 * - v8+ (KIP-709): several groups per request, each answered in its own entry with its own error code.
 * - v9 memberId/memberEpoch (KIP-848) are ignored: only classic groups exist.
 * - v0 (offsets in ZooKeeper) is not advertised.
 */
import { OffsetFetch } from '../../protocol/messages/offset-fetch.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { FetchedOffset } from '../group/coordinator.js';
import { defineHandler } from './types.js';

type Wanted = { name: string; partitionIndexes: number[] }[] | null;

function byTopic(offsets: FetchedOffset[], groupError: number) {
  const topics = new Map<string, { name: string; partitions: { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; metadata: string; errorCode: number }[] }>();
  for (const o of offsets) {
    let t = topics.get(o.topic);
    if (!t) topics.set(o.topic, (t = { name: o.topic, partitions: [] }));
    t.partitions.push({
      partitionIndex: o.partition,
      committedOffset: o.offset,
      committedLeaderEpoch: o.leaderEpoch,
      metadata: o.metadata,
      errorCode: groupError !== ErrorCode.NONE ? groupError : o.errorCode,
    });
  }
  return [...topics.values()];
}

function wantedPartitions(topics: Wanted): { topic: string; partition: number }[] | null {
  if (topics === null) return null;
  return topics.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition })));
}

export const offsetFetchHandler = defineHandler(OffsetFetch, {
  minVersion: 1,
  maxVersion: 9,
  async handle(ctx, req) {
    const coordinator = ctx.broker.groupCoordinator;
    if (ctx.apiVersion >= 8) {
      const groups = req.groups.map((g) => {
        const r = coordinator.fetchOffsets(g.groupId, wantedPartitions(g.topics));
        return { groupId: g.groupId, topics: r.errorCode === ErrorCode.NONE ? byTopic(r.offsets, ErrorCode.NONE) : [], errorCode: r.errorCode };
      });
      return { throttleTimeMs: 0, groups };
    }
    const wanted = wantedPartitions(req.topics);
    const r = coordinator.fetchOffsets(req.groupId, wanted);
    if (ctx.apiVersion < 2) {
      // No top-level error field: a group-level error goes on every requested partition.
      const offsets = r.errorCode === ErrorCode.NONE ? r.offsets : (wanted ?? []).map((w) => ({ ...w, offset: -1n, leaderEpoch: -1, metadata: '', errorCode: r.errorCode }));
      return { throttleTimeMs: 0, topics: byTopic(offsets, r.errorCode) };
    }
    return { throttleTimeMs: 0, topics: r.errorCode === ErrorCode.NONE ? byTopic(r.offsets, ErrorCode.NONE) : [], errorCode: r.errorCode };
  },
});
