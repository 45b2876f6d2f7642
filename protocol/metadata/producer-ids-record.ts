/**
 * ProducerIdsRecord (metadata record type 15): a block of producer ids is handed to a broker
 * (AllocateProducerIds, KIP-730), so ids stay unique across the cluster. nextProducerId is the first id of
 * the next block. Kafka 4.4 spec, version 0, flexible.
 */
import { message } from '../schema.js';

export const ProducerIdsRecord = message({
  name: 'ProducerIdsRecord',
  apiKey: 15,
  type: 'metadata',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'brokerId', type: 'int32', versions: '0+', about: 'the requesting broker' },
    { name: 'brokerEpoch', type: 'int64', versions: '0+', default: -1n },
    { name: 'nextProducerId', type: 'int64', versions: '0+' },
  ],
});
