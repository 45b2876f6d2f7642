/**
 * Authorized operations (KIP-430) as Kafka computes them with no authorizer configured: every operation the
 * resource type supports (AclEntry.supportedOperations), as a bit field with bit n set for AclOperation
 * code n (Utils.to32BitField). Samsa has no ACLs, so these are always the answers when a client asks.
 */

/** AclOperation codes (org.apache.kafka.common.acl.AclOperation). */
export const AclOperation = {
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
} as const;

/** The "not requested" value of the authorized-operations fields (Integer.MIN_VALUE). */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

function bits(ops: readonly number[]): number {
  return ops.reduce((field, op) => field | (1 << op), 0);
}

const op = AclOperation;
/** TOPIC: READ, WRITE, CREATE, DESCRIBE, DELETE, ALTER, DESCRIBE_CONFIGS, ALTER_CONFIGS. */
export const TOPIC_OPERATIONS = bits([op.READ, op.WRITE, op.CREATE, op.DESCRIBE, op.DELETE, op.ALTER, op.DESCRIBE_CONFIGS, op.ALTER_CONFIGS]);
/** CLUSTER: CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER, DESCRIBE. */
export const CLUSTER_OPERATIONS = bits([op.CREATE, op.CLUSTER_ACTION, op.DESCRIBE_CONFIGS, op.ALTER_CONFIGS, op.IDEMPOTENT_WRITE, op.ALTER, op.DESCRIBE]);
/** GROUP: READ, DESCRIBE, DELETE. */
export const GROUP_OPERATIONS = bits([op.READ, op.DESCRIBE, op.DELETE]);
