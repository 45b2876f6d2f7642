/**
 * The checks a new topic must pass, shared by the single-node Broker.createTopic (src/broker/broker.ts) and
 * the quorum controller's createTopics (quorum-controller.ts), so both answer with the same error codes
 * and messages, in the same order:
 *
 *   the name (Kafka's Topic.validate) -> INVALID_TOPIC_EXCEPTION; an existing topic -> TOPIC_ALREADY_EXISTS;
 *   a '.'/'_' collision (Topic.hasCollision) -> INVALID_TOPIC_EXCEPTION; partitions (-1 = num.partitions)
 *   <= 0 -> INVALID_PARTITIONS; replication factor (-1 = default.replication.factor) <= 0, no unfenced
 *   broker, or more replicas than registered brokers -> INVALID_REPLICATION_FACTOR with the message of
 *   Kafka's StripedReplicaPlacer ("Unable to replicate the partition N time(s): ..."); the configs
 *   (topic-config.ts, LogConfig's rules) -> INVALID_CONFIG.
 *
 * Also the request-level rules of CreateTopics / CreatePartitions that the handlers apply today, with
 * their texts, for the controller to apply the same way.
 */
import { ErrorCode } from '../../protocol/errors.js';
import { validateTopicConfigs } from '../broker/topic-config.js';
import { TopicError } from '../broker/topic-error.js';

/** Most partitions one CreateTopics / CreatePartitions request may add (Kafka's MAX_PARTITIONS_PER_BATCH). */
export const MAX_PARTITIONS_PER_BATCH = 10_000;
export const EXCESSIVE_PARTITIONS_MESSAGE = 'Excessively large number of partitions per request.';
const MAX_TOPIC_NAME_LENGTH = 249;
const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** Kafka's Topic.validate rules; returns an error message or null. */
export function topicNameError(name: string): string | null {
  if (name.length === 0) return 'Topic name is illegal, it can\'t be empty';
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH) return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters`;
  if (!TOPIC_NAME.test(name)) return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  return null;
}

/**
 * Kafka's Topic.hasCollision: '.' and '_' are the same character in metric names, so `a.b_c` and `a_b.c`
 * cannot both exist (ReplicationControlManager refuses the second with INVALID_TOPIC_EXCEPTION). Returns
 * the existing topic `name` collides with, or null.
 */
export function collidingTopic(name: string, existing: Iterable<string>): string | null {
  if (!name.includes('.') && !name.includes('_')) return null;
  const unified = name.replaceAll('.', '_');
  for (const other of existing) if (other !== name && other.replaceAll('.', '_') === unified) return other;
  return null;
}

/** What validateNewTopic needs to know of the cluster. */
export interface NewTopicContext {
  /** True when a topic of that name exists (or is being created). */
  exists(name: string): boolean;
  /** The names of the existing topics (and those being created), for the collision check. */
  names(): Iterable<string>;
  /** num.partitions, for numPartitions -1 (KIP-464). */
  readonly defaultNumPartitions: number;
  /** default.replication.factor, for replicationFactor -1 (KIP-464). */
  readonly defaultReplicationFactor: number;
  /** Brokers replicas may be placed on (registered, not in controlled shutdown). */
  readonly registeredBrokers: number;
  /** Of those, the unfenced ones (a leader must be one). */
  readonly unfencedBrokers: number;
}

/** The InvalidReplicationFactorException texts of Kafka's StripedReplicaPlacer, as ReplicationControlManager wraps them. */
export function tooFewBrokersMessage(replicationFactor: number, registered: number): string {
  return `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ${replicationFactor} cannot be reached because only ${registered} broker(s) are registered.`;
}

export function allFencedMessage(replicationFactor: number): string {
  return `Unable to replicate the partition ${replicationFactor} time(s): All brokers are currently fenced.`;
}

/**
 * Checks a topic to be created; throws TopicError with Kafka's code and message. Returns the partition
 * count and replication factor with the -1 defaults resolved.
 */
export function validateNewTopic(
  name: string,
  numPartitions: number,
  replicationFactor: number,
  configs: ReadonlyMap<string, string>,
  ctx: NewTopicContext,
): { partitions: number; replicationFactor: number } {
  const nameError = topicNameError(name);
  if (nameError) throw new TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
  if (ctx.exists(name)) throw new TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
  const colliding = collidingTopic(name, ctx.names());
  if (colliding !== null) throw new TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${name}' collides with existing topic: ${colliding}`);
  const partitions = numPartitions === -1 ? ctx.defaultNumPartitions : numPartitions;
  const replicas = replicationFactor === -1 ? ctx.defaultReplicationFactor : replicationFactor;
  if (partitions <= 0) throw new TopicError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.');
  if (replicas <= 0) throw new TopicError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.');
  if (ctx.unfencedBrokers === 0) throw new TopicError(ErrorCode.INVALID_REPLICATION_FACTOR, allFencedMessage(replicas));
  if (replicas > ctx.registeredBrokers) throw new TopicError(ErrorCode.INVALID_REPLICATION_FACTOR, tooFewBrokersMessage(replicas, ctx.registeredBrokers));
  try {
    validateTopicConfigs(configs);
  } catch (err) {
    throw new TopicError(ErrorCode.INVALID_CONFIG, (err as Error).message);
  }
  return { partitions, replicationFactor: replicas };
}

/** CreateTopics: a topic named twice in one request (every copy fails). */
export function duplicateTopicMessage(name: string): string {
  return `Create topics request from client contains multiple entries for topic ${name}`;
}

/** CreateTopics: numPartitions / replicationFactor together with manual assignments. */
export const ASSIGNMENTS_AND_COUNTS_MESSAGE = 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.';
