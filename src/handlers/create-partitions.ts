/**
 * CreatePartitions (37), versions 0-3 (KIP-195): grows topics' partition counts.
 * - The new count must be larger: equal is INVALID_PARTITIONS "Topic already has N partition(s).", smaller
 *   is INVALID_PARTITIONS "... would not be an increase." (Kafka's ReplicationControlManager messages).
 * - Manual assignments: one replica list per new partition (else INVALID_REPLICA_ASSIGNMENT); a broker id
 *   that is not registered is INVALID_REPLICA_ASSIGNMENT "...includes broker N, but no such broker is
 *   registered.", as Kafka answers (the active controller checks them, src/controller/quorum-controller.ts).
 * - More than 10,000 new partitions in one request, summed over its topics, is POLICY_VIOLATION "Excessively
 *   large number of partitions per request." for every topic that would grow (Kafka's CreateTopics cap,
 *   ReplicationControlManager.MAX_PARTITIONS_PER_BATCH, applied the same way here).
 * - A topic named twice is INVALID_REQUEST "Duplicate topic name."; an unknown topic
 *   UNKNOWN_TOPIC_OR_PARTITION. validateOnly checks everything and creates nothing.
 * - The new partitions are in Metadata once committed to the metadata log and applied here. Existing keys move to
 *   other partitions under the default partitioner, as in Kafka (also for __consumer_offsets: don't).
 * - v1 answers before throttling (KIP-219); v2 is flexible (KIP-482); v3 may answer
 *   THROTTLING_QUOTA_EXCEEDED (KIP-599), which this broker never does (no quotas).
 */
import { CreatePartitions } from '../../protocol/messages/create-partitions.js';
import { ErrorCode } from '../../protocol/errors.js';
import { MAX_PARTITIONS_PER_BATCH, TopicError } from '../broker/broker.js';
import { defineHandler } from './types.js';

export const createPartitionsHandler = defineHandler(CreatePartitions, {
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, req) {
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    let added = 0;
    for (const t of req.topics) {
      const current = ctx.broker.image.topic(t.name)?.partitions.length;
      if ((counts.get(t.name) ?? 0) === 1 && current !== undefined && t.count > current) added += t.count - current;
    }
    const overCap = added > MAX_PARTITIONS_PER_BATCH;
    const answered = new Set<string>();
    const results: { name: string; errorCode: number; errorMessage: string | null }[] = [];
    for (const t of req.topics) {
      if (answered.has(t.name)) continue;
      answered.add(t.name);
      if ((counts.get(t.name) ?? 0) > 1) {
        results.push({ name: t.name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
        continue;
      }
      const current = ctx.broker.image.topic(t.name)?.partitions.length;
      if (overCap && current !== undefined && t.count > current) {
        results.push({ name: t.name, errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: 'Excessively large number of partitions per request.' });
        continue;
      }
      try {
        await ctx.broker.createPartitions(t.name, t.count, t.assignments?.map((a) => a.brokerIds) ?? null, req.validateOnly);
        results.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (err) {
        if (!(err instanceof TopicError)) throw err;
        results.push({ name: t.name, errorCode: err.errorCode, errorMessage: err.message });
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
