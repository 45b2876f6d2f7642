/**
 * FindCoordinator (10), versions 0-4.
 * - A consumer group's (keyType 0) coordinator is the leader of its `__consumer_offsets` partition;
 *   COORDINATOR_NOT_AVAILABLE while it has none. A transactional id (keyType 1, KIP-98) is coordinated by
 *   the node asked. Any other key type is INVALID_REQUEST.
 * - As in Kafka, the first group lookup creates `__consumer_offsets` (offsets.topic.num.partitions
 *   partitions, compacted); if that fails the answer is COORDINATOR_NOT_AVAILABLE and the client retries.
 * - v4 batches keys (KIP-699): one coordinator entry per key; v0-3 answer the single key at top level.
 * - v0 must stay advertised: librdkafka enables consumer groups only when it sees it.
 * - Not advertised: v5 (TRANSACTION_ABORTABLE, KIP-890) and v6 (share groups, KIP-932).
 */
import { FindCoordinator } from '../../protocol/messages/find-coordinator.js';
import { ErrorCode, errorInfo } from '../../protocol/errors.js';
import { OFFSETS_TOPIC } from '../group/coordinator-records.js';
import { defineHandler, type RequestContext } from './types.js';

const GROUP_KEY = 0;
const TRANSACTION_KEY = 1;

interface Answer {
  key: string;
  nodeId: number;
  host: string;
  port: number;
  errorCode: number;
  errorMessage: string | null;
}

async function locate(ctx: RequestContext, key: string, keyType: number): Promise<Answer> {
  const fail = (errorCode: number, errorMessage: string): Answer => ({ key, nodeId: -1, host: '', port: -1, errorCode, errorMessage });
  if (keyType !== GROUP_KEY && keyType !== TRANSACTION_KEY) return fail(ErrorCode.INVALID_REQUEST, `Unknown coordinator key type ${keyType}`);
  if (keyType === GROUP_KEY) {
    try {
      await ctx.broker.groupCoordinator.ensureStorage();
    } catch (err) {
      ctx.logger.warn({ err }, 'creating __consumer_offsets failed');
      return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, errorInfo(ErrorCode.COORDINATOR_NOT_AVAILABLE).message);
    }
  }
  if (keyType === GROUP_KEY) {
    // The coordinator is the leader of the group's __consumer_offsets partition (Kafka's
    // KafkaApis.getCoordinator); without one, COORDINATOR_NOT_AVAILABLE and the client asks again.
    const image = ctx.broker.image;
    const registration = image.partition(OFFSETS_TOPIC, ctx.broker.groupCoordinator.partitionFor(key));
    const leader = registration && registration.leader >= 0 ? image.brokers.get(registration.leader) : undefined;
    if (!leader) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, errorInfo(ErrorCode.COORDINATOR_NOT_AVAILABLE).message);
    return { key, nodeId: leader.nodeId, host: leader.host, port: leader.port, errorCode: ErrorCode.NONE, errorMessage: null };
  }
  const { host, port } = ctx.broker.advertised;
  return { key, nodeId: ctx.broker.nodeId, host, port, errorCode: ErrorCode.NONE, errorMessage: null };
}

export const findCoordinatorHandler = defineHandler(FindCoordinator, {
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req) {
    if (ctx.apiVersion >= 4) {
      const coordinators = [];
      for (const key of req.coordinatorKeys) coordinators.push(await locate(ctx, key, req.keyType));
      return { throttleTimeMs: 0, coordinators };
    }
    const a = await locate(ctx, req.key, req.keyType);
    return { throttleTimeMs: 0, errorCode: a.errorCode, errorMessage: a.errorMessage, nodeId: a.nodeId, host: a.host, port: a.port };
  },
});
