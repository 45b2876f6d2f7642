/**
 * AllocateProducerIds (key 67): a broker's transaction coordinator asks the active controller for a block
 * of producer ids (KIP-730), on the controller listener; the controller writes a ProducerIdsRecord, so
 * producer ids stay unique across the cluster. Kafka 4.4 spec (version 0), flexible from v0.
 */
import { api, message } from '../schema.js';

export const AllocateProducerIdsRequest = message({
  name: 'AllocateProducerIdsRequest',
  apiKey: 67,
  type: 'request',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'brokerId', type: 'int32', versions: '0+' },
    { name: 'brokerEpoch', type: 'int64', versions: '0+', default: -1 },
  ],
});

export const AllocateProducerIdsResponse = message({
  name: 'AllocateProducerIdsResponse',
  apiKey: 67,
  type: 'response',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'producerIdStart', type: 'int64', versions: '0+', about: 'the first producer id of the block, inclusive' },
    { name: 'producerIdLen', type: 'int32', versions: '0+' },
  ],
});

export const AllocateProducerIds = api('AllocateProducerIds', AllocateProducerIdsRequest, AllocateProducerIdsResponse);
