/**
 * CreateTopics (19), versions 2-7, forwarded whole to the active controller, which checks it with Kafka's
 * codes and messages (src/controller/quorum-controller.ts createTopics):
 * - numPartitions / replicationFactor -1 take the broker defaults (KIP-464, v4+).
 * - validateOnly (v1+) checks everything and creates nothing.
 * - v5+ returns the topic's partitions, replication factor and configs (KIP-525); v7 the topic id (KIP-516).
 * Errors: TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR,
 * INVALID_CONFIG, INVALID_REQUEST (duplicate names in one request), INVALID_REPLICA_ASSIGNMENT,
 * POLICY_VIOLATION (more than 10,000 partitions in one request, ReplicationControlManager
 * .validateTotalNumberOfPartitions); REQUEST_TIMED_OUT when no controller answers in time.
 */
import { CreateTopics } from '../../protocol/messages/create-topics.js';
import { ErrorCode } from '../../protocol/errors.js';
import { NULL_UUID } from '../../protocol/primitives.js';
import { defineHandler } from './types.js';

export const createTopicsHandler = defineHandler(CreateTopics, {
  minVersion: 2,
  maxVersion: 7,
  async handle(ctx, req) {
    const broker = ctx.broker;
    // The active controller validates, places the replicas and commits the topics (Kafka's brokers
    // forward CreateTopics to it, KIP-590; a single node is its own controller); the answer is the
    // controller's, given once this node's image has the created topics.
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
  },
});
