/**
 * UnregisterBrokerRecord (metadata record type 1): a broker's registration is removed (KIP-631; written
 * when an operator unregisters a broker, or when a new incarnation replaces an old one). Kafka 4.4 spec,
 * version 0, flexible.
 */
import { message } from '../schema.js';

export const UnregisterBrokerRecord = message({
  name: 'UnregisterBrokerRecord',
  apiKey: 1,
  type: 'metadata',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'brokerId', type: 'int32', versions: '0+' },
    { name: 'brokerEpoch', type: 'int64', versions: '0+' },
  ],
});
