/**
 * InitProducerId (key 22): hands out a producer id and epoch to idempotent and transactional producers
 * (KIP-98). Kafka 3.9 spec (versions 0-5). librdkafka needs v0 advertised to enable idempotence.
 * - v1 answers before throttling (KIP-219); v2 is the first flexible version (KIP-482).
 * - v3 lets a producer pass its current producer id and epoch to resume after INVALID_PRODUCER_EPOCH
 *   (KIP-360); v4 may return PRODUCER_FENCED (KIP-588); v5 may return TRANSACTION_ABORTABLE (KIP-890).
 */
import { api, message } from '../schema.js';

export const InitProducerIdRequest = message({
  name: 'InitProducerIdRequest',
  apiKey: 22,
  type: 'request',
  validVersions: '0-5',
  flexibleVersions: '2+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '3+', default: -1 },
    { name: 'producerEpoch', type: 'int16', versions: '3+', default: -1 },
  ],
});

export const InitProducerIdResponse = message({
  name: 'InitProducerIdResponse',
  apiKey: 22,
  type: 'response',
  validVersions: '0-5',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+', default: -1 },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
  ],
});

export const InitProducerId = api('InitProducerId', InitProducerIdRequest, InitProducerIdResponse);
