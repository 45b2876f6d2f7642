/**
 * BrokerRegistration (key 62): a KRaft broker announces itself to the active controller on start (KIP-631),
 * on the controller listener; the controller writes a RegisterBrokerRecord and answers with the broker epoch
 * (that record's offset). Kafka 4.4 spec (versions 0-4), flexible from v0.
 * - v1 adds isMigratingZkBroker (KIP-866); v2 the broker's log directory ids (KIP-858); v3
 *   previousBrokerEpoch, so a cleanly restarted broker keeps its epoch (KIP-966).
 * - v4 changes no field: from v4 the features list also carries features whose minSupportedVersion is 0.
 */
import { api, message } from '../schema.js';

export const BrokerRegistrationRequest = message({
  name: 'BrokerRegistrationRequest',
  apiKey: 62,
  type: 'request',
  validVersions: '0-4',
  flexibleVersions: '0+',
  fields: [
    { name: 'brokerId', type: 'int32', versions: '0+' },
    { name: 'clusterId', type: 'string', versions: '0+' },
    { name: 'incarnationId', type: 'uuid', versions: '0+', about: 'unique to each run of the broker process' },
    {
      name: 'listeners', type: '[]Listener', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'port', type: 'uint16', versions: '0+' },
        { name: 'securityProtocol', type: 'int16', versions: '0+' },
      ],
    },
    {
      name: 'features', type: '[]Feature', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'minSupportedVersion', type: 'int16', versions: '0+' },
        { name: 'maxSupportedVersion', type: 'int16', versions: '0+' },
      ],
    },
    { name: 'rack', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'isMigratingZkBroker', type: 'bool', versions: '1+', default: false },
    { name: 'logDirs', type: '[]uuid', versions: '2+', ignorable: true },
    { name: 'previousBrokerEpoch', type: 'int64', versions: '3+', ignorable: true, default: -1, about: 'the epoch before a clean shutdown' },
  ],
});

export const BrokerRegistrationResponse = message({
  name: 'BrokerRegistrationResponse',
  apiKey: 62,
  type: 'response',
  validVersions: '0-4',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'brokerEpoch', type: 'int64', versions: '0+', default: -1, about: '-1 if none was assigned' },
  ],
});

export const BrokerRegistration = api('BrokerRegistration', BrokerRegistrationRequest, BrokerRegistrationResponse);
