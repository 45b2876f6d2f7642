/**
 * Kafka's internal topics (org.apache.kafka.common.internals.Topic.INTERNAL_TOPICS): written only by the
 * broker's own coordinators. Metadata reports them isInternal; a client's Produce into one is
 * INVALID_TOPIC_EXCEPTION (ReplicaManager: "Cannot append to internal topic"); DeleteTopics of one is
 * refused (src/handlers/delete-topics.ts).
 */
export const GROUP_METADATA_TOPIC_NAME = '__consumer_offsets';
export const TRANSACTION_STATE_TOPIC_NAME = '__transaction_state';
export const SHARE_GROUP_STATE_TOPIC_NAME = '__share_group_state';

const INTERNAL_TOPICS: ReadonlySet<string> = new Set([GROUP_METADATA_TOPIC_NAME, TRANSACTION_STATE_TOPIC_NAME, SHARE_GROUP_STATE_TOPIC_NAME]);

export function isInternalTopic(name: string): boolean {
  return INTERNAL_TOPICS.has(name);
}
