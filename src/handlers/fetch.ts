/**
 * Fetch (1), versions 4-12 (13+ name topics by id: not advertised until topic ids are used end to end).
 * - Sessionless (KIP-227 sessions are declined by answering sessionId 0): every response lists exactly
 *   the requested partitions, which the Java client requires of a full fetch.
 * - Reads whole batches up to the high watermark (= last stable offset: no transactions yet), at most
 *   partitionMaxBytes per partition and maxBytes in total, but always the first batch found even when it
 *   is larger (KIP-74), so a consumer can never get stuck behind a big batch.
 * - Long poll: when fewer than minBytes are available, the fetch waits in the purgatory until appends
 *   bring enough bytes or maxWaitMs passes, and then answers with whatever is there.
 * - currentLeaderEpoch (v9+, KIP-320): older than ours is FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH.
 * - A topic deleted while the fetch waits or reads: its partitions are UNKNOWN_TOPIC_OR_PARTITION, and
 *   DeleteTopics wakes the waiting fetch at once (Kafka completes delayed fetches of a removed replica).
 * - Partitions come from the replica manager: UNKNOWN_TOPIC_OR_PARTITION when the metadata image has no
 *   such partition, NOT_LEADER_OR_FOLLOWER when it has but this node does not lead it.
 * - read_uncommitted answers abortedTransactions null; read_committed an empty list (no aborted ones).
 * - Replica fetches (replicaId >= 0; ReplicaState.ReplicaId from v15, which is not advertised: followers
 *   use v12, as Kafka allows, ../shared/design/cluster.md A.7) are Kafka's follower path: the replica must
 *   be assigned (else NOT_LEADER_OR_FOLLOWER); its fetch offset is its log end offset, recorded before
 *   anything is read (Partition.updateFollowerFetchState: may move the HW, complete acks=all produces and
 *   grow the ISR); it reads up to the log end offset, not the HW; with lastFetchedEpoch (v12+, KIP-320)
 *   the answer is a DivergingEpoch instead of records when the follower's last epoch ends earlier here.
 *   Consumers' behaviour does not change.
 */
import { Fetch } from '../../protocol/messages/fetch.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { Partition } from '../broker/partition.js';
import type { FetchBufferLease } from '../broker/fetch-buffers.js';
import { defineHandler } from './types.js';

const EMPTY = Buffer.alloc(0);

interface Wanted {
  topic: string;
  partitionIndex: number;
  partition: Partition | undefined;
  /** Why there is no partition: UNKNOWN_TOPIC_OR_PARTITION or NOT_LEADER_OR_FOLLOWER. */
  lookupError: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  /** Replica fetches: where the follower's log diverges from ours (KIP-320), or null. */
  diverging: { epoch: number; endOffset: number } | null;
  /** Replica fetches: the last fetched epoch's end is unknown here (OFFSET_OUT_OF_RANGE, as Kafka). */
  forceOutOfRange?: boolean;
}

export const fetchHandler = defineHandler(Fetch, {
  minVersion: 4,
  maxVersion: 12,
  async handle(ctx, req) {
    const replicas = ctx.broker.replicaManager;
    // -1 consumer, -2 debugging consumer (KIP-392's ReplicaId rule), >= 0 a follower.
    const replicaId = ctx.apiVersion >= 15 ? req.replicaState.replicaId : req.replicaId;
    const fromFollower = replicaId >= 0;
    const wanted: Wanted[] = [];
    for (const t of req.topics) {
      for (const p of t.partitions) {
        const lookup = replicas.leaderFor(t.topic, p.partition);
        wanted.push({
          topic: t.topic,
          partitionIndex: p.partition,
          partition: lookup.partition,
          lookupError: lookup.errorCode,
          fetchOffset: Number(p.fetchOffset),
          partitionMaxBytes: p.partitionMaxBytes,
          currentLeaderEpoch: p.currentLeaderEpoch,
          lastFetchedEpoch: ctx.apiVersion >= 12 ? p.lastFetchedEpoch : -1,
          diverging: null,
        });
      }
    }

    // A partition whose topic is deleted (or deleted and re-created) while this fetch waits or reads is
    // UNKNOWN_TOPIC_OR_PARTITION, as in Kafka once the replica is gone (NOT_LEADER_OR_FOLLOWER if it is
    // still in the image but no longer led here); DeleteTopics wakes waiting fetches.
    const live = (w: Wanted): boolean => w.partition !== undefined && replicas.leaderFor(w.topic, w.partitionIndex).partition === w.partition;
    const precheckEpoch = (w: Wanted): number => {
      if (w.currentLeaderEpoch >= 0 && w.currentLeaderEpoch < w.partition!.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
      if (w.currentLeaderEpoch > w.partition!.leaderEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
      return ErrorCode.NONE;
    };
    const precheck = (w: Wanted): number => {
      if (!w.partition) return w.lookupError;
      if (!live(w)) {
        const now = replicas.leaderFor(w.topic, w.partitionIndex);
        return now.partition ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : now.errorCode;
      }
      const epochError = precheckEpoch(w);
      if (epochError !== ErrorCode.NONE) return epochError;
      if (w.forceOutOfRange === true) return ErrorCode.OFFSET_OUT_OF_RANGE;
      if (w.diverging !== null) return ErrorCode.NONE;
      if (w.fetchOffset < w.partition.logStartOffset || w.fetchOffset > w.partition.logEndOffset) return ErrorCode.OFFSET_OUT_OF_RANGE;
      return ErrorCode.NONE;
    };

    if (fromFollower) {
      // Kafka's Partition.fetchRecords for a follower: the divergence check comes before the offset
      // check (a diverged follower may be past our LEO), then the fetch state is recorded.
      for (const w of wanted) {
        if (!w.partition) continue;
        if (!w.partition.replicas.includes(replicaId)) {
          w.partition = undefined;
          w.lookupError = ErrorCode.NOT_LEADER_OR_FOLLOWER;
          continue;
        }
        const epochError = precheckEpoch(w);
        if (epochError !== ErrorCode.NONE) continue;
        const diverging = w.partition.divergingEpoch(w.lastFetchedEpoch, w.fetchOffset);
        // Kafka's Partition.readRecords: a last fetched epoch whose end this leader cannot determine
        // (undefined epoch or offset), or a fetch offset below the log start, is OFFSET_OUT_OF_RANGE
        // whatever the divergence (the range check below answers both once `diverging` is left null).
        if (diverging !== null && (diverging.epoch < 0 || diverging.endOffset < 0)) w.forceOutOfRange = true;
        else if (diverging !== null && w.fetchOffset >= w.partition.logStartOffset) w.diverging = diverging;
        if (w.diverging === null && precheck(w) === ErrorCode.NONE) w.partition.updateFollowerFetchState(replicaId, w.fetchOffset, w.partition.logEndOffset);
      }
    }

    const minBytes = Math.max(req.minBytes, 0);
    if (req.maxWaitMs > 0 && minBytes > 0) {
      const enough = (): boolean => {
        let available = 0;
        for (const w of wanted) {
          if (precheck(w) !== ErrorCode.NONE || w.diverging !== null) return true;
          available += Math.min(w.partition!.bytesAvailableFrom(w.fetchOffset, fromFollower), Math.max(w.partitionMaxBytes, 1));
          if (available >= minBytes) return true;
        }
        return false;
      };
      const keys = wanted.map((w) => `${w.topic}-${w.partitionIndex}`);
      await replicas.purgatory.wait(keys, req.maxWaitMs, enough);
    }

    let budget = req.maxBytes > 0 ? req.maxBytes : 0x7fffffff;
    let returnedAny = false;
    const byTopic = new Map<string, { topic: string; partitions: object[] }>();
    const readCommitted = req.isolationLevel === 1;
    // Without a release hook (no connection to say when the response is written) reads are not pooled.
    // File reads go into pooled buffers, reused once the response that carried them is written.
    let lease: FetchBufferLease | undefined;
    if (ctx.afterResponseSent) {
      const l = (lease = replicas.leaseFetchBuffers());
      ctx.afterResponseSent(() => l.release());
    }
    for (const w of wanted) {
      let errorCode = precheck(w);
      let records: Buffer = EMPTY;
      if (errorCode === ErrorCode.NONE && budget > 0 && w.diverging === null) {
        const read = await w.partition!.readForFetch(w.fetchOffset, Math.min(w.partitionMaxBytes, budget), !returnedAny, lease?.alloc, fromFollower);
        errorCode = read.errorCode;
        if (read.cause !== undefined) {
          if (!live(w)) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          else ctx.logger.error({ topic: w.topic, partition: w.partitionIndex, err: read.cause }, 'fetch read failed');
        }
        if (read.records.length > 0) {
          records = read.records;
          budget -= records.length;
          returnedAny = true;
        }
      }
      const p = errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ? undefined : w.partition;
      let entry = byTopic.get(w.topic);
      if (!entry) byTopic.set(w.topic, (entry = { topic: w.topic, partitions: [] }));
      entry.partitions.push({
        partitionIndex: w.partitionIndex,
        errorCode,
        highWatermark: BigInt(p ? p.highWatermark : -1),
        lastStableOffset: BigInt(p ? p.lastStableOffset : -1),
        logStartOffset: BigInt(p ? p.logStartOffset : -1),
        abortedTransactions: readCommitted ? [] : null,
        preferredReadReplica: -1,
        records,
        ...(w.diverging !== null && errorCode === ErrorCode.NONE ? { divergingEpoch: { epoch: w.diverging.epoch, endOffset: BigInt(w.diverging.endOffset) } } : {}),
      });
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      sessionId: 0,
      responses: [...byTopic.values()],
    };
  },
});
