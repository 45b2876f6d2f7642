/**
 * InitProducerId (22), versions 0-4. Hands out the producer id and epoch of an idempotent or transactional
 * producer (KIP-98); src/broker/producer-ids.ts keeps the state, src/broker/producer-state.ts checks the
 * batches. As Kafka's KafkaApis.handleInitProducerIdRequest and TransactionCoordinator.handleInitProducerId:
 * - (producerId, producerEpoch) must be both -1 or both set (v3+, KIP-360), else INVALID_REQUEST.
 * - transactionalId null (idempotent producer): always a fresh producer id with epoch 0, whatever producer
 *   id and epoch the request carries. Kafka does the same: an idempotent producer bumps its own epoch
 *   locally after an error (KIP-360), and asks for a new id only when it must.
 * - transactionalId "" is INVALID_REQUEST; a transaction timeout <= 0 or above transaction.max.timeout.ms
 *   is INVALID_TRANSACTION_TIMEOUT.
 * - a transactional id keeps its producer id; every InitProducerId bumps its epoch, fencing older
 *   instances (a new producer id once the epoch is exhausted). With the request's current id and epoch
 *   (v3+), an unknown or stale pair is PRODUCER_FENCED (v4+, KIP-588), INVALID_PRODUCER_EPOCH below v4.
 * - A state write failure is COORDINATOR_NOT_AVAILABLE, which clients retry.
 * Not implemented: transactions. AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and TxnOffsetCommit are not
 * advertised, so a transactional producer initialises but fails at its first transaction. v5
 * (TRANSACTION_ABORTABLE, KIP-890) is not advertised.
 */
import { InitProducerId } from '../../protocol/messages/init-producer-id.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from './types.js';

export const initProducerIdHandler = defineHandler(InitProducerId, {
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req) {
    const answer = (errorCode: number, producerId = -1n, producerEpoch = -1) => ({ throttleTimeMs: 0, errorCode, producerId, producerEpoch });
    const producerId = Number(req.producerId);
    const producerEpoch = req.producerEpoch;
    if ((producerId === -1) !== (producerEpoch === -1)) return answer(ErrorCode.INVALID_REQUEST);
    const expected = producerId === -1 ? null : { producerId, producerEpoch };
    const manager = ctx.broker.producerIds;
    try {
      if (req.transactionalId === null) {
        return answer(ErrorCode.NONE, BigInt(await manager.generateProducerId()), 0);
      }
      if (req.transactionalId === '') return answer(ErrorCode.INVALID_REQUEST);
      const maxTimeoutMs = Number(ctx.broker.config.props.get('transaction.max.timeout.ms') ?? 900000);
      if (req.transactionTimeoutMs <= 0 || req.transactionTimeoutMs > maxTimeoutMs) return answer(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
      const r = await manager.initTransactional(req.transactionalId, req.transactionTimeoutMs, expected);
      if (r.errorCode === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 4) return answer(ErrorCode.INVALID_PRODUCER_EPOCH);
      if (r.errorCode !== ErrorCode.NONE) return answer(r.errorCode);
      return answer(ErrorCode.NONE, BigInt(r.producerId), r.producerEpoch);
    } catch (err) {
      ctx.logger.error({ err }, 'InitProducerId: writing producer id state failed');
      return answer(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  },
});
