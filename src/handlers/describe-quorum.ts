/**
 * DescribeQuorum (55), versions 0-2, on the client listener: what `kafka-metadata-quorum --bootstrap-server
 * ... describe --status/--replication` and Admin.describeMetadataQuorum send to a broker. Kafka's brokers
 * forward it whole to the active controller (KafkaApis: DESCRIBE_QUORUM => forwardToController), whose Raft
 * leader answers for `__cluster_metadata-0`; so does this node, at the client's own version, through the
 * controller channel (a controller that is no longer the leader answers NOT_LEADER_OR_FOLLOWER for the
 * partition, and the channel tries the next one).
 * - No controller answered within the request timeout: REQUEST_TIMED_OUT, as Kafka's forwarding gives
 *   (UNKNOWN_SERVER_ERROR for any other failure), with the reason in errorMessage (v2).
 * - A single node (no controller.quorum.voters) is a quorum of one: it describes itself as leader and only
 *   voter.
 */
import { ErrorCode } from '../../protocol/errors.js';
import { DescribeQuorum } from '../../protocol/messages/describe-quorum.js';
import { ControllerUnavailableError } from '../broker/controller-channel.js';
import { defineHandler } from './types.js';

export const describeQuorumHandler = defineHandler(DescribeQuorum, {
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const kraft = ctx.broker.kraft;
    const error = (errorCode: number, errorMessage: string) => ({ errorCode, errorMessage, topics: [], nodes: [] });
    try {
      const { response } = await kraft.channel.send(DescribeQuorum, req, {
        version: ctx.apiVersion,
        deadlineMs: kraft.requestTimeoutMs,
        notController: (r) => r.topics.some((t) => t.partitions.some((p) => p.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER)),
      });
      return response;
    } catch (err) {
      ctx.logger.warn({ err }, 'forwarding DescribeQuorum to the controller failed');
      return error(err instanceof ControllerUnavailableError ? ErrorCode.REQUEST_TIMED_OUT : ErrorCode.UNKNOWN_SERVER_ERROR, (err as Error).message);
    }
  },
});
