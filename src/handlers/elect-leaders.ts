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
 * - A node without a quorum (no controller.quorum.voters) is its partitions' only replica and leader, so
 *   it answers the controller's rules from its own image: ELECTION_NOT_NEEDED for a partition its first
 *   replica leads (PREFERRED) or that has a leader (UNCLEAN), UNKNOWN_TOPIC_OR_PARTITION ("No such topic as
 *   t", "No such partition as t-9") for unknown ones; with every partition asked for (null) it lists each
 *   topic with no partitions, as Kafka leaves out those that needed no election.
 * - An election type other than 0 and 1 is INVALID_REQUEST "Unknown election type N"; an empty list is
 *   answered with no results.
 * - v0 has no electionType (always PREFERRED); v1 adds it and the top-level errorCode (KIP-460); v2 is
 *   flexible (KIP-482). Not implemented: the CLUSTER ALTER authorization Kafka checks (no ACLs here, as for
 *   the other admin requests).
 */
import { ErrorCode, errorInfo } from '../../protocol/errors.js';
import { ElectLeaders, type ElectLeadersRequest, type ElectLeadersResponse } from '../../protocol/messages/elect-leaders.js';
import type { MessageValue } from '../../protocol/schema.js';
import { ControllerUnavailableError } from '../broker/controller-channel.js';
import type { MetadataImage } from '../broker/metadata-image.js';
import { NO_LEADER } from '../broker/metadata-replay.js';
import { ElectionType, electLeadersErrorResponse } from '../controller/elect-leaders-response.js';
import { defineHandler } from './types.js';

type Request = MessageValue<typeof ElectLeadersRequest.decl>;
type Response = MessageValue<typeof ElectLeadersResponse.decl>;

/** The response as the client's version can carry it (no top-level errorCode at v0). */
function forVersion(response: Response, version: number): Response {
  return version === 0 && response.errorCode !== ErrorCode.NONE ? { ...response, errorCode: ErrorCode.NONE } : response;
}

/** A node without a quorum: the controller's answers, from this node's image (it leads every partition). */
function electLocally(image: MetadataImage, req: Request): Response {
  const notNeeded = { errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: errorInfo(ErrorCode.ELECTION_NOT_NEEDED).message };
  const result = (topic: string, partitionId: number) => {
    const t = image.topic(topic);
    if (!t) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such topic as ${topic}` };
    const p = t.partitions[partitionId];
    if (!p) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such partition as ${topic}-${partitionId}` };
    if (req.electionType === ElectionType.PREFERRED ? p.leader === p.replicas[0] : p.leader !== NO_LEADER) return notNeeded;
    // Not reached on a single node (its partitions always have it as leader): nothing else could lead.
    const code = req.electionType === ElectionType.PREFERRED ? ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE : ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE;
    return { errorCode: code, errorMessage: errorInfo(code).message };
  };
  if (req.topicPartitions === null) {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      replicaElectionResults: [...image.topics()].map((t) => ({
        topic: t.name,
        partitionResult: t.partitions.map((p) => ({ partitionId: p.partition, ...result(t.name, p.partition) })).filter((r) => r.errorCode !== ErrorCode.ELECTION_NOT_NEEDED),
      })),
    };
  }
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    replicaElectionResults: req.topicPartitions.map((t) => ({ topic: t.topic, partitionResult: t.partitions.map((partitionId) => ({ partitionId, ...result(t.topic, partitionId) })) })),
  };
}

export const electLeadersHandler = defineHandler(ElectLeaders, {
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    if (req.topicPartitions !== null && req.topicPartitions.length === 0) return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: [] };
    const kraft = ctx.broker.kraft;
    if (kraft === null) {
      if (req.electionType !== ElectionType.PREFERRED && req.electionType !== ElectionType.UNCLEAN) {
        return electLeadersErrorResponse(req, ErrorCode.INVALID_REQUEST, `Unknown election type ${req.electionType}`, ctx.apiVersion);
      }
      return electLocally(ctx.broker.image, req);
    }
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
