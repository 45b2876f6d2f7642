/**
 * Metadata (3), versions 0-12.
 * - v0: an empty topic list means all topics; v1+: null means all, [] means none.
 * - v4+: allowAutoTopicCreation; before v4 auto-creation follows the broker setting alone.
 *   Auto-created topics get num.partitions (librdkafka's own tests expect the broker default there).
 * - v10+: topic ids (KIP-516); v12 may name topics by id only (name null).
 * - The controller id is this node (it is both broker and controller) and is a listed broker, which the
 *   Java admin client needs: it sends CreateTopics/DeleteTopics to the controller id.
 * - v8+ authorized operations (KIP-430), when asked: with no authorizer Kafka reports every operation the
 *   resource supports (src/broker/authorized-operations.ts), for every topic listed (also those answered
 *   with an error) and, v8-10, for the cluster; not asked: Kafka's "omitted" value INT32_MIN.
 */
import { Metadata } from '../../protocol/messages/metadata.js';
import { ErrorCode } from '../../protocol/errors.js';
import { NULL_UUID } from '../../protocol/primitives.js';
import { TopicError, topicNameError } from '../broker/broker.js';
import type { TopicImage } from '../broker/metadata-image.js';
import { isInternalTopic } from '../broker/internal-topics.js';
import { AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_OPERATIONS, TOPIC_OPERATIONS } from '../broker/authorized-operations.js';
import { defineHandler } from './types.js';


export const metadataHandler = defineHandler(Metadata, {
  minVersion: 0,
  maxVersion: 12,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const image = broker.image;
    const version = ctx.apiVersion;
    const allTopics = req.topics === null || (version === 0 && req.topics.length === 0);
    const allowAutoCreate = version >= 4 ? req.allowAutoTopicCreation : true;
    const topicOperations = version >= 8 && req.includeTopicAuthorizedOperations ? TOPIC_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED;
    const clusterOperations = version >= 8 && version <= 10 && req.includeClusterAuthorizedOperations ? CLUSTER_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED;

    type TopicOut = {
      errorCode: number;
      name: string | null;
      topicId: string;
      isInternal: boolean;
      partitions: { errorCode: number; partitionIndex: number; leaderId: number; leaderEpoch: number; replicaNodes: number[]; isrNodes: number[]; offlineReplicas: number[] }[];
      topicAuthorizedOperations: number;
    };
    const describe = (t: TopicImage): TopicOut => ({
      errorCode: ErrorCode.NONE,
      name: t.name,
      topicId: t.topicId,
      isInternal: isInternalTopic(t.name),
      partitions: t.partitions.map((p) => ({
        errorCode: ErrorCode.NONE,
        partitionIndex: p.partition,
        leaderId: p.leader,
        leaderEpoch: p.leaderEpoch,
        replicaNodes: [...p.replicas],
        isrNodes: [...p.isr],
        offlineReplicas: [],
      })),
      topicAuthorizedOperations: topicOperations,
    });
    const missing = (name: string | null, topicId: string, errorCode: number): TopicOut => ({
      errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: topicOperations,
    });

    const topics: TopicOut[] = [];
    if (allTopics) {
      for (const t of image.topics()) topics.push(describe(t));
    } else {
      for (const requested of req.topics ?? []) {
        if (requested.name === null || requested.name === undefined) {
          const byId = image.topicById(requested.topicId);
          topics.push(byId ? describe(byId) : missing(null, requested.topicId, ErrorCode.UNKNOWN_TOPIC_ID));
          continue;
        }
        const name = requested.name;
        let state = image.topic(name);
        if (!state) {
          if (topicNameError(name) !== null) {
            topics.push(missing(name, NULL_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION));
            continue;
          }
          if (allowAutoCreate && broker.config.autoCreateTopicsEnable) {
            try {
              state = (await broker.autoCreateTopic(name)) ?? undefined;
            } catch (err) {
              // Refused (default.replication.factor above the brokers there are, a name colliding with an
              // existing topic's): the topic carries the error, as Kafka's auto-creation answers it.
              if (!(err instanceof TopicError)) throw err;
              topics.push(missing(name, NULL_UUID, err.errorCode));
              continue;
            }
            // Kafka answers LEADER_NOT_AVAILABLE for a topic it has just started creating; here the topic
            // is complete before we answer, so it is described at once.
          }
        }
        topics.push(state ? describe(state) : missing(name, NULL_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
      }
    }
    return {
      throttleTimeMs: 0,
      // Only live brokers: a fenced one (registered but not caught up, or whose session expired) is not
      // offered to clients (Kafka's KRaftMetadataCache.getAliveBrokerNodes).
      brokers: [...image.brokers.values()].filter((b) => !b.fenced).map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
      clusterId: image.clusterId,
      controllerId: image.controllerId,
      topics,
      clusterAuthorizedOperations: clusterOperations,
    };
  },
});
