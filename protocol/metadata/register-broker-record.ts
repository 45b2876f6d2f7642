/**
 * RegisterBrokerRecord (metadata record type 0): the active controller registers a broker (KIP-631), from
 * its BrokerRegistration request. Kafka 4.4 spec, versions 0-4, flexible from v0.
 * - v1 adds inControlledShutdown; v2 isMigratingZkBroker (KIP-866); v3 the tagged logDirs (KIP-858);
 *   v4 the tagged, nullable cordonedLogDirs.
 * - A broker starts fenced (default true) and is unfenced by a later record once it has caught up.
 */
import { message } from '../schema.js';

export const RegisterBrokerRecord = message({
  name: 'RegisterBrokerRecord',
  apiKey: 0,
  type: 'metadata',
  validVersions: '0-4',
  flexibleVersions: '0+',
  fields: [
    { name: 'brokerId', type: 'int32', versions: '0+' },
    { name: 'isMigratingZkBroker', type: 'bool', versions: '2+', default: false },
    { name: 'incarnationId', type: 'uuid', versions: '0+', about: 'the incarnation id of the broker process' },
    { name: 'brokerEpoch', type: 'int64', versions: '0+', about: 'assigned by the controller' },
    {
      name: 'endPoints', type: '[]BrokerEndpoint', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+', about: 'the listener name' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'port', type: 'uint16', versions: '0+' },
        { name: 'securityProtocol', type: 'int16', versions: '0+' },
      ],
    },
    {
      name: 'features', type: '[]BrokerFeature', versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'minSupportedVersion', type: 'int16', versions: '0+' },
        { name: 'maxSupportedVersion', type: 'int16', versions: '0+' },
      ],
    },
    { name: 'rack', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'fenced', type: 'bool', versions: '0+', default: true },
    { name: 'inControlledShutdown', type: 'bool', versions: '1+', default: false },
    { name: 'logDirs', type: '[]uuid', versions: '3+', taggedVersions: '3+', tag: 0 },
    { name: 'cordonedLogDirs', type: '[]uuid', versions: '4+', taggedVersions: '4+', tag: 1, nullableVersions: '4+', default: null },
  ],
});
