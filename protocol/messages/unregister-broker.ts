/**
 * UnregisterBroker (key 64): removes a broker's registration (KIP-500's `kafka-cluster.sh unregister`),
 * sent by an admin client to a broker, which forwards it to the active controller; the controller writes an
 * UnregisterBrokerRecord. Kafka 4.4 spec (version 0), flexible from v0.
 */
import { api, message } from '../schema.js';

export const UnregisterBrokerRequest = message({
  name: 'UnregisterBrokerRequest',
  apiKey: 64,
  type: 'request',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [{ name: 'brokerId', type: 'int32', versions: '0+' }],
});

export const UnregisterBrokerResponse = message({
  name: 'UnregisterBrokerResponse',
  apiKey: 64,
  type: 'response',
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
  ],
});

export const UnregisterBroker = api('UnregisterBroker', UnregisterBrokerRequest, UnregisterBrokerResponse);
