/**
 * CreateTopics (19), versions 2-7.
 * - numPartitions / replicationFactor -1 take the broker defaults (KIP-464, v4+).
 * - Manual replica assignments must name only this node and one replica per partition here.
 * - validateOnly (v1+) checks everything and creates nothing.
 * - v5+ returns the topic's partitions, replication factor and configs (KIP-525); v7 the topic id (KIP-516).
 * Errors: TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR,
 * INVALID_CONFIG, INVALID_REQUEST (duplicate names in one request), INVALID_REPLICA_ASSIGNMENT.
 * More than 10,000 partitions in one request (summed over its topics, -1 counting as num.partitions) fails
 * every topic of it with POLICY_VIOLATION "Excessively large number of partitions per request.", before
 * anything is created (ReplicationControlManager.validateTotalNumberOfPartitions); CreatePartitions has the
 * same cap.
 */
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { ErrorCode } from '../../protocol/errors.js';
import { NULL_UUID } from '../../protocol/primitives.js';
import { MAX_PARTITIONS_PER_BATCH, TopicError } from '../broker/broker.js';
import { resolveTopicConfig, TOPIC_CONFIGS } from '../broker/topic-config.js';
import { defineHandler } from './types.js';

export const createTopicsHandler = defineHandler(CreateTopics, {
  minVersion: 2,
  maxVersion: 7,
  async handle(ctx, req) {
    const broker = ctx.broker;
    if (broker.kraft !== null) {
      // In a cluster the active controller validates, places the replicas and commits the topics
      // (Kafka's brokers forward CreateTopics to it, KIP-590); the answer is the controller's, given once
      // this node's image has the created topics.
      const { channel, requestTimeoutMs } = broker.kraft;
      try {
        const { response } = await channel.send(CreateTopics, req, { version: ctx.apiVersion, deadlineMs: Math.max(req.timeoutMs, 1000), notController: (r) => r.topics.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER) });
        const created = response.topics.filter((t) => t.errorCode === ErrorCode.NONE && !req.validateOnly).map((t) => t.name);
        await broker.awaitImage((image) => created.every((name) => image.topic(name) !== undefined), requestTimeoutMs);
        return response;
      } catch (err) {
        ctx.logger.warn({ err }, 'forwarding CreateTopics to the controller failed');
        const errorMessage = (err as Error).message;
        return { throttleTimeMs: 0, topics: req.topics.map((t) => ({ name: t.name, topicId: NULL_UUID, errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage, numPartitions: -1, replicationFactor: -1, configs: null })) };
      }
    }
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const topics = [];
    let totalPartitions = 0;
    for (const t of req.topics) {
      if (t.assignments.length > 0) totalPartitions += t.assignments.length;
      else if (t.numPartitions === -1) totalPartitions += broker.config.numPartitions;
      else if (t.numPartitions > 0) totalPartitions += t.numPartitions;
    }
    if (totalPartitions > MAX_PARTITIONS_PER_BATCH) {
      const errorMessage = 'Excessively large number of partitions per request.';
      return { throttleTimeMs: 0, topics: req.topics.map((t) => ({ name: t.name, topicId: NULL_UUID, errorCode: ErrorCode.POLICY_VIOLATION, errorMessage, numPartitions: -1, replicationFactor: -1, configs: null })) };
    }
    for (const t of req.topics) {
      const base = { name: t.name, topicId: NULL_UUID, errorCode: ErrorCode.NONE as number, errorMessage: null as string | null, numPartitions: -1, replicationFactor: -1, configs: null as null | { name: string; value: string | null; readOnly: boolean; configSource: number; isSensitive: boolean }[] };
      if ((counts.get(t.name) ?? 0) > 1) {
        topics.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Create topics request from client contains multiple entries for topic ${t.name}` });
        continue;
      }
      let numPartitions = t.numPartitions;
      let replicationFactor = t.replicationFactor;
      if (t.assignments.length > 0) {
        if (numPartitions !== -1 || replicationFactor !== -1) {
          topics.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.' });
          continue;
        }
        const bad = t.assignments.find((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== broker.nodeId);
        if (bad) {
          topics.push({ ...base, errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: `Replica assignment for partition ${bad.partitionIndex} must name only broker ${broker.nodeId}` });
          continue;
        }
        numPartitions = t.assignments.length;
        replicationFactor = 1;
      }
      const configs = new Map<string, string>();
      for (const c of t.configs) if (c.value !== null) configs.set(c.name, c.value);
      try {
        const created = await broker.createTopic(t.name, numPartitions, replicationFactor, configs, req.validateOnly);
        const state = created ?? null;
        topics.push({
          ...base,
          topicId: state?.topicId ?? NULL_UUID,
          numPartitions: state?.partitions.length ?? (numPartitions === -1 ? broker.config.numPartitions : numPartitions),
          replicationFactor: replicationFactor === -1 ? broker.config.defaultReplicationFactor : replicationFactor,
          configs: TOPIC_CONFIGS.map((def) => {
            const r = resolveTopicConfig(broker.config, configs, def.name)!;
            return { name: def.name, value: r.value, readOnly: false, configSource: r.source, isSensitive: false };
          }),
        });
      } catch (err) {
        if (!(err instanceof TopicError)) throw err;
        topics.push({ ...base, errorCode: err.errorCode, errorMessage: err.message });
      }
    }
    return { throttleTimeMs: 0, topics };
  },
});
