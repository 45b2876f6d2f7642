/**
 * ElectLeaders (KIP-460) facts shared by the controller (quorum-controller.ts) and the client-listener
 * handler (src/handlers/elect-leaders.ts), kept apart from the controller so the handler does not load it
 * on a node without a quorum: Kafka's ElectionType values, and ElectLeadersRequest.getErrorResponse.
 */
import { ErrorCode } from '../../protocol/errors.js';
import type { ElectLeadersRequest, ElectLeadersResponse } from '../../protocol/messages/elect-leaders.js';
import type { MessageValue } from '../../protocol/schema.js';

/** org.apache.kafka.common.ElectionType. */
export const ElectionType = { PREFERRED: 0, UNCLEAN: 1 } as const;

/**
 * ElectLeadersRequest.getErrorResponse: the code at the top and for every requested partition, with the
 * message; no topics when every partition was asked for (null). ElectLeadersResponse sets the top-level
 * code only from v1 (v0 has no such field).
 */
export function electLeadersErrorResponse(
  req: MessageValue<typeof ElectLeadersRequest.decl>,
  errorCode: number,
  errorMessage: string | null,
  version: number,
): MessageValue<typeof ElectLeadersResponse.decl> {
  return {
    throttleTimeMs: 0,
    errorCode: version >= 1 ? errorCode : ErrorCode.NONE,
    replicaElectionResults: (req.topicPartitions ?? []).map((t) => ({ topic: t.topic, partitionResult: t.partitions.map((partitionId) => ({ partitionId, errorCode, errorMessage })) })),
  };
}
