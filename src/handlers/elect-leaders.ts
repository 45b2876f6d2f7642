/**
 * ElectLeaders (43), versions 0-2 (KIP-183, KIP-460): what `kafka-leader-election.sh` and
 * Admin.electLeaders send to move partition leadership back to the preferred (first) replica, or to elect
 * any live replica of a leaderless partition (unclean).
 * - In a cluster the broker forwards it to the active controller (Kafka 4.x KafkaApis: ELECT_LEADERS =>
 *   forwardToController), which decides and writes the PartitionChangeRecords
 *   (QuorumController.electLeaders, docs/controller.md) and answers once they are committed. It is sent at
 *   the highest version the controller takes (the answer's fields are the same at every version), and the
 *   client gets it at its own: v0 has no top-level errorCode, so there only the partitions carry an error,
 *   as Kafka's ElectLeadersResponse drops it below v1.
 * - No controller answered within request.timeout.ms: REQUEST_TIMED_OUT (ElectLeadersRequest
 *   .getErrorResponse: top-level from v1 and on every requested partition), with the channel's reason.
 * - A single node (no controller.quorum.voters) is a quorum of one and forwards to its own controller.
 * - An election type other than 0 and 1 is INVALID_REQUEST "Unknown election type N"; an empty list is
 *   answered with no results.
 * - v0 has no electionType (always PREFERRED); v1 adds it and the top-level errorCode (KIP-460); v2 is
 *   flexible (KIP-482). Not implemented: the CLUSTER ALTER authorization Kafka checks (no ACLs here, as for
 *   the other admin requests).
 */
import { ErrorCode } from '../../protocol/errors.js';
import { ElectLeaders, type ElectLeadersResponse } from '../../protocol/messages/elect-leaders.js';
import type { MessageValue } from '../../protocol/schema.js';
import { ControllerUnavailableError } from '../broker/controller-channel.js';
import { electLeadersErrorResponse } from '../controller/elect-leaders-response.js';
import { defineHandler } from './types.js';

type Response = MessageValue<typeof ElectLeadersResponse.decl>;

/** The response as the client's version can carry it (no top-level errorCode at v0). */
function forVersion(response: Response, version: number): Response {
  return version === 0 && response.errorCode !== ErrorCode.NONE ? { ...response, errorCode: ErrorCode.NONE } : response;
}

export const electLeadersHandler = defineHandler(ElectLeaders, {
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    if (req.topicPartitions !== null && req.topicPartitions.length === 0) return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: [] };
    const kraft = ctx.broker.kraft;
    try {
      const { response } = await kraft.channel.send(ElectLeaders, req, {
        deadlineMs: kraft.requestTimeoutMs,
        notController: (r) => r.errorCode === ErrorCode.NOT_CONTROLLER,
      });
      return forVersion(response, ctx.apiVersion);
    } catch (err) {
      ctx.logger.warn({ err }, 'forwarding ElectLeaders to the controller failed');
      const code = err instanceof ControllerUnavailableError ? ErrorCode.REQUEST_TIMED_OUT : ErrorCode.UNKNOWN_SERVER_ERROR;
      return electLeadersErrorResponse(req, code, (err as Error).message, ctx.apiVersion);
    }
  },
});
