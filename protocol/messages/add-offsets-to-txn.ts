/**
 * AddOffsetsToTxn (key 25): a transactional producer adds a consumer group's offsets topic partition to
 * its transaction, before TxnOffsetCommit (KIP-98). Kafka 3.9 spec (versions 0-4).
 * - v1 answers before throttling (KIP-219); v2 may return PRODUCER_FENCED (KIP-588); v3 is the first
 *   flexible version (KIP-482); v4 may return TRANSACTION_ABORTABLE (KIP-890).
 */
import { api, message } from '../schema.js';

export const AddOffsetsToTxnRequest = message({
  name: 'AddOffsetsToTxnRequest',
  apiKey: 25,
  type: 'request',
  validVersions: '0-4',
  flexibleVersions: '3+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'groupId', type: 'string', versions: '0+' },
  ],
});

export const AddOffsetsToTxnResponse = message({
  name: 'AddOffsetsToTxnResponse',
  apiKey: 25,
  type: 'response',
  validVersions: '0-4',
  flexibleVersions: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ],
});

export const AddOffsetsToTxn = api('AddOffsetsToTxn', AddOffsetsToTxnRequest, AddOffsetsToTxnResponse);
